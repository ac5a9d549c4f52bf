"""The auditor's workbook without LibreOffice: round trips, located problems, refusals, hostile input."""

from __future__ import annotations

import functools
import io
import json
import shutil
import tempfile
import time
import warnings
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certdocs.audit import load_audit
from certdocs.cli import main
from certdocs.errors import InvalidAuditResult
from certdocs.scheme import get_scheme, scheme_ids
from certdocs.scoring import score_audit
from certdocs.workbook import import_workbook, make_workbook
from certdocs.workbook.layout import build_layout
from tests.conftest import FIXTURES, full_marks_audit
from tests.spreadsheets import _retyped, opened, save

AUDITS = sorted(p for p in FIXTURES.glob("*/*.json") if p.parent.name != "decisions")


def comparable(path: Path) -> Any:
    """A JSON file's value without ``_`` comment keys and empty optional texts.

    A workbook has no cell for comments, and an empty cell cannot say whether ``""`` or nothing
    was meant; the audit format reads both the same way.
    """

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not k.startswith("_") and v != ""}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(json.loads(path.read_text(encoding="utf-8")))


def write_json(tmp_path: Path, doc: dict[str, Any], name: str = "audit.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


_MADE: dict[str, tuple[bytes, float]] = {}  # the audit's JSON -> the workbook's bytes and when they were made
_MADE_FROM_FIXTURE: dict[Path, bytes] = {}


def workbook_from(tmp_path: Path, doc: dict[str, Any]) -> Path:
    """``doc`` as a filled workbook in tmp_path; made once per test process for the same ``doc``.

    make_workbook writes the same bytes for the same audit wherever it is (a test checks it), so
    a later test with the same ``doc`` gets those bytes copied.
    """
    out = tmp_path / "filled.xlsx"
    source = write_json(tmp_path, doc)
    key = source.read_text(encoding="utf-8")
    if key not in _MADE:
        make_workbook(doc["scheme"], output=out, source=source)
        _MADE[key] = (out.read_bytes(), time.time())
    else:
        out.write_bytes(_MADE[key][0])
    return out


def edit(path: Path, sheet: str, cells: dict[str, Any]) -> None:
    """Type into a workbook's cells as an auditor would (through openpyxl)."""
    edit_sheets(path, {sheet: cells})


def edit_sheets(path: Path, sheets: dict[str, dict[str, Any]]) -> None:
    """Type into cells of several sheets, opening and saving the workbook once."""
    wb = opened(path)
    for sheet, cells in sheets.items():
        for ref, value in cells.items():
            wb[sheet][ref] = value
    save(wb, path)


def problems_of(path: Path, tmp_path: Path) -> list[str]:
    out = tmp_path / "out.json"
    with pytest.raises(InvalidAuditResult) as caught:
        import_workbook(path, output=out)
    assert not out.exists()
    return [str(p) for p in caught.value.problems]


_BLANK: dict[str, bytes] = {}


def blank_workbook(scheme: str, book: Path) -> Path:
    """The blank workbook of ``scheme`` at ``book``, made by make_workbook once per test process."""
    if scheme not in _BLANK:
        make_workbook(scheme, output=book)
        _BLANK[scheme] = book.read_bytes()
    else:
        book.write_bytes(_BLANK[scheme])
    return book


@functools.cache
def opened_blank(scheme: str) -> openpyxl.Workbook:
    """The blank workbook of ``scheme`` as openpyxl loads it, loaded once: only to look at, never to change."""
    folder = Path(tempfile.mkdtemp(prefix="certdocs-wb-blank-"))
    try:
        return openpyxl.load_workbook(blank_workbook(scheme, folder / f"{scheme}.xlsx"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fixture_workbook(audit: Path, book: Path) -> Path:
    """The fixture ``audit`` as a filled workbook at ``book`` (made once per test process)."""
    if audit not in _MADE_FROM_FIXTURE:
        scheme = json.loads(audit.read_text(encoding="utf-8"))["scheme"]
        make_workbook(scheme, output=book, source=audit)
        _MADE_FROM_FIXTURE[audit] = book.read_bytes()
    else:
        book.write_bytes(_MADE_FROM_FIXTURE[audit])
    return book


def _typed_and_cut(wb: openpyxl.Workbook) -> openpyxl.Workbook:
    """``wb`` after what the tests do to workbooks: a date, a text and a number typed, a row deleted."""
    wb["审核信息"]["B16"] = date(2026, 12, 1)
    wb["日程"]["D4"] = "改过的活动"
    wb["打分表"]["G4"] = 0.5
    wb["打分表"].delete_rows(6)
    return wb


def _parts(wb: openpyxl.Workbook, how: Any) -> dict[str, bytes]:
    """The parts of ``wb`` saved by ``how(wb, buffer)``, without core.xml (it holds the time of saving)."""
    buffer = io.BytesIO()
    how(wb, buffer)
    with zipfile.ZipFile(buffer) as saved:
        return {name: saved.read(name) for name in saved.namelist() if name != "docProps/core.xml"}


def test_a_copy_of_an_opened_workbook_saves_what_openpyxl_saves_for_the_workbook_loaded_afresh(
    tmp_path: Path,
) -> None:
    # tests.spreadsheets.opened relies on it to load each workbook once per test process. fw01's
    # filled workbook has the date styles whose ids openpyxl's load leaves to a save to add again.
    book = fixture_workbook(FIXTURES / "fw01-2021" / "pass.json", tmp_path / "a.xlsx")
    opened(book)  # loaded, so that the copy below is a copy
    fresh = _parts(_typed_and_cut(openpyxl.load_workbook(book)), openpyxl.Workbook.save)
    assert _parts(_typed_and_cut(opened(book)), openpyxl.Workbook.save) == fresh


def test_saving_again_only_the_sheets_that_changed_saves_what_openpyxl_saves(tmp_path: Path) -> None:
    # The fuzz test relies on it to write only the sheets it typed into.
    wb = opened(fixture_workbook(FIXTURES / "fw01-2021" / "pass.json", tmp_path / "a.xlsx"))
    written: dict[str, bytes | None] = {}
    for _ in range(2):  # the second save keeps each sheet's XML
        save(wb, io.BytesIO(), written=written)
    _typed_and_cut(wb)
    again = _parts(wb, lambda wb, buffer: save(wb, buffer, written=written, changed={"审核信息", "日程", "打分表"}))
    assert again == _parts(wb, openpyxl.Workbook.save)


def test_saving_again_only_the_cells_typed_into_saves_what_openpyxl_saves(tmp_path: Path) -> None:
    # The fuzz test relies on it to write again only the rows of the sheets it typed into.
    wb = opened(fixture_workbook(FIXTURES / "fw01-2021" / "pass.json", tmp_path / "a.xlsx"))
    written: dict[str, bytes | None] = {}
    for _ in range(2):  # the second save keeps each sheet's XML
        save(wb, io.BytesIO(), written=written)
    wb["审核信息"]["B16"] = date(2026, 12, 1)  # a new number format, so a new style
    wb["审核信息"]["B3"] = None
    wb["日程"]["D4"] = " 改过的活动 "
    wb["打分表"]["G4"] = 0.5
    wb["打分表"]["O5"] = "=不是公式"
    typed = {"审核信息": {3, 16}, "日程": {4}, "打分表": {4, 5}}
    again = _parts(wb, lambda wb, buffer: save(wb, buffer, written=written, changed=typed, typed=typed))
    assert again == _parts(wb, openpyxl.Workbook.save)
    for title, rows in typed.items():  # the rows went into the kept XML: the sheet was not written whole
        assert _retyped(wb[title], written[title] or b"", rows) is not None


@pytest.mark.parametrize("audit", AUDITS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_fixture_comes_back_as_the_same_json_value(audit: Path, tmp_path: Path) -> None:
    book = fixture_workbook(audit, tmp_path / "audit.xlsx")
    import_workbook(book, output=tmp_path / "back.json")
    assert comparable(tmp_path / "back.json") == comparable(audit)


@pytest.mark.parametrize("audit", AUDITS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_score_on_the_workbook_equals_score_on_the_json(audit: Path, tmp_path: Path) -> None:
    book = fixture_workbook(audit, tmp_path / "audit.xlsx")
    from_json = score_audit(*load_audit(audit)).to_json()
    from_book = score_audit(*load_audit(book)).to_json()
    assert from_book == from_json


def test_the_score_command_reads_a_workbook(tmp_path: Path) -> None:
    book = fixture_workbook(FIXTURES / "xbht-s04-2025" / "pass.json", tmp_path / "audit.xlsx")
    result = CliRunner().invoke(main, ["score", str(book), "--format", "json"])
    assert json.loads(result.output)["score"] == 88.1


def test_the_workbook_command_writes_a_blank_workbook(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["workbook", "bjkb-006-2026", "--output", str(tmp_path / "b.xlsx")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "b.xlsx").is_file()


def test_the_import_command_writes_json_and_names_the_grade(tmp_path: Path) -> None:
    book = fixture_workbook(FIXTURES / "bjkb-006-2026" / "veto.json", tmp_path / "a.xlsx")
    result = CliRunner().invoke(main, ["import", str(book), "--output", str(tmp_path / "a.json")])
    assert "一票否决" in result.output


def test_a_blank_workbook_is_refused_with_every_missing_cell_and_nothing_written(tmp_path: Path) -> None:
    book = blank_workbook("xbht-s04-2025", tmp_path / "blank.xlsx")
    result = CliRunner().invoke(main, ["import", str(book), "--output", str(tmp_path / "a.json")])
    assert result.exit_code == 2
    assert "打分表!F76（评价方式）：缺少该条目的评价结果" in result.output
    assert not (tmp_path / "a.json").exists()


def test_a_ratio_above_one_is_located_at_its_cell(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("xbht-s04-2025"))
    layout = build_layout(get_scheme("xbht-s04-2025"))  # the layout the full-marks workbook has
    row = layout.item_rows["5.1.2.2"]
    edit(
        book,
        "打分表",
        {f"{layout.col('form')}{row}": "比例", f"{layout.col('ratio')}{row}": 1.5, f"{layout.col('score')}{row}": None},
    )
    assert problems_of(book, tmp_path) == [f"打分表!{layout.col('ratio')}{row}（比例（0—1））：得分比例 1.5 超出 0—1"]


def test_a_value_left_in_another_forms_column_is_refused(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("xbht-s04-2025"))
    layout = build_layout(get_scheme("xbht-s04-2025"))  # the layout the full-marks workbook has
    row = layout.item_rows["5.1.1.1"]
    edit(book, "打分表", {f"{layout.col('ratio')}{row}": 0.5})
    assert problems_of(book, tmp_path) == [
        f"打分表!{layout.col('ratio')}{row}（比例（0—1））：评价方式为“得分”，此格应为空（或改选评价方式）"
    ]


def test_problems_on_several_sheets_are_reported_together(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("bz-ts1008-2025"))
    edit_sheets(
        book,
        {"审核信息": {"B4": "91330106MA2CFXY800", "B15": "年度审核"}, "打分表": {"E4": 7}, "前提条件": {"B4": "也许"}},
    )
    found = problems_of(book, tmp_path)
    assert [p.split("（")[0] for p in found] == ["审核信息!B4", "审核信息!B15", "打分表!E4", "前提条件!B4"]


def test_an_unchosen_role_and_two_leaders_are_named_in_chinese(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("fw01-2021"))
    edit(book, "审核信息", {"A27": "张三", "B27": "审核组长"})
    assert "审核组须有且只有一名组长（角色：审核组长）" in problems_of(book, tmp_path)[0]


def test_a_deleted_item_row_is_refused_instead_of_misread(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("xbht-s04-2025"))
    wb = opened(book)
    wb["打分表"].delete_rows(10)
    save(wb, book)
    found = problems_of(book, tmp_path)
    assert found[0].startswith("打分表!A10：应为“5.1.2.2”，实为“5.1.2.3”")


def test_changed_points_are_refused(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("xbht-s04-2025"))
    edit(book, "打分表", {"E4": 5})
    assert problems_of(book, tmp_path)[0] == "打分表!E4：条目 5.1.1.1 的分值应为 1，实为 5"


def test_a_renamed_sheet_is_refused(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("xbht-s04-2025"))
    wb = opened(book)
    wb["日程"].title = "审核日程"
    save(wb, book)
    assert f"{book}：缺少工作表“日程”" in problems_of(book, tmp_path)


def test_a_moved_column_is_refused_instead_of_misread(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("fw01-2021"))
    wb = opened(book)
    wb["打分表"].insert_cols(5)
    save(wb, book)
    assert "行或列被插入、删除或移动" in problems_of(book, tmp_path)[0]


def test_a_workbook_of_another_scheme_is_refused_when_a_scheme_is_required(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("fw01-2021"))
    with pytest.raises(InvalidAuditResult, match="工作簿属于评价方案 fw01-2021，不是所要求的 xbht-s04-2025"):
        import_workbook(book, output=tmp_path / "a.json", scheme_id="xbht-s04-2025")


def test_a_workbook_whose_items_sheet_came_from_another_scheme_is_refused(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("fw01-2021"))
    wb = opened(book)
    wb["_certdocs"]["B3"] = "xbht-s04-2025"
    save(wb, book)
    assert "工作簿结构与评价方案 xbht-s04-2025 的当前版本不符" in problems_of(book, tmp_path)[0]


def test_a_spreadsheet_not_made_by_certdocs_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(book)
    assert "不是 certdocs 生成的审核工作簿" in problems_of(book, tmp_path)[0]


def test_a_file_that_is_not_a_workbook_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "fake.xlsx"
    book.write_bytes(b"PK\x03\x04 not really")
    assert "不是有效的 .xlsx 工作簿" in problems_of(book, tmp_path)[0]


def test_a_truncated_workbook_is_refused(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("fw01-2021"))
    book.write_bytes(book.read_bytes()[:3000])
    assert "不是有效的 .xlsx 工作簿" in problems_of(book, tmp_path)[0]


def test_an_invalid_source_writes_no_workbook(tmp_path: Path) -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["items"]["5.1.1.1"] = {"score": 9}
    with pytest.raises(InvalidAuditResult):
        make_workbook("xbht-s04-2025", output=tmp_path / "w.xlsx", source=write_json(tmp_path, doc))
    assert not (tmp_path / "w.xlsx").exists()


def test_a_source_of_another_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidAuditResult, match="属于评价方案 fw01-2021"):
        make_workbook(
            "xbht-s04-2025",
            output=tmp_path / "w.xlsx",
            source=write_json(tmp_path, full_marks_audit("fw01-2021")),
        )
    assert not (tmp_path / "w.xlsx").exists()


def test_text_that_looks_like_a_formula_stays_text(tmp_path: Path) -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["items"]["5.1.1.1"]["evidence"] = '=HYPERLINK("http://example.com","点我")'
    doc["organization"]["name"] = "=1+1 公司"
    book = workbook_from(tmp_path, doc)
    import_workbook(book, output=tmp_path / "back.json")
    back = json.loads((tmp_path / "back.json").read_text(encoding="utf-8"))
    assert (back["organization"]["name"], back["items"]["5.1.1.1"]["evidence"]) == (
        "=1+1 公司",
        '=HYPERLINK("http://example.com","点我")',
    )


def test_control_characters_are_refused_with_their_json_path_and_no_workbook_written(tmp_path: Path) -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["scope"] = "家用\x07空调"
    with pytest.raises(InvalidAuditResult, match="scope：第 3 个字符是 U\\+0007"):
        workbook_from(tmp_path, doc)
    assert not (tmp_path / "filled.xlsx").exists()


def test_characters_xml_cannot_hold_are_refused_with_their_json_path_and_no_workbook_written(tmp_path: Path) -> None:
    # U+FFFE and U+FFFF pass the audit's checks but not XML: making the workbook ended in a ValueError.
    doc = full_marks_audit("fw01-2021")
    doc["organization"]["name"] = "某\ufffe公司"
    doc["items"]["a1"]["evidence"] = "记录\uffff"
    with pytest.raises(InvalidAuditResult) as refused:
        make_workbook("fw01-2021", output=tmp_path / "w.xlsx", source=write_json(tmp_path, doc))
    assert [str(p) for p in refused.value.problems] == [
        "organization.name：含有电子表格无法保存的字符 U+FFFE",
        'items["a1"].evidence：含有电子表格无法保存的字符 U+FFFF',
    ]
    assert not (tmp_path / "w.xlsx").exists()


def test_a_ratio_with_more_digits_than_a_double_holds_is_refused(tmp_path: Path) -> None:
    doc = json.loads((FIXTURES / "xbht-s04-2025" / "pass.json").read_text(encoding="utf-8"))
    text = json.dumps(doc, ensure_ascii=False).replace('"ratio": 0.8,', '"ratio": 0.80000000000000000001,', 1)
    source = tmp_path / "long.json"
    source.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidAuditResult, match="超过 15 位有效数字"):
        make_workbook("xbht-s04-2025", output=tmp_path / "w.xlsx", source=source)


def test_arabic_and_rare_characters_survive_the_round_trip(tmp_path: Path) -> None:
    doc = full_marks_audit("fw01-2021")
    doc["organization"]["name"] = "شركة 𠀀𪚥 有限公司"
    doc["items"]["a1"]["finding"] = "第一行\n第二行"
    book = workbook_from(tmp_path, doc)
    import_workbook(book, output=tmp_path / "back.json")
    assert json.loads((tmp_path / "back.json").read_text(encoding="utf-8")) == doc


def test_import_does_not_overwrite_the_workbook_itself(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("fw01-2021"))
    before = book.read_bytes()
    with pytest.raises(InvalidAuditResult, match=r"\.json 结尾"):
        import_workbook(book, output=book)
    assert book.read_bytes() == before


def test_a_workbook_can_be_made_again_from_a_workbook(tmp_path: Path) -> None:
    first = fixture_workbook(FIXTURES / "xbht-s04-2025" / "recertification.json", tmp_path / "first.xlsx")
    again = tmp_path / "again.xlsx"
    make_workbook("xbht-s04-2025", output=again, source=first)
    assert again.read_bytes() == first.read_bytes()


def test_a_long_timetable_gets_enough_rows(tmp_path: Path) -> None:
    doc = full_marks_audit("fw01-2021")
    doc["audit"]["timetable"] = [
        {"date": "2026-11-10", "start": "08:00", "end": "08:30", "activity": f"活动 {n}", "auditors": ["王立新"]}
        for n in range(45)
    ]
    book = workbook_from(tmp_path, doc)
    import_workbook(book, output=tmp_path / "back.json")
    assert json.loads((tmp_path / "back.json").read_text(encoding="utf-8")) == doc


@pytest.mark.parametrize("scheme", scheme_ids())
def test_the_blank_workbooks_in_fixtures_are_up_to_date(scheme: str, tmp_path: Path) -> None:
    fresh = blank_workbook(scheme, tmp_path / f"{scheme}.xlsx")
    assert fresh.read_bytes() == (FIXTURES / "workbooks" / f"{scheme}.xlsx").read_bytes(), (
        "fixtures/workbooks/ is stale: run `make workbooks`"
    )


def test_only_input_cells_are_unlocked_and_every_sheet_is_protected_without_a_password() -> None:
    wb = opened_blank("bjkb-006-2026")
    assert all(ws.protection.sheet and not ws.protection.password for ws in wb.worksheets)
    items = wb["打分表"]
    assert (items["A4"].protection.locked, items["F4"].protection.locked, items["G5"].protection.locked) == (
        True,
        True,
        False,
    )


def test_the_items_sheet_prints_on_a4_landscape_with_its_header_row_repeated() -> None:
    ws = opened_blank("fw01-2021")["打分表"]
    assert (ws.page_setup.orientation, ws.page_setup.paperSize, ws.print_title_rows) == ("landscape", 9, "$3:$3")


def test_every_input_on_the_items_sheet_has_a_chinese_input_message() -> None:
    ws = opened_blank("xbht-s04-2025")["打分表"]
    prompted = {str(r) for dv in ws.data_validations.dataValidation if dv.prompt for r in dv.sqref.ranges}
    inputs = {c.coordinate for row in ws.iter_rows(min_row=4, max_row=76) for c in row if not c.protection.locked}
    covered = {c for c in inputs if any(c in openpyxl.worksheet.cell_range.CellRange(r) for r in prompted)}
    assert covered == inputs


def test_the_result_form_is_a_drop_down_of_the_forms_the_scheme_allows() -> None:
    ws = opened_blank("bjkb-006-2026")["打分表"]
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert '"得分,比例,抽样"' in lists


def test_a_decision_meeting_may_name_a_workbook_instead_of_a_json_file(tmp_path: Path) -> None:
    from certdocs.batch import run_batch
    from certdocs.decisions import load_meeting
    from certdocs.pipeline import Issuer, Workspace
    from certdocs.register import Register
    from certdocs.testing import FakeConverter

    fixture_workbook(FIXTURES / "xbht-s04-2025" / "pass.json", tmp_path / "澜禾.xlsx")
    meeting_file = write_json(
        tmp_path,
        {
            "meeting": "第1次认证决定会议",
            "date": "2026-11-20",
            "decisions": [{"audit": "澜禾.xlsx", "decision": "approve"}],
        },
        "meeting.json",
    )
    out = tmp_path / "out"
    ws = Workspace(output=out, register=out / "register.sqlite3", templates=FIXTURES.parent / "templates")
    with Register.open(ws.register) as register:
        issuer = Issuer(ws, converter=FakeConverter(), register=register, today=date(2026, 11, 22))
        summary = run_batch(load_meeting(meeting_file), issuer=issuer, register=register).to_json()
    assert [(i["audit"], i["grade"]) for i in summary["issued"]] == [("澜禾.xlsx", "四星级")]


@pytest.mark.parametrize("scheme", ["xbht-s04-2025", "bjkb-006-2026"])
def test_the_score_limit_of_each_row_is_that_rows_points(scheme: str) -> None:
    ws = opened_blank(scheme)["打分表"]
    (dv,) = [dv for dv in ws.data_validations.dataValidation if dv.promptTitle == "得分"]
    first = min(r.min_row for r in dv.sqref.ranges)
    assert dv.formula2 == f"E{first}"


def test_a_bidi_override_typed_into_a_cell_is_refused_at_that_cell(tmp_path: Path) -> None:
    book = workbook_from(tmp_path, full_marks_audit("fw01-2021"))
    edit(book, "审核信息", {"B3": "\u202e司公限有"})
    assert problems_of(book, tmp_path)[0].startswith("审核信息!B3（受审核组织名称）：")


def test_the_formulas_use_only_functions_excel_wps_and_libreoffice_share() -> None:
    import re

    shared = {"ROUND", "INT", "IF", "AND", "OR", "N", "SUMIF", "SUM", "COUNT", "COUNTIF", "MIN", "CHOOSE"}
    used: set[str] = set()
    for scheme in scheme_ids():
        for ws in opened_blank(scheme).worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        text = re.sub(r'"[^"]*"', "", str(cell.value))
                        used |= set(re.findall(r"([A-Z][A-Z0-9.]*)\(", text))
    assert used <= shared, used - shared


_GARBAGE = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
    st.dates(),
    st.sampled_from(["得分", "比例", "抽样", "不适用", "是", "否", "审核组长", "2026-13-45", "08:30", "=1+1"]),
)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_whatever_is_typed_into_input_cells_import_reports_or_reads_never_crashes(data: st.DataObject) -> None:
    wb, inputs, written = _filled_for_fuzzing()
    typed = data.draw(
        st.lists(st.sampled_from(inputs), min_size=1, max_size=8, unique_by=lambda c: c.coordinate + c.parent.title)
    )
    # A date typed into a cell also changes its number format: both are put back afterwards.
    before = [(cell.value, cell.number_format) for cell in typed]
    buffer = io.BytesIO()
    try:
        for cell in typed:
            cell.value = data.draw(_GARBAGE)
        # Only the rows typed into are written again; the rest is the XML openpyxl wrote.
        rows: dict[str, set[int]] = {}
        for cell in typed:
            rows.setdefault(cell.parent.title, set()).add(cell.row)
        save(wb, buffer, written=written, changed=set(rows), typed=rows)
    finally:  # the next example types into the filled workbook as it was made
        for cell, (value, number_format) in zip(typed, before, strict=True):
            cell.value = value
            cell.number_format = number_format
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "fuzzed.xlsx"
        book.write_bytes(buffer.getvalue())
        try:
            import_workbook(book, output=Path(tmp) / "out.json")
        except InvalidAuditResult as exc:
            assert exc.problems
            assert not (Path(tmp) / "out.json").exists()
            assert all("!" in p.where for p in exc.problems), [str(p) for p in exc.problems]


_LOADED: list[tuple[openpyxl.Workbook, list[Any], dict[str, bytes | None]]] = []


def _filled_for_fuzzing() -> tuple[openpyxl.Workbook, list[Any], dict[str, bytes | None]]:
    """The filled workbook loaded once (each example puts back what it typed), its input cells, its sheets' XML."""
    if not _LOADED:
        folder = Path(tempfile.mkdtemp(prefix="certdocs-wb-fuzz-"))
        try:
            book = fixture_workbook(FIXTURES / "bjkb-006-2026" / "pass.json", folder / "filled.xlsx")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wb = openpyxl.load_workbook(book)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        inputs = [c for ws in wb.worksheets[:-1] for row in ws.iter_rows() for c in row if not c.protection.locked]
        _LOADED.append((wb, inputs, {}))
    return _LOADED[0]


def test_a_row_or_column_deleted_on_any_sheet_is_refused(tmp_path: Path) -> None:
    source = workbook_from(tmp_path, full_marks_audit("bz-ts1008-2025"))
    accepted = []
    for sheet in ("审核信息", "打分表", "前提条件", "日程", "报告"):
        for op in ("delete_rows", "delete_cols"):
            book = tmp_path / f"{sheet}-{op}.xlsx"
            wb = opened(source)
            getattr(wb[sheet], op)(2)
            save(wb, book)
            try:
                import_workbook(book, output=tmp_path / "out.json")
                accepted.append(f"{sheet} {op}")
            except InvalidAuditResult as exc:
                assert "行或列被插入、删除或移动" in str(exc)
    assert accepted == []


def test_a_row_inserted_into_the_timetable_is_refused_instead_of_losing_its_last_entry(tmp_path: Path) -> None:
    doc = full_marks_audit("fw01-2021")
    doc["audit"]["timetable"] = [
        {"date": "2026-11-10", "start": "08:00", "end": "08:30", "activity": f"活动 {n}"} for n in range(30)
    ]
    book = workbook_from(tmp_path, doc)
    wb = opened(book)
    wb["日程"].insert_rows(10)
    save(wb, book)
    assert problems_of(book, tmp_path)[0].startswith("日程!A34：“审核日程（空白则按方案类别自动安排）”的行数多于")


def test_the_same_audit_makes_the_same_workbook_bytes_in_another_folder_and_second(tmp_path: Path) -> None:
    # workbook_from relies on it to make each workbook once per test process. Last in the module:
    # the tests above have made this audit's workbook in another folder, seconds ago (if not, as
    # when run alone, it is made here first and the clock waited on into its next second).
    doc = full_marks_audit("fw01-2021")
    key = json.dumps(doc, ensure_ascii=False)
    if key not in _MADE or time.time() - _MADE[key][1] < 1:
        first = tmp_path / "first"
        first.mkdir()
        workbook_from(first, doc)
        # Into the next second of the clock, so that a creation time in the workbook would differ.
        time.sleep(max(0.0, _MADE[key][1] + 1.01 - time.time()))
    second = tmp_path / "second"
    second.mkdir()
    make_workbook("fw01-2021", output=second / "filled.xlsx", source=write_json(second, doc))
    assert (second / "filled.xlsx").read_bytes() == _MADE[key][0]
