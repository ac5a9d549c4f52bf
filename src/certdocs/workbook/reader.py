"""Reading a filled workbook back into an audit-result document, located by sheet and cell.

The reader first proves the workbook is one certdocs made for a known scheme and that its
structure is intact (hidden metadata, fingerprint, every fixed label and item id where the
layout puts it); only then does it read the input cells into the audit-result JSON value
(``docs/audit-result.md``) and hand that to the one audit validator,
:func:`certdocs.audit.parse_audit`. Each problem's JSON path is mapped back to the cell it came
from (``打分表!H23``).
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.utils import column_index_from_string
from openpyxl.utils.exceptions import InvalidFileException

from certdocs.audit import AuditResult, parse_audit
from certdocs.errors import InvalidAuditResult, Problem, SchemeError, os_error_text
from certdocs.scheme import Scheme, get_scheme
from certdocs.workbook._reading import CellReading, cell_text
from certdocs.workbook._values import Values, read_values
from certdocs.workbook.layout import (
    INFO,
    ITEMS,
    LAYOUT_VERSION,
    META,
    PREREQUISITES,
    REPORT,
    TIMETABLE,
    Layout,
    build_layout,
)

_SHEET_ORDER = (INFO, ITEMS, PREREQUISITES, TIMETABLE, REPORT)
#: The validator speaks JSON; an auditor reads column names.
_WORDING = (
    ("score、ratio、sampled 或 not_applicable", "得分、比例、抽样或不适用（在“评价方式”中选择并填写对应列）"),
    ("compliant: true/false", "“符合（否决项）”选是或否"),
    ("应为 level: 1—5", "应填写等级 1—5"),
    ("（role: leader）", "（角色：审核组长）"),
    ("应为 leader、member、expert 或 observer", "应为审核组长、审核员、技术专家或观察员"),
    ("不符合数 nonconforming", "不符合数"),
    ("请在 organization.uscc_checksum_override 中说明理由", "请在“代码校验例外理由”中说明"),
    ("应为 true 或 false", "应为“是”或“否”"),
    ("审核类型 None 无效，应为", "未选择审核类型，应为"),
    ("角色 None 无效，应为", "未选择角色，应为"),
    ("应为 onsite（现场）或 remote（远程）", "应为现场审核或远程审核"),
    ("应为 initial、surveillance 或 recertification", "应为初次认证审核、监督审核或再认证审核"),
)


@dataclass(frozen=True)
class WorkbookContent:
    """What a workbook holds: the audit-result document, where each value came from, and its problems."""

    scheme: Scheme
    layout: Layout
    data: dict[str, Any]
    cells: Mapping[str, str]  # JSON path -> "sheet!cell"
    problems: tuple[Problem, ...]
    digest: str
    reported: frozenset[str] = frozenset()  # cells whose problem the reader already explained


def read_workbook(path: Path, *, schemes_dir: Path | None = None, scheme_id: str | None = None) -> WorkbookContent:
    """Read a workbook's input cells; :class:`InvalidAuditResult` when it is not a sound certdocs workbook."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidAuditResult([Problem(source, f"无法读取文件：{os_error_text(exc)}")]) from exc
    try:
        with warnings.catch_warnings():
            # openpyxl warns about spreadsheet features it does not model (extensions, styles).
            warnings.simplefilter("ignore")
            wb = read_values(raw)
    except _DAMAGED as exc:
        raise InvalidAuditResult([Problem(source, "不是有效的 .xlsx 工作簿（文件损坏或格式不对）")]) from exc
    layout = _check_structure(wb, source, schemes_dir=schemes_dir, scheme_id=scheme_id)
    reading = CellReading(wb, layout)
    data = reading.document()
    return WorkbookContent(
        layout.scheme,
        layout,
        data,
        reading.cells,
        tuple(reading.problems),
        hashlib.sha256(raw).hexdigest(),
        frozenset(reading.reported),
    )


#: What openpyxl's parsers raise for a damaged file: a broken zip or deflate stream, XML that does
#: not parse (ParseError and lxml's errors are SyntaxErrors), missing parts, impossible values.
_DAMAGED = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    InvalidFileException,
    SyntaxError,
    KeyError,
    IndexError,
    ValueError,
    TypeError,
    OSError,
)


