"""Where everything sits in an auditor's workbook: sheets, cells, columns, and the structure fingerprint.

The writer and the reader both walk the same :class:`Layout`, so a field written to a cell is
read back from that cell. A layout is derived from the scheme and the capacities of its lists
(team, timetable, documents, report lists); its fingerprint, recorded in the hidden metadata
sheet, lets ``import`` refuse a workbook whose structure is not the one certdocs made.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from openpyxl.utils import get_column_letter

from certdocs._paths import jp
from certdocs.scheme import Scheme

#: Bumped whenever cells move: an older workbook is then refused instead of misread.
LAYOUT_VERSION = 1

INFO = "审核信息"
ITEMS = "打分表"
SUMMARY = "汇总"
PREREQUISITES = "前提条件"
TIMETABLE = "日程"
REPORT = "报告"
META = "_certdocs"

Kind = Literal["text", "int", "decimal", "date", "time", "choice", "bool", "names"]

AUDIT_TYPE_LABELS = {"initial": "初次认证审核", "surveillance": "监督审核", "recertification": "再认证审核"}
MODE_LABELS = {"onsite": "现场审核", "remote": "远程审核"}
ROLE_LABELS = {"leader": "审核组长", "member": "审核员", "expert": "技术专家", "observer": "观察员"}
BOOL_LABELS = {True: "是", False: "否"}
CHOICES: dict[str, dict[str, str]] = {"audit.type": AUDIT_TYPE_LABELS, "audit.mode": MODE_LABELS, "role": ROLE_LABELS}

FORM_LABELS = {"score": "得分", "ratio": "比例", "sampled": "抽样", "not_applicable": "不适用"}
VETO_FORM_LABEL = "符合性"

#: Default rows for each list; a workbook made from a longer audit gets more.
DEFAULT_CAPACITY = {
    "team": 8,
    "timetable": 30,
    "documents_to_prepare": 15,
    "strengths": 10,
    "weaknesses": 10,
    "recommendations": 10,
}


@dataclass(frozen=True)
class Field:
    """One input cell holding one JSON value (``path`` is the key path inside the audit result)."""

    path: tuple[str, ...]
    sheet: str
    cell: str
    kind: Kind
    label: str
    hint: str = ""
    choices: str = ""  # key of CHOICES for kind "choice"
    minimum: int | None = None


@dataclass(frozen=True)
class ListColumn:
    """One column of a list block: the entry's key (empty for a list of strings)."""

    key: str
    column: str
    kind: Kind
    label: str
    hint: str = ""
    choices: str = ""


@dataclass(frozen=True)
class ListBlock:
    """Rows of a JSON list (team, timetable, …), one entry per row, empty rows skipped."""

    path: tuple[str, ...]
    sheet: str
    header_row: int
    first_row: int
    capacity: int
    columns: tuple[ListColumn, ...]
    title: str
    title_cell: str

    @property
    def rows(self) -> range:
        return range(self.first_row, self.first_row + self.capacity)


@dataclass(frozen=True)
class Column:
    """One column of the items sheet."""

    key: str
    letter: str
    label: str
    width: float
    hidden: bool = False


@dataclass(frozen=True)
class Layout:
    """Every cell of one scheme's workbook."""

    scheme: Scheme
    capacity: Mapping[str, int]
    fields: tuple[Field, ...]
    lists: tuple[ListBlock, ...]
    columns: tuple[Column, ...]
    item_rows: Mapping[str, int]  # item id -> row on the items sheet
    prerequisite_rows: Mapping[str, int]  # field -> row on the prerequisites sheet
    labels: Mapping[tuple[str, str], str]  # (sheet, cell) -> fixed text that must be there

    @property
    def first_item_row(self) -> int:
        return ITEM_HEADER_ROW + 1

    @property
    def last_item_row(self) -> int:
        return ITEM_HEADER_ROW + len(self.scheme.items)

    @cached_property
    def _letters(self) -> dict[str, str]:
        """Each items-sheet column's letter by key (the first, should a key repeat)."""
        letters: dict[str, str] = {}
        for c in self.columns:
            letters.setdefault(c.key, c.letter)
        return letters

    def col(self, key: str) -> str:
        """The letter of the items-sheet column ``key``."""
        return self._letters[key]

    def has(self, key: str) -> bool:
        return key in self._letters

    def item_range(self, key: str, *, absolute: bool = True) -> str:
        """``'打分表'!$U$4:$U$76``: a column over all item rows."""
        c = self.col(key)
        return f"'{ITEMS}'!${c}${self.first_item_row}:${c}${self.last_item_row}"

    @property
    def fingerprint(self) -> str:
        """A digest of the structure (scheme items, columns, list sizes), recorded in the workbook."""
        shape = [
            LAYOUT_VERSION,
            self.scheme.id,
            [(it.id, it.clause, str(it.points)) for it in self.scheme.items],
            [c.key for c in self.columns],
            sorted(self.capacity.items()),
            [p.field for p in self.scheme.prerequisites],
        ]
        return hashlib.sha256(json.dumps(shape, ensure_ascii=False).encode()).hexdigest()[:32]


