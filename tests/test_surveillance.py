"""Surveillance notices and records, written through the one document stage."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from certdocs.pipeline import Issuer, IssueRequest, Workspace
from certdocs.register import Register
from certdocs.surveillance import due_list, write_notices
from certdocs.testing import FakeConverter
from tests.issued import IssuedFolders

ROOT = Path(__file__).resolve().parent.parent
ISSUED = date(2026, 11, 22)
LATER = date(2027, 10, 1)


def _workspace(folder: Path) -> Workspace:
    return Workspace(output=folder / "out", register=folder / "r.sqlite3", templates=ROOT / "templates")


def _issue_two(folder: Path) -> None:
    workspace = _workspace(folder)
    audits = []
    for scheme in ("xbht-s04-2025", "bz-ts1008-2025"):
        audits.append(folder / f"{scheme}.json")
        shutil.copy(ROOT / "fixtures" / scheme / "pass.json", audits[-1])
    with Register.open(workspace.register) as register:
        Issuer(workspace, converter=FakeConverter(), register=register, today=ISSUED).issue(
            [IssueRequest(a, "第47次", date(2026, 11, 20), ISSUED) for a in audits]
        )


@pytest.fixture
def ws(tmp_path: Path, issued_folders: IssuedFolders) -> Workspace:
    """Two certificates issued on ISSUED (the register beside the output, the audits copied in)."""
    return _workspace(issued_folders.copy("surveillance", tmp_path, _issue_two))


def notices(ws: Workspace):  # type: ignore[no-untyped-def]
    with Register.open(ws.register) as register:
        items = due_list(register, today=LATER, within=400)
        return write_notices(items, workspace=ws, register=register, converter=FakeConverter(), today=LATER)


def test_a_notice_is_written_and_recorded_for_each_certificate_due(ws: Workspace) -> None:
    assert sorted(notices(ws).written) == ["BZ-SC-2026-0001", "XBHT-SH-2026-0001"]


def test_a_notice_that_cannot_be_built_fails_alone(ws: Workspace) -> None:
    (ws.output.parent / "bz-ts1008-2025.json").unlink()
    result = notices(ws)
    assert list(result.written) == ["XBHT-SH-2026-0001"]
    assert list(result.failed) == ["BZ-SC-2026-0001"]


def test_a_notice_libreoffice_cannot_convert_fails_alone(ws: Workspace) -> None:
    from tests.test_documents_stage import _Refuses

    with Register.open(ws.register) as register:
        items = due_list(register, today=LATER, within=400)
        name = next(i.record.facts.organization_name for i in items if i.record.number == "BZ-SC-2026-0001")
        result = write_notices(items, workspace=ws, register=register, converter=_Refuses(name), today=LATER)
        recorded = {d.kind for d in register.documents_of("BZ-SC-2026-0001")}
    assert (list(result.written), list(result.failed)) == (["XBHT-SH-2026-0001"], ["BZ-SC-2026-0001"])
    assert "surveillance_notice-1.pdf" not in recorded