def load_workbook_audit(path: Path, *, schemes_dir: Path | None = None) -> tuple[AuditResult, Scheme]:
    """Read and validate a workbook as :func:`certdocs.audit.load_audit` reads a JSON file."""
    content = read_workbook(path, schemes_dir=schemes_dir)
    return validate(content, source=str(path)), content.scheme


def validate(content: WorkbookContent, *, source: str) -> AuditResult:
    """The audit result, or every problem (the reader's and the validator's) located by cell."""
    problems = list(content.problems)
    seen = {p.where for p in problems} | content.reported
    try:
        audit = parse_audit(content.data, scheme=content.scheme, source=source, digest=content.digest)
    except InvalidAuditResult as exc:
        for p in exc.problems:
            where = _locate(p.where, content.cells, source)
            if where not in seen:
                problems.append(Problem(where, _reword(p.rule)))
                seen.add(where)
        raise InvalidAuditResult(_labelled(problems, content.layout), source=source) from None
    if problems:
        raise InvalidAuditResult(_labelled(problems, content.layout), source=source)
    return audit


def _labelled(problems: list[Problem], layout: Layout) -> list[Problem]:
    """Problems in reading order, each cell followed by what it holds: ``打分表!H23（比例（0—1））``."""
    labels = cell_labels(layout)
    ordered_problems = sorted(problems, key=lambda p: _order(p.where, layout))
    return [
        Problem(f"{p.where}（{labels[p.where]}）" if p.where in labels else p.where, p.rule) for p in ordered_problems
    ]


def cell_labels(layout: Layout) -> dict[str, str]:
    """What each input cell is, in the words of its label or column heading."""
    out = {f"{f.sheet}!{f.cell}": f.label for f in layout.fields}
    for block in layout.lists:
        for n, row in enumerate(block.rows, 1):
            for c in block.columns:
                out[f"{block.sheet}!{c.column}{row}"] = f"{block.title.split('（')[0]}第 {n} 行 {c.label}"
    for row in layout.item_rows.values():
        for column in layout.columns:
            out[f"{ITEMS}!{column.letter}{row}"] = column.label
    return out


def _order(where: str, layout: Layout) -> tuple[int, int, int]:
    """Problems in reading order: sheet by sheet, row by row, column by column."""
    match = re.fullmatch(r"([^!]+)!([A-Z]+)(\d+)", where)
    if not match:
        return (len(_SHEET_ORDER), 0, 0)
    sheet, letters, row = match.groups()
    index = _SHEET_ORDER.index(sheet) if sheet in _SHEET_ORDER else len(_SHEET_ORDER)
    return (index, int(row), column_index_from_string(letters))


def _reword(rule: str) -> str:
    for old, new in _WORDING:
        rule = rule.replace(old, new)
    return re.sub(r"^缺少认证前提条件（[a-z_、]+）$", f"缺少认证前提条件（请在“{PREREQUISITES}”表中填写）", rule)


def _locate(where: str, cells: Mapping[str, str], source: str) -> str:
    """The cell of a JSON path, else of its nearest enclosing path that has one."""
    path = where
    while path:
        if path in cells:
            return cells[path]
        stripped = re.sub(r'(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\["[^"]*"\])$', "", path)
        if stripped == path:
            break
        path = stripped
    return f"{source}（{where}）" if where not in ("", "$") else source


# -- structure ---------------------------------------------------------------------------------


def _refuse(source: str, rule: str) -> InvalidAuditResult:
    return InvalidAuditResult([Problem(source, rule)])