ITEM_HEADER_ROW = 3
PREREQUISITE_HEADERS = ("前提条件", "填写", "判定", "依据")
INFO_FIRST_ROW = 3

_INFO_FIELDS: tuple[tuple[tuple[str, ...], Kind, str, str], ...] = (
    (("organization", "name"), "text", "受审核组织名称", "必填"),
    (("organization", "uscc"), "text", "统一社会信用代码", "必填，18 位"),
    (("organization", "uscc_checksum_override"), "text", "代码校验例外理由", "仅当代码校验不通过而确认无误时填写"),
    (("organization", "registered_address"), "text", "注册地址", "必填"),
    (("organization", "audit_address"), "text", "审核地址", "必填"),
    (("organization", "legal_representative"), "text", "法定代表人", ""),
    (("organization", "employees"), "int", "员工人数", "正整数"),
    (("organization", "contact", "name"), "text", "联系人", ""),
    (("organization", "contact", "title"), "text", "联系人职务", ""),
    (("organization", "contact", "phone"), "text", "联系电话", ""),
    (("organization", "contact", "email"), "text", "电子邮箱", ""),
    (("scope",), "text", "认证范围", "必填"),
    (("audit", "type"), "choice", "审核类型", "必填，从下拉列表选择"),
    (("audit", "start_date"), "date", "审核开始日期", "必填，YYYY-MM-DD"),
    (("audit", "end_date"), "date", "审核结束日期", "必填，YYYY-MM-DD"),
    (("audit", "mode"), "choice", "审核方式", "空白即现场审核"),
    (("audit", "person_days"), "decimal", "本次审核人日", "以半天（0.5）为单位；空白按审核天数 × 审核员人数"),
    (("audit", "initial_person_days"), "decimal", "初次审核人日", "监督、再认证审核填写"),
    (("audit", "previous_certificate"), "text", "原证书编号", "监督、再认证审核填写"),
)


def _info(capacity: Mapping[str, int]) -> tuple[list[Field], list[ListBlock], dict[tuple[str, str], str]]:
    fields: list[Field] = []
    labels: dict[tuple[str, str], str] = {(INFO, "A2"): "项目", (INFO, "B2"): "内容", (INFO, "C2"): "说明"}
    row = INFO_FIRST_ROW
    for path, kind, label, hint in _INFO_FIELDS:
        choices = ".".join(path) if kind == "choice" else ""
        fields.append(Field(path, INFO, f"B{row}", kind, label, hint, choices, minimum=1 if kind == "int" else None))
        labels[(INFO, f"A{row}")] = label
        row += 1
    lists = []
    row += 1
    team = ListBlock(
        ("audit", "team"),
        INFO,
        row + 1,
        row + 2,
        capacity["team"],
        (
            ListColumn("name", "A", "text", "姓名"),
            ListColumn("role", "B", "choice", "角色", "审核组长有且只有一名", "role"),
            ListColumn("qualification", "C", "text", "资格/注册编号"),
        ),
        "审核组",
        f"A{row}",
    )
    lists.append(team)
    row = team.first_row + team.capacity + 1
    docs = ListBlock(
        ("audit", "documents_to_prepare"),
        INFO,
        row + 1,
        row + 2,
        capacity["documents_to_prepare"],
        (ListColumn("", "B", "text", "文件（每行一项）"),),
        "受审核方需准备的文件（空白则用标准清单）",
        f"A{row}",
    )
    lists.append(docs)
    timetable = ListBlock(
        ("audit", "timetable"),
        TIMETABLE,
        3,
        4,
        capacity["timetable"],
        (
            ListColumn("date", "A", "date", "日期"),
            ListColumn("start", "B", "time", "开始", "HH:MM"),
            ListColumn("end", "C", "time", "结束", "HH:MM"),
            ListColumn("activity", "D", "text", "审核活动"),
            ListColumn("auditors", "E", "names", "审核员", "多人以“、”分隔"),
            ListColumn("area", "F", "text", "部门/区域"),
        ),
        "审核日程（空白则按方案类别自动安排）",
        "A1",
    )
    lists.append(timetable)
    return fields, lists, labels


def _report(capacity: Mapping[str, int]) -> tuple[list[Field], list[ListBlock]]:
    fields = [
        Field(("report", "overview"), REPORT, "B3", "text", "审核概述", "空白则自动生成"),
        Field(("report", "team_recommendation"), REPORT, "B4", "text", "审核组推荐意见", "空白则自动生成"),
    ]
    lists = []
    row = 6
    for key, title in (("strengths", "主要优势"), ("weaknesses", "主要不足"), ("recommendations", "改进建议")):
        block = ListBlock(
            ("report", key),
            REPORT,
            row,
            row + 1,
            capacity[key],
            (ListColumn("", "B", "text", f"{title}（每行一项）"),),
            title,
            f"A{row}",
        )
        lists.append(block)
        row = block.first_row + block.capacity + 1
    return fields, lists


