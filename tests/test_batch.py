"""Batch issuing after a decision meeting: formats, idempotence, SIGKILL, concurrent runs."""

from __future__ import annotations

import csv
import json
import signal
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from certdocs._fs import sha256_file
from certdocs.batch import run_batch
from certdocs.cli import main
from certdocs.decisions import load_meeting
from certdocs.errors import DecisionError
from certdocs.pipeline import Issuer, Workspace
from certdocs.register import Register
from certdocs.testing import FakeConverter
from tests import batch_driver
from tests.forkserver import CONTEXT
from tests.issued import IssuedFolders

ROOT = Path(__file__).resolve().parent.parent
MEETING = ROOT / "fixtures" / "decisions" / "2026-47.json"
TODAY = date(2026, 11, 22)


def run(decisions: Path, output: Path, **kw: Any) -> dict[str, Any]:
    ws = Workspace(output=output, register=output / "register.sqlite3", templates=ROOT / "templates")
    meeting = load_meeting(decisions, **kw)
    with Register.open(ws.register) as register:
        issuer = Issuer(ws, converter=FakeConverter(), register=register, today=TODAY)
        return run_batch(meeting, issuer=issuer, register=register).to_json()


def numbers_in(output: Path) -> list[str]:
    with Register.open(output / "register.sqlite3") as register:
        return sorted(r.number for r in register.list(today=TODAY))


_MEETING_RUN: dict[str, Any] = {}  # the summary of the shared run of MEETING, once per test process


def _issue_meeting(folder: Path) -> None:
    _MEETING_RUN.update(run(MEETING, folder / "out"))


@pytest.fixture
def issued_meeting(issued_folders: IssuedFolders, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A copy of the output folder of one run of MEETING (own to the test), and that run's summary."""
    issued_folders.copy("batch-meeting-47", tmp_path, _issue_meeting)
    return tmp_path / "out", _MEETING_RUN


def test_the_meeting_issues_approved_and_records_the_rest(issued_meeting: tuple[Path, dict[str, Any]]) -> None:
    out, summary = issued_meeting
    assert len(summary["issued"]) == 6
    assert not summary["failed"]
    skipped = summary["skipped"]
    assert len(skipped) == 2
    assert {s["reason"][:4] for s in skipped} == {"不予批准", "暂缓决定"}
    first = summary["issued"][0]
    assert set(first) == {"audit", "certificate_no", "grade", "documents", "issue_pack"}
    assert set(first["documents"]) == {"audit_plan", "scoresheet", "report", "certificate"}
    with Register.open(out / "register.sqlite3") as register:
        decisions = register.decisions_of("2026年第47次认证决定会议")
    assert len(decisions) == 8
    assert {d.decision for d in decisions} == {"approve", "reject", "defer"}


def _as_csv(tmp_path: Path) -> Path:
    doc = json.loads(MEETING.read_text(encoding="utf-8"))
    path = MEETING.parent / "2026-47.csv"
    rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["audit"] for r in rows] == [d["audit"] for d in doc["decisions"]]
    return path


def _as_xlsx(tmp_path: Path) -> Path:
    from openpyxl import Workbook

    doc = json.loads(MEETING.read_text(encoding="utf-8"))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["audit", "decision", "issue_date", "reason"])
    for d in doc["decisions"]:
        sheet.append([d["audit"], d["decision"], d.get("issue_date"), d.get("reason")])
    path = _decisions_folder(tmp_path) / "2026-47.xlsx"
    book.save(path)
    return path


def _decisions_folder(tmp_path: Path) -> Path:
    """A folder standing for fixtures/decisions: a test's meeting file written there reads its
    audit paths (relative to the file's folder) as written, and finds the fixture audits.

    Never beside the fixture itself: a killed run would leave its file in the source tree.
    """
    view = tmp_path / "fixtures"
    folder = view / MEETING.parent.name
    folder.mkdir(parents=True, exist_ok=True)
    for sibling in MEETING.parent.parent.iterdir():
        if sibling.is_dir() and sibling != MEETING.parent and not (view / sibling.name).exists():
            (view / sibling.name).symlink_to(sibling, target_is_directory=True)
    return folder


def test_csv_and_xlsx_give_the_same_meeting_as_json(tmp_path: Path) -> None:
    # The batch reads nothing of a meeting but its name, date and decisions: the same three
    # give the same batch (the JSON meeting's run is checked above, the xlsx one's below).
    name, day = "2026年第47次认证决定会议", date(2026, 11, 20)
    expected = load_meeting(MEETING)
    from_csv = load_meeting(_as_csv(tmp_path), meeting=name, meeting_date=day)
    from_xlsx = load_meeting(_as_xlsx(tmp_path), meeting=name, meeting_date=day)
    assert (from_csv.name, from_csv.date, from_csv.decisions) == (expected.name, expected.date, expected.decisions)
    assert (from_xlsx.name, from_xlsx.date, from_xlsx.decisions) == (expected.name, expected.date, expected.decisions)