def _check_structure(  # noqa: C901  (every way a workbook can be damaged, each refused in its own words)
    wb: Values, source: str, *, schemes_dir: Path | None, scheme_id: str | None
) -> Layout:
    if META not in wb.sheetnames:
        raise _refuse(source, "不是 certdocs 生成的审核工作簿（缺少隐藏的元数据表），请用 certdocs workbook 生成工作簿")
    meta = {
        str(wb.value(META, f"A{r}")): str(wb.value(META, f"B{r}") or "")
        for r in wb.rows(META)
        if wb.value(META, f"A{r}")
    }
    if meta.get("format") != "certdocs-workbook":
        raise _refuse(source, "不是 certdocs 生成的审核工作簿（元数据缺失），请用 certdocs workbook 生成工作簿")
    if meta.get("layout_version") != str(LAYOUT_VERSION):
        raise _refuse(
            source,
            f"工作簿版式 {meta.get('layout_version')} 与本版 certdocs 的版式 {LAYOUT_VERSION} 不同"
            f"（由 certdocs {meta.get('certdocs_version')} 生成），请用 certdocs workbook --from 重新生成",
        )
    sid = meta.get("scheme", "")
    if scheme_id is not None and sid != scheme_id:
        raise _refuse(source, f"工作簿属于评价方案 {sid}，不是所要求的 {scheme_id}")
    try:
        scheme = get_scheme(sid, extra_dir=schemes_dir)
        capacity = json.loads(meta.get("capacity", "{}"))
        if not isinstance(capacity, dict) or not all(isinstance(v, int) and 0 <= v < 10_000 for v in capacity.values()):
            raise ValueError(capacity)
    except SchemeError as exc:
        raise InvalidAuditResult(exc.problems, source=source) from exc
    except ValueError as exc:
        raise _refuse(source, "工作簿元数据已损坏（列表行数），请用 certdocs workbook 重新生成") from exc
    layout = build_layout(scheme, capacity)
    if meta.get("fingerprint") != layout.fingerprint or layout.capacity != capacity:
        raise _refuse(
            source,
            f"工作簿结构与评价方案 {scheme.id} 的当前版本不符（方案条目或分值已变，或元数据被改动），"
            "请用 certdocs workbook --from 重新生成",
        )
    problems: list[Problem] = []
    mismatches: dict[str, list[str]] = {}
    for (sheet, cell), expected in layout.labels.items():
        if sheet not in wb.sheetnames:
            if sheet not in mismatches:
                problems.append(Problem(source, f"缺少工作表“{sheet}”"))
            mismatches.setdefault(sheet, []).append(cell)
            continue
        found = cell_text(wb.value(sheet, cell))
        if found != expected:
            if sheet not in mismatches:
                problems.append(
                    Problem(
                        f"{sheet}!{cell}",
                        f"应为“{expected[:30]}”，实为“{found[:30]}”：行或列被插入、删除或移动，无法可靠读取",
                    )
                )
            mismatches.setdefault(sheet, []).append(cell)
    for it in scheme.items:
        if it.points is None:
            continue
        ref = f"{layout.col('points')}{layout.item_rows[it.id]}"
        if ITEMS in wb.sheetnames and ITEMS not in mismatches:
            value = wb.value(ITEMS, ref)
            if not isinstance(value, int | float) or Decimal(repr(value)) != it.points:
                problems.append(Problem(f"{ITEMS}!{ref}", f"条目 {it.id} 的分值应为 {it.points}，实为 {value!r}"))
    for block in layout.lists:
        # A row inserted inside a list pushes its last entry below the list, where nothing is read.
        below = block.first_row + block.capacity
        if block.sheet in wb.sheetnames and block.sheet not in mismatches:
            for c in block.columns:
                if cell_text(wb.value(block.sheet, f"{c.column}{below}")):
                    problems.append(
                        Problem(
                            f"{block.sheet}!{c.column}{below}", f"“{block.title}”的行数多于工作簿所留的行：有行被插入"
                        )
                    )
                    break
    for sheet, cells in mismatches.items():
        if len(cells) > 1:
            problems.append(Problem(sheet, f"另有 {len(cells) - 1} 处固定内容不符"))
    if problems:
        problems.append(
            Problem("", "工作簿结构已被改动；请在 certdocs 生成的原工作簿中填写，或用 certdocs workbook 重新生成")
        )
        raise InvalidAuditResult(problems, source=source)
    return layout


def to_json_text(data: Mapping[str, Any]) -> str:
    """The audit-result document as JSON text (decimals as exact JSON numbers)."""

    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return json.dumps(plain(data), ensure_ascii=False, indent=2) + "\n"