def _columns(scheme: Scheme) -> list[Column]:
    if scheme.method == "levels":
        spec: list[tuple[str, str, float, bool]] = [
            ("id", "编号", 12, False),
            ("clause", "条款", 7, False),
            ("name", "维度", 12, False),
            ("requirement", "评价要求", 40, False),
            ("level", "等级（1—5）", 9, False),
            ("level_name", "等级名称", 10, False),
            ("evidence", "审核证据", 45, False),
            ("finding", "审核发现", 40, False),
        ]
    else:
        spec = [
            ("id", "编号", 8, False),
            ("clause", "条款", 8, False),
            ("category", "类别", 10, False),
            ("requirement", "评价要求", 32, False),
            ("points", "分值", 6, False),
            ("form", "评价方式", 8, False),
            ("score", "得分", 6, False),
            ("ratio", "比例（0—1）", 7, False),
            ("sampled", "抽样数", 6, False),
            ("nonconforming", "不符合数", 6, False),
            ("population", "总体数", 7, False),
            ("covers_all_sites", "覆盖全部网点", 7, False),
        ]
        if scheme.veto is not None:
            spec.append(("compliant", "符合（否决项）", 7, False))
        if scheme.exclusions_allowed:
            spec.append(("not_applicable", "不适用理由", 16, False))
        spec += [
            ("evidence", "审核证据", 30, False),
            ("finding", "审核发现", 26, False),
            ("earned", "实得分", 7, False),
        ]
        if scheme.ratio_bands:
            spec.append(("band", "百分比档", 9, False))
        spec += [
            ("note", "提示", 16, False),
            ("earned_c", "实得（分）×100", 6, True),
            ("applicable_c", "涉及分值×100", 6, True),
            ("pending", "未评价", 4, True),
            ("veto_fail", "否决", 4, True),
        ]
    return [
        Column(key, get_column_letter(n), label, width, hidden) for n, (key, label, width, hidden) in enumerate(spec, 1)
    ]


def build_layout(scheme: Scheme, capacity: Mapping[str, int] | None = None) -> Layout:
    """The layout of ``scheme``'s workbook with lists of at least the default sizes."""
    cap = dict(DEFAULT_CAPACITY)
    for key, n in (capacity or {}).items():
        if key in cap:
            cap[key] = max(cap[key], n)
    fields, lists, labels = _info(cap)
    report_fields, report_lists = _report(cap)
    fields += report_fields
    lists += report_lists
    for f in report_fields:
        labels[(f.sheet, "A" + f.cell[1:])] = f.label
    for block in lists:
        labels[(block.sheet, block.title_cell)] = block.title
        for c in block.columns:
            labels[(block.sheet, f"{c.column}{block.header_row}")] = c.label
    columns = _columns(scheme)
    for column in columns:
        labels[(ITEMS, f"{column.letter}{ITEM_HEADER_ROW}")] = column.label
    item_rows = {it.id: ITEM_HEADER_ROW + 1 + n for n, it in enumerate(scheme.items)}
    for it in scheme.items:
        labels[(ITEMS, f"A{item_rows[it.id]}")] = it.id
    prerequisite_rows: dict[str, int] = {}
    if scheme.prerequisites:
        for letter, text in zip("ABCD", PREREQUISITE_HEADERS, strict=True):
            labels[(PREREQUISITES, f"{letter}2")] = text
    for n, p in enumerate(scheme.prerequisites):
        row = 3 + n
        prerequisite_rows[p.field] = row
        labels[(PREREQUISITES, f"A{row}")] = p.text
        kind: Kind = "int" if p.kind == "min" else "bool"
        fields.append(Field(("prerequisites", p.field), PREREQUISITES, f"B{row}", kind, p.text, p.basis, minimum=0))
    return Layout(scheme, cap, tuple(fields), tuple(lists), tuple(columns), item_rows, prerequisite_rows, labels)


def json_path(path: tuple[str | int, ...]) -> str:
    """A key path as the audit validator prints it: ``audit.team[0].name``, ``items["5.1.1.1"].score``."""
    out = ""
    for n, part in enumerate(path):
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out = jp(out, part) if n else part
    return out


def capacity_for(data: Mapping[str, object]) -> dict[str, int]:
    """The list sizes an audit result needs."""
    audit = data.get("audit") if isinstance(data.get("audit"), dict) else {}
    report = data.get("report") if isinstance(data.get("report"), dict) else {}
    need: dict[str, int] = {}
    for key, parent in (
        ("team", audit),
        ("timetable", audit),
        ("documents_to_prepare", audit),
        ("strengths", report),
        ("weaknesses", report),
        ("recommendations", report),
    ):
        value = parent.get(key) if isinstance(parent, dict) else None
        if isinstance(value, list):
            need[key] = len(value)
    return need