def test_a_meeting_given_as_xlsx_issues_as_the_same_meeting_as_json(
    tmp_path: Path, issued_meeting: tuple[Path, dict[str, Any]]
) -> None:
    _, expected = issued_meeting
    as_of = {"meeting": "2026年第47次认证决定会议", "meeting_date": date(2026, 11, 20)}
    from_xlsx = run(_as_xlsx(tmp_path), tmp_path / "xlsx", **as_of)

    def essence(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
        return [(i["audit"], i["certificate_no"], i["grade"]) for i in summary["issued"]]

    assert essence(from_xlsx) == essence(expected)
    assert from_xlsx["skipped"] == expected["skipped"]


def test_running_the_same_meeting_again_issues_and_rewrites_nothing(
    issued_meeting: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = issued_meeting
    files = {p: (p.stat().st_mtime_ns, sha256_file(p)) for p in out.rglob("*.pdf")}
    again = run(MEETING, out)
    assert again["issued"] == []
    assert len(again["skipped"]) == 8
    assert {p: (p.stat().st_mtime_ns, sha256_file(p)) for p in out.rglob("*.pdf")} == files
    assert len(numbers_in(out)) == 6


def test_every_bad_record_is_reported_before_anything_is_issued(tmp_path: Path) -> None:
    bad = tmp_path / "m.json"
    bad.write_text(
        json.dumps(
            {
                "meeting": "第1次",
                "date": "2026-11-20",
                "decisions": [
                    {"audit": "nope.json", "decision": "approve"},
                    {"audit": str(MEETING.parent / "../fw01-2021/pass.json"), "decision": "maybe"},
                    {"audit": str(MEETING.parent / "../fw01-2021/fail.json"), "decision": "reject"},
                    {
                        "audit": str(MEETING.parent / "../fw01-2021/exclusions.json"),
                        "decision": "approve",
                        "issue_date": "2026-11-19",
                    },
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    with pytest.raises(DecisionError) as info:
        load_meeting(bad)
    wheres = [p.where for p in info.value.problems]
    assert wheres == ["decisions[0].audit", "decisions[1].decision", "decisions[2].reason", "decisions[3].issue_date"]
    result = CliRunner().invoke(main, ["batch", str(bad), "--output", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()


def test_a_failing_record_is_reported_and_the_rest_still_issue(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    doc = json.loads((ROOT / "fixtures" / "fw01-2021" / "pass.json").read_text(encoding="utf-8"))
    doc["organization"]["uscc"] = "91330106MA2CFXY801"
    broken.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    meeting = tmp_path / "m.json"
    meeting.write_text(
        json.dumps(
            {
                "meeting": "第2次",
                "date": "2026-11-20",
                "decisions": [
                    {"audit": "broken.json", "decision": "approve"},
                    {"audit": str(ROOT / "fixtures/bjkb-006-2026/pass.json"), "decision": "approve"},
                ],
            }
        ),
        encoding="utf-8",
    )
    summary = run(meeting, tmp_path / "out")
    assert len(summary["issued"]) == 1
    assert len(summary["failed"]) == 1
    assert "organization.uscc" in summary["failed"][0]["errors"][0]


def _driver(
    decisions: Path, output: Path, delay: float, *, moment: batch_driver.Moment | None = None, together: Any = None
) -> batch_driver.Run:
    log = output.parent / f"driver-{time.monotonic_ns()}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    return batch_driver.start(decisions, output, delay, log=log, moment=moment, together=together)


def _logs(output: Path) -> str:
    logs = sorted(output.parent.glob("driver-*.log"))
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in logs)


def _check_consistent(output: Path) -> None:
    """Numbers unique and gapless per series; every recorded file whole; no temporary files left."""
    with Register.open(output / "register.sqlite3") as register:
        held = register.pending_reservations()
        issued = register.list(today=TODAY)
        serials: dict[str, list[int]] = {}
        for r in [*issued]:
            serials.setdefault(r.series, []).append(r.serial)
        for h in held:
            serials.setdefault(h.series, []).append(h.serial)
        for series, found in serials.items():
            assert sorted(found) == list(range(1, len(found) + 1)), series
        for r in issued:
            for d in r.documents:
                assert sha256_file(Path(d.path)) == d.sha256, d.path
    # A killed run's private staging folder may hold half-written files until the next run
    # removes it; the files people and the register see are always whole.
    assert not [p for p in output.rglob("*.part") if not any(q.name.startswith(".staging-") for q in p.parents)]


# Moments a run reports, to kill it at: its register holding the first reserved number (the other
# audits still being read and reserved), its Word files half rendered, and the first and a middle
# set being finished (PDFs normalised, the pack merged, files placed, the register completed).
# The kill lands just after the moment, inside the step that follows it.
KILL_MOMENTS = {
    "reserving": (batch_driver.RESERVED, 1),
    "rendering": ("生成 Word 文件", 3),
    "finishing-the-first": ("合并发证资料包并登记", 0),
    "finishing-the-third": ("合并发证资料包并登记", 2),
}


@pytest.mark.slow
@pytest.mark.parametrize("moment", KILL_MOMENTS.values(), ids=KILL_MOMENTS.keys())
def test_a_batch_killed_at_any_moment_finishes_on_the_next_run(tmp_path: Path, moment: tuple[str, int]) -> None:
    out = tmp_path / "out"
    proc = _driver(MEETING, out, 0, moment=moment)
    assert proc.reached(), _logs(out)
    proc.kill()
    assert proc.wait() == -signal.SIGKILL  # killed in the middle of its work, not after it
    _check_consistent(out)
    assert _driver(MEETING, out, 0).wait() == 0, _logs(out)
    _check_consistent(out)
    assert len(numbers_in(out)) == 6
    assert not list(out.glob(".staging-*"))
    complete = run(MEETING, out)
    assert complete["issued"] == []


@pytest.mark.slow
def test_two_batches_at_once_never_share_or_skip_a_number(tmp_path: Path) -> None:
    out = tmp_path / "out"
    halves = []
    doc = json.loads(MEETING.read_text(encoding="utf-8"))
    for n, part in enumerate((doc["decisions"][:4], doc["decisions"][4:])):
        path = _decisions_folder(tmp_path) / f"half{n}.json"
        path.write_text(json.dumps({**doc, "decisions": part}, ensure_ascii=False), encoding="utf-8")
        halves.append(path)
    # Not slowed down: the two runs wait for each other before they begin and before each records its first set.
    together = CONTEXT.Barrier(len(halves))
    procs = [_driver(h, out, 0, together=together) for h in halves]
    assert [p.wait() for p in procs] == [0, 0], _logs(out)
    _check_consistent(out)
    assert len(numbers_in(out)) == 6


def _one(tmp_path: Path, name: str, day: str, decision: str) -> Path:
    path = tmp_path / f"{name}.json"
    record = {"audit": str(ROOT / "fixtures/bjkb-006-2026/pass.json"), "decision": decision}
    if decision != "approve":
        record["reason"] = "复核发现证据不足"
    path.write_text(json.dumps({"meeting": name, "date": day, "decisions": [record]}, ensure_ascii=False), "utf-8")
    return path


def test_a_later_rejection_of_an_issued_audit_names_the_withdrawal_to_make(tmp_path: Path) -> None:
    first = run(_one(tmp_path, "第47次", "2026-11-20", "approve"), tmp_path / "out")
    number = first["issued"][0]["certificate_no"]
    later = run(_one(tmp_path, "第48次", "2026-11-21", "reject"), tmp_path / "out")
    assert later["actions"][0]["action"].startswith(f"certdocs register withdraw {number}")


def test_a_later_rejection_of_an_issued_audit_exits_1(tmp_path: Path) -> None:
    run(_one(tmp_path, "第47次", "2026-11-20", "approve"), tmp_path / "out")
    with pytest.MonkeyPatch.context() as mp:
        from certdocs.cli import _app

        mp.setattr(_app, "today", lambda: TODAY)
        mp.setattr(_app, "LibreOfficeConverter", FakeConverter)
        result = CliRunner().invoke(
            main, ["batch", str(_one(tmp_path, "第48次", "2026-11-21", "reject")), "--output", str(tmp_path / "out")]
        )
    assert (result.exit_code, "certdocs register withdraw" in result.output) == (1, True)


def test_a_rejection_of_an_audit_never_issued_needs_no_action(tmp_path: Path) -> None:
    later = run(_one(tmp_path, "第48次", "2026-11-21", "reject"), tmp_path / "out")
    assert "actions" not in later


def test_an_approved_audit_that_does_not_pass_makes_the_batch_fail(tmp_path: Path) -> None:
    meeting = tmp_path / "m.json"
    record = {"audit": str(ROOT / "fixtures/bjkb-006-2026/veto.json"), "decision": "approve"}
    meeting.write_text(json.dumps({"meeting": "第3次", "date": "2026-11-20", "decisions": [record]}), "utf-8")
    ws = Workspace(output=tmp_path / "out", register=tmp_path / "r.sqlite3", templates=ROOT / "templates")
    with Register.open(ws.register) as register:
        issuer = Issuer(ws, converter=FakeConverter(), register=register, today=TODAY)
        summary = run_batch(load_meeting(meeting), issuer=issuer, register=register)
    assert (summary.failed, len(summary.to_json()["failed"])) == (True, 1)
