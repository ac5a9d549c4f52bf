"""Certification decision meetings (认证决定会议): the input of ``certdocs batch`` (docs/decisions.md).

The same list may come as JSON (with meeting and date inside), or as a CSV or XLSX sheet with
the columns ``audit``, ``decision``, ``issue_date``, ``reason`` (meeting and date then given by
the caller). Every record is checked before anything is issued, and every problem is reported
at once. Audit paths are relative to the decision file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from certdocs._fs import read_json_object
from certdocs._json import JsonProblems, decode_text
from certdocs._validate import Checker, text_problem
from certdocs.errors import DecisionError, Problem, os_error_text

DECISIONS = {"approve": "批准发证", "reject": "不予批准", "defer": "暂缓决定"}
SINGLE_DECISION = "单项认证决定"  # the decision recorded for a certificate issued on its own
COLUMNS = ("audit", "decision", "issue_date", "reason")


@dataclass(frozen=True)
class Decision:
    """One decision of a meeting about one audit result."""

    audit: Path  # resolved against the decision file's folder
    audit_as_written: str
    decision: str  # approve / reject / defer
    issue_date: date | None
    reason: str


@dataclass(frozen=True)
class Meeting:
    """A decision meeting and its decisions, validated."""

    name: str
    date: date
    decisions: tuple[Decision, ...]
    source: Path


def _day(value: Any, where: str, problems: list[Problem]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):  # XLSX cells come back as datetimes
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        problems.append(Problem(where, f"日期 {value!r} 格式应为 YYYY-MM-DD"))
        return None


CSV_HOW_TO_SAVE = (
    "请在 Excel 中“另存为”，文件类型选“CSV UTF-8（逗号分隔）(*.csv)”；"
    "WPS 表格可另存为 .xlsx 工作簿直接使用（决定文件也可以是 .xlsx）"
)


def _rows_from_sheet(path: Path) -> list[dict[str, Any]]:
    if path.suffix.lower() == ".csv":
        text = decode_text(path.read_bytes(), how_to_save=CSV_HOW_TO_SAVE)
        return list(csv.DictReader(io.StringIO(text)))
    from openpyxl import load_workbook  # heavy; only for XLSX files

    book = load_workbook(path, read_only=True, data_only=True)
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    book.close()
    if not rows:
        return []
    header = [str(h).strip() if h is not None else "" for h in rows[0]]
    return [dict(zip(header, row, strict=False)) for row in rows[1:] if any(c not in (None, "") for c in row)]


def _cell(c: Checker, row: dict[str, Any], key: str, where: str, *, multiline: bool = False) -> str | None:
    """A text cell (XLSX cells may be numbers), ``""`` when empty; None when refused (it would not print as it reads).

    The refusal is reported here; None tells the caller not to report the cell again as missing or wrong.
    """
    value = row.get(key)
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    rule = text_problem(text, multiline=multiline)
    if rule:
        c.bad(where, rule)
        return None
    return text.strip()


def _read(path: Path, meeting: str | None, meeting_date: date | None, c: Checker) -> tuple[list[Any], Any, Any]:
    """The rows, meeting name and date of a decision file."""
    source = str(path)
    suffix = path.suffix.lower()
    if suffix == ".json":
        data, _digest = read_json_object(path, DecisionError)
        rows = c.array(data, "decisions", "decisions")
        name = meeting if meeting is not None else c.text(data, "meeting", "meeting", required=False)
        problems: list[Problem] = []
        day = meeting_date or _day(data.get("date"), "date", problems)
        c.problems += problems
        return rows, name, day
    if suffix not in (".csv", ".xlsx"):
        raise DecisionError([Problem(source, "决定文件须为 .json、.csv 或 .xlsx")])
    try:
        rows = _rows_from_sheet(path)
    except OSError as exc:
        raise DecisionError([Problem(source, f"无法读取文件：{os_error_text(exc)}")]) from exc
    except JsonProblems as exc:
        raise DecisionError(exc.problems, source=source) from None
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise DecisionError([Problem(source, f"无法读取表格：{exc}")]) from exc
    if rows and not set(COLUMNS[:2]) <= set(rows[0]):
        c.bad("表头", f"须包含列 {', '.join(COLUMNS)}")
    return rows, meeting, meeting_date


def load_meeting(path: Path, *, meeting: str | None = None, meeting_date: date | None = None) -> Meeting:
    """Read and validate a decision file (JSON, CSV or XLSX).

    ``meeting`` and ``meeting_date`` are required for CSV/XLSX and override a JSON file's own.
    """
    c = Checker()
    problems = c.problems
    source = str(path)
    suffix = path.suffix.lower()
    rows, name, day = _read(path, meeting, meeting_date, c)
    if isinstance(name, str) and (rule := text_problem(name, multiline=False)):
        c.bad("meeting", rule)
        name = ""
    if not isinstance(name, str) or not name.strip():
        problems.append(Problem("meeting", "缺少会议名称（CSV/XLSX 请用 --meeting 给出）"))
        name = ""
    if day is None:
        problems.append(Problem("date", "缺少会议日期（CSV/XLSX 请用 --meeting-date 给出）"))
        day = date.min
    decisions: list[Decision] = []
    seen: dict[Path, int] = {}
    for n, row in enumerate(rows):
        where = f"decisions[{n}]" if suffix == ".json" else f"第 {n + 2} 行"
        if not isinstance(row, dict):
            problems.append(Problem(where, "应为对象"))
            continue
        audit_text = _cell(c, row, "audit", f"{where}.audit")
        kind = _cell(c, row, "decision", f"{where}.decision")
        reason = _cell(c, row, "reason", f"{where}.reason", multiline=True)
        issue = _day(row.get("issue_date"), f"{where}.issue_date", problems)
        audit = (path.parent / audit_text).resolve() if audit_text else path.parent
        if audit_text == "":
            problems.append(Problem(f"{where}.audit", "缺少审核结果文件路径"))
        elif audit_text is not None and not audit.is_file():
            missing = "不存在" if not audit.exists() else "不是普通文件"
            problems.append(Problem(f"{where}.audit", f"审核结果文件 {audit_text} {missing}"))
        elif audit_text is not None and audit in seen:
            problems.append(Problem(f"{where}.audit", f"与第 {seen[audit] + 1} 条决定重复"))
        seen.setdefault(audit, n)
        if kind is not None and kind not in DECISIONS:
            problems.append(Problem(f"{where}.decision", f"决定 {kind!r} 无效，应为 approve、reject 或 defer"))
        elif kind is not None and kind != "approve" and reason == "":
            problems.append(Problem(f"{where}.reason", f"{DECISIONS[kind]}须写明理由"))
        if issue is not None and day != date.min and issue < day:
            problems.append(Problem(f"{where}.issue_date", f"发证日期 {issue} 早于认证决定日期 {day}"))
        if issue is not None and kind in ("reject", "defer"):
            problems.append(Problem(f"{where}.issue_date", f"{DECISIONS[kind]}的记录不应有发证日期"))
        decisions.append(Decision(audit, audit_text or "", kind or "", issue, reason or ""))
    if not rows and not problems:
        problems.append(Problem("decisions", "决定列表为空"))
    if problems:
        raise DecisionError(problems, source=source)
    return Meeting(name.strip(), day, tuple(decisions), path)
