"""Status changes and their letters: register, letter (Word and PDF), site, ended suspensions."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from certdocs import cli
from certdocs.cli import _app
from certdocs.convert import Converter
from certdocs.errors import CertdocsError, ConversionError, DocumentError, Problem, RegisterError, TemplateError
from certdocs.letters import StatusOutcome, change_status, ended_suspensions, rewrite_letter
from certdocs.pdf import page_count, pdf_text
from certdocs.pipeline import Issuer, IssueRequest, Workspace
from certdocs.register import Register, Status
from certdocs.testing import FakeConverter, docx_text
from tests.issued import IssuedFolders
from tests.libreoffice import LentConverter

ROOT = Path(__file__).resolve().parent.parent
AUDIT = ROOT / "fixtures" / "bz-ts1008-2025" / "pass.json"
ISSUED = date(2026, 11, 22)
ON = date(2027, 12, 1)
NUMBER = "BZ-SC-2026-0001"


def _workspace(folder: Path) -> Workspace:
    out = folder / "out"
    return Workspace(output=out, register=out / "register.sqlite3", templates=ROOT / "templates")


def _issue_one(folder: Path) -> None:
    workspace = _workspace(folder)
    with Register.open(workspace.register) as register:
        (outcome,) = Issuer(workspace, converter=FakeConverter(), register=register, today=ISSUED).issue(
            [IssueRequest(AUDIT, "2026年第47次认证决定会议", date(2026, 11, 20), ISSUED)]
        )
    assert outcome.number == NUMBER


@pytest.fixture
def ws(tmp_path: Path, issued_folders: IssuedFolders) -> Workspace:
    """NUMBER issued on ISSUED, the register inside the output folder."""
    return _workspace(issued_folders.copy("letters", tmp_path, _issue_one))


@pytest.fixture
def register(ws: Workspace) -> Iterator[Register]:
    with Register.open(ws.register) as reg:
        yield reg


def change(
    ws: Workspace,
    register: Register,
    action: str,
    *,
    on: date = ON,
    until: date | None = None,
    converter: Converter | None = None,
    reason: str = "监督审核逾期未进行",
) -> StatusOutcome:
    return change_status(
        action,
        NUMBER,
        reason=reason,
        actor="李文",
        on=on,
        until=until,
        workspace=ws,
        register=register,
        converter=converter or FakeConverter(),
        today=on,
    )


def text_of(path: Path) -> str:
    return re.sub(r"\s+", "", "".join(docx_text(path)))


def files(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


# -- the letter is written and recorded ---------------------------------------------------------------


def test_a_suspension_writes_its_letter_as_word_and_pdf_in_the_certificates_folder(
    ws: Workspace, register: Register
) -> None:
    change(ws, register, "suspend")
    folder = ws.output / NUMBER
    assert {"letter_suspension-1.docx", "letter_suspension-1.pdf"} <= files(folder)


def test_the_letter_is_recorded_against_the_certificate(ws: Workspace, register: Register) -> None:
    change(ws, register, "suspend")
    kinds = {d.kind for d in register.documents_of(NUMBER)}
    assert {"letter_suspension-1.docx", "letter_suspension-1.pdf"} <= kinds


def test_the_suspension_letter_states_certificate_decision_reason_period_duties_and_appeal(
    ws: Workspace, register: Register
) -> None:
    change(ws, register, "suspend")
    text = text_of(ws.output / NUMBER / "letter_suspension-1.docx")
    for fact in (
        "认证证书暂停通知书",
        "致：四川蜀联家电连锁有限公司",
        f"证书编号：{NUMBER}",
        "决定自2027年12月1日起暂停贵组织的认证证书",
        "监督审核逾期未进行",
        "2027年12月1日至2028年5月31日（最长6个月）",
        "不得使用认证证书和认证标志",
        "30日内向本机构提出书面申诉",
    ):
        assert fact in text, fact


def test_a_suspension_lasts_the_bodys_maximum_unless_told_otherwise(ws: Workspace, register: Register) -> None:
    change(ws, register, "suspend")
    assert register.get(NUMBER, today=ON).history[-1].until == date(2028, 5, 31)


def test_a_shorter_suspension_is_kept(ws: Workspace, register: Register) -> None:
    change(ws, register, "suspend", until=date(2028, 3, 1))
    assert register.get(NUMBER, today=ON).history[-1].until == date(2028, 3, 1)
    assert "2027年12月1日至2028年3月1日" in text_of(ws.output / NUMBER / "letter_suspension-1.docx")


def test_a_suspension_longer_than_the_bodys_maximum_is_refused_and_nothing_is_written(
    ws: Workspace, register: Register
) -> None:
    before = files(ws.output)
    with pytest.raises(CertdocsError, match="最长暂停期 6 个月") as caught:
        change(ws, register, "suspend", until=date(2028, 6, 1))
    assert caught.value.exit_code == 2
    assert register.get(NUMBER, today=ON).status == Status.VALID
    assert files(ws.output) == before


def test_a_suspension_ending_before_it_starts_is_refused_as_invalid_input(ws: Workspace, register: Register) -> None:
    with pytest.raises(CertdocsError, match="早于暂停日期") as caught:
        change(ws, register, "suspend", until=date(2027, 11, 30))
    assert caught.value.exit_code == 2
    assert register.get(NUMBER, today=ON).status == Status.VALID


def test_the_maximum_suspension_comes_from_the_profile(ws: Workspace, register: Register, tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    data = json.loads((ROOT / "src" / "certdocs" / "profiles" / "bangzheng.json").read_text(encoding="utf-8"))
    (profiles / "bangzheng.json").write_text(json.dumps(data | {"suspension_max_months": 3}), encoding="utf-8")
    three = Workspace(output=ws.output, register=ws.register, templates=ws.templates, profiles=profiles)
    change(three, register, "suspend")
    assert register.get(NUMBER, today=ON).history[-1].until == date(2028, 2, 29)


def test_a_change_the_register_refuses_writes_no_letter(ws: Workspace, register: Register) -> None:
    before = files(ws.output)
    with pytest.raises(RegisterError, match="当前状态为「有效」，不能恢复"):
        change(ws, register, "restore")
    assert files(ws.output) == before


def test_a_reason_no_font_can_print_is_refused_before_anything_is_written(ws: Workspace, register: Register) -> None:
    before = files(ws.output)
    with pytest.raises(CertdocsError, match="「\ue000」（U\\+E000）") as caught:
        change(ws, register, "suspend", reason="监督审核\ue000逾期")
    assert [p.where for p in caught.value.problems] == ["--reason"]
    assert caught.value.exit_code == 2
    assert register.get(NUMBER, today=ON).status == Status.VALID
    assert files(ws.output) == before


def test_a_reason_longer_than_a_letter_prints_is_refused(ws: Workspace, register: Register) -> None:
    change(ws, register, "suspend", reason="监" * 500)
    with pytest.raises(CertdocsError, match="理由有 501 个字符，最多 500 个") as caught:
        change(ws, register, "restore", reason="监" * 501)
    assert [p.where for p in caught.value.problems] == ["--reason"]
    assert register.get(NUMBER, today=ON).status == Status.SUSPENDED


def test_a_reason_and_actor_that_would_print_differently_are_refused_naming_their_options(
    ws: Workspace, register: Register
) -> None:
    before = files(ws.output)
    with pytest.raises(CertdocsError) as caught:
        change_status(
            "withdraw",
            NUMBER,
            reason="逾期\u202e未监督",
            actor="李\x1b文",
            on=ON,
            workspace=ws,
            register=register,
            converter=FakeConverter(),
            today=ON,
        )
    assert [str(p) for p in caught.value.problems] == [
        "--reason：第 3 个字符是 U+202E（双向文本控制符，RIGHT-TO-LEFT OVERRIDE），打印出来与看到的不同；请删除该字符",
        "--by：第 2 个字符是 U+001B（控制字符），打印出来与看到的不同；请删除该字符",
    ]
    assert register.get(NUMBER, today=ON).status == Status.VALID
    assert files(ws.output) == before


def test_a_decision_dated_after_today_is_refused(ws: Workspace, register: Register) -> None:
    with pytest.raises(CertdocsError, match="晚于今天"):
        change_status(
            "withdraw",
            NUMBER,
            reason="重大事故",
            actor="李文",
            on=date(2027, 12, 2),
            workspace=ws,
            register=register,
            converter=FakeConverter(),
            today=ON,
        )
    assert register.get(NUMBER, today=ON).status == Status.VALID


def test_a_period_is_only_for_a_suspension(ws: Workspace, register: Register) -> None:
    with pytest.raises(CertdocsError, match="只有暂停可以指定期限"):
        change(ws, register, "withdraw", until=date(2028, 1, 1))


def test_a_restoration_names_the_suspension_it_ends(ws: Workspace, register: Register) -> None:
    change(ws, register, "suspend")
    change(ws, register, "restore", on=date(2028, 1, 15), reason="监督审核已完成，结论合格")
    text = text_of(ws.output / NUMBER / "letter_restoration-2.docx")
    assert "认证证书恢复通知书" in text
    assert "自2027年12月1日起暂停" in text
    assert "决定自2028年1月15日起恢复" in text


def test_a_withdrawal_letter_asks_for_the_certificate_back_or_destroyed(ws: Workspace, register: Register) -> None:
    change(ws, register, "withdraw", reason="暂停期满未整改")
    text = text_of(ws.output / NUMBER / "letter_withdrawal-1.docx")
    assert "认证证书撤销通知书" in text
    assert "交回本机构，或自行销毁" in text
    assert "停止使用认证证书和认证标志" in text


def test_issuing_the_audit_of_a_withdrawn_certificate_again_says_so_and_issues_nothing(
    ws: Workspace, register: Register
) -> None:
    # It used to answer "issued, inputs unchanged" with the number, as if the certificate stood.
    change(ws, register, "withdraw")
    before = files(ws.output)
    (outcome,) = Issuer(ws, converter=FakeConverter(), register=register, today=ON).issue(
        [IssueRequest(AUDIT, "2026年第47次认证决定会议", date(2026, 11, 20), ISSUED)]
    )
    assert outcome.status == "failed"
    assert f"证书 {NUMBER} 已撤销，同一审核结果不再发证" in " ".join(outcome.errors)
    assert [r.number for r in register.list(today=ON)] == [NUMBER]
    assert files(ws.output) == before


def test_a_cancellation_letter_is_written(ws: Workspace, register: Register) -> None:
    change(ws, register, "cancel", reason="获证组织申请注销")
    assert "认证证书注销通知书" in text_of(ws.output / NUMBER / "letter_cancellation-1.docx")


def test_an_organisation_name_with_markup_prints_as_text(tmp_path: Path) -> None:
    audit = json.loads(AUDIT.read_text(encoding="utf-8"))
    audit["organization"]["name"] = '<w:p>A&B "公司"'
    path = tmp_path / "odd.json"
    path.write_text(json.dumps(audit, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    workspace = Workspace(output=out, register=out / "register.sqlite3", templates=ROOT / "templates")
    with Register.open(workspace.register) as register:
        (outcome,) = Issuer(workspace, converter=FakeConverter(), register=register, today=ISSUED).issue(
            [IssueRequest(path, "会议", date(2026, 11, 20), ISSUED)]
        )
        change(workspace, register, "withdraw")
    assert '致：<w:p>A&B"公司"' in text_of(out / outcome.number / "letter_withdrawal-1.docx")


# -- the site follows the register ------------------------------------------------------------------


def test_the_site_is_rebuilt_with_the_change_when_there_is_one(ws: Workspace, register: Register) -> None:
    (ws.output / "site").mkdir()
    outcome = change(ws, register, "suspend")
    assert outcome.site is not None
    page = (ws.output / "site" / "cert" / f"{NUMBER}.html").read_text(encoding="utf-8")
    assert "暂停期：2027年12月1日至2028年5月31日" in page


def test_no_site_is_made_where_there_was_none(ws: Workspace, register: Register) -> None:
    change(ws, register, "suspend")
    assert not (ws.output / "site").exists()


# -- failures ------------------------------------------------------------------------------------------


class _BrokenConverter(FakeConverter):
    def convert(
        self, sources: Sequence[Path], *, outdir: Path, labels: Mapping[Path, str] | None = None
    ) -> dict[Path, Path]:
        raise ConversionError([Problem(Path(s).name, "LibreOffice 异常退出") for s in sources])


def test_a_letter_template_with_problems_stops_the_change_before_it_is_recorded(
    ws: Workspace, register: Register, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (templates / "letter_suspension.docx").write_bytes(b"not a word document")
    broken = Workspace(output=ws.output, register=ws.register, templates=templates)
    with pytest.raises(TemplateError):
        change(broken, register, "suspend")
    assert register.get(NUMBER, today=ON).status == Status.VALID


def test_a_letter_that_cannot_be_converted_leaves_the_change_and_says_how_to_write_it_again(
    ws: Workspace, register: Register
) -> None:
    with pytest.raises(DocumentError, match=f"certdocs register letter {NUMBER}") as caught:
        change(ws, register, "suspend", converter=_BrokenConverter())
    assert caught.value.exit_code == 1
    assert register.get(NUMBER, today=ON).status == Status.SUSPENDED
    assert not (ws.output / NUMBER / "letter_suspension-1.pdf").exists()
    outcome = rewrite_letter(NUMBER, workspace=ws, register=register, converter=FakeConverter(), today=ON)
    assert outcome.pdf == ws.output / NUMBER / "letter_suspension-1.pdf"
    assert outcome.pdf.is_file()


def test_there_is_no_letter_to_rewrite_before_any_change(ws: Workspace, register: Register) -> None:
    with pytest.raises(RegisterError, match="没有状态变更"):
        rewrite_letter(NUMBER, workspace=ws, register=register, converter=FakeConverter(), today=ON)


# -- ended suspensions ---------------------------------------------------------------------------------


def test_a_suspension_whose_period_ended_without_a_restoration_is_listed(ws: Workspace, register: Register) -> None:
    change(ws, register, "suspend", until=date(2028, 1, 31))
    assert ended_suspensions(register, today=date(2028, 1, 31)) == []
    ((record, suspension),) = ended_suspensions(register, today=date(2028, 2, 1))
    assert (record.number, suspension.until) == (NUMBER, date(2028, 1, 31))


def test_a_restored_certificate_is_not_listed(ws: Workspace, register: Register) -> None:
    change(ws, register, "suspend", until=date(2028, 1, 31))
    change(ws, register, "restore", on=date(2028, 1, 10))
    assert ended_suspensions(register, today=date(2028, 3, 1)) == []


# -- commands -----------------------------------------------------------------------------------------


def invoke(ws: Workspace, *args: str, today: date) -> tuple[int, str]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_app, "today", lambda: today)
        mp.setattr(_app, "LibreOfficeConverter", FakeConverter)
        result = CliRunner().invoke(cli.main, [*args, "--output", str(ws.output)])
    return result.exit_code, result.output


def test_register_suspend_prints_the_letter_and_surveillance_due_asks_for_a_withdrawal_decision(
    ws: Workspace,
) -> None:
    code, text = invoke(
        ws, "register", "suspend", NUMBER, "--reason", "逾期", "--by", "李文", "--until", "2028-01-31", today=ON
    )
    assert code == 0, text
    assert "认证证书暂停通知书" in text
    assert f"{NUMBER}/letter_suspension-1.pdf" in text
    code, text = invoke(ws, "surveillance", "due", today=date(2028, 2, 1))
    assert code == 0, text
    assert "暂停期已满、未恢复的证书 1 张，提请撤销决定" in text
    assert NUMBER in text.split("提请撤销决定")[1]


def test_register_suspend_refuses_a_period_beyond_the_maximum_with_exit_2(ws: Workspace) -> None:
    code, text = invoke(
        ws, "register", "suspend", NUMBER, "--reason", "逾期", "--by", "李文", "--until", "2029-01-31", today=ON
    )
    assert code == 2
    assert "最长暂停期 6 个月" in text


# -- real LibreOffice ---------------------------------------------------------------------------------


@pytest.mark.libreoffice
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_every_letter_prints_in_chinese_on_at_most_two_pages(
    ws: Workspace, register: Register, libreoffice_converter: LentConverter
) -> None:
    with libreoffice_converter as converter:
        change(ws, register, "suspend", converter=converter)
        change(ws, register, "restore", on=date(2028, 1, 15), converter=converter)
        first = change(ws, register, "cancel", on=date(2028, 2, 1), converter=converter).pdf.read_bytes()
        again = rewrite_letter(NUMBER, workspace=ws, register=register, converter=converter, today=date(2028, 3, 1))
    assert again.pdf.read_bytes() == first  # the same letter, byte for byte, whenever it is written
    for name, title in (
        ("letter_suspension-1", "认证证书暂停通知书"),
        ("letter_restoration-2", "认证证书恢复通知书"),
        ("letter_cancellation-3", "认证证书注销通知书"),
    ):
        pdf = ws.output / NUMBER / f"{name}.pdf"
        text = re.sub(r"\s+", "", pdf_text(pdf))
        assert title in text, name
        assert NUMBER in text, name
        assert "四川蜀联家电连锁有限公司" in text, name
        assert page_count(pdf) <= 2, name


def test_a_site_that_cannot_be_rebuilt_does_not_keep_the_letter_from_being_written(
    ws: Workspace, register: Register
) -> None:
    (ws.output / "site").mkdir()
    (ws.output / "site" / "cert").write_text("a file where the pages go", encoding="utf-8")
    outcome = change(ws, register, "suspend")
    assert outcome.pdf.is_file()
    assert outcome.site_errors != ()
