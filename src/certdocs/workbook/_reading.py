"""The input cells of a workbook read into the audit-result JSON value, each path mapped to its cell."""

from __future__ import annotations

import re
from typing import Any

from certdocs.errors import Problem
from certdocs.workbook._cells import clock, day, number, ordered, plain, set_path
from certdocs.workbook._values import Values
from certdocs.workbook.layout import (
    BOOL_LABELS,
    CHOICES,
    FORM_LABELS,
    INFO,
    ITEM_HEADER_ROW,
    ITEMS,
    PREREQUISITES,
    REPORT,
    VETO_FORM_LABEL,
    Kind,
    Layout,
    json_path,
)

_FORM_CODES = {label: code for code, label in FORM_LABELS.items()}
_RESULT_KEYS = ("score", "ratio", "sampled", "nonconforming", "population", "covers_all_sites", "not_applicable")
_USES = {
    "score": {"score"},
    "ratio": {"ratio"},
    "sampled": {"sampled", "nonconforming", "population", "covers_all_sites"},
    "not_applicable": {"not_applicable"},
}


def cell_text(value: Any) -> str:
    """A cell's value as the text it shows, trimmed (a whole float without its .0)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# -- values ------------------------------------------------------------------------------------

_EMPTY = object()


class CellReading:
    """One pass over the input cells, building the JSON document and the path → cell map."""

    def __init__(self, wb: Values, layout: Layout) -> None:
        self.wb = wb
        self.layout = layout
        self.cells: dict[str, str] = {}
        self.problems: list[Problem] = []
        self.reported: set[str] = set()

    def loc(self, sheet: str, ref: str) -> str:
        return f"{sheet}!{ref}"

    def value(self, sheet: str, ref: str, kind: Kind, choices: str = "") -> Any:
        """A cell converted to its JSON value; ``_EMPTY`` for an empty cell."""
        raw = self.wb.value(sheet, ref)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return _EMPTY
        where = self.loc(sheet, ref)
        if kind == "text":
            return plain(raw) if not isinstance(raw, str) else raw
        if kind == "names":
            return [n.strip() for n in re.split(r"[、，,；;]", plain(raw)) if n.strip()]
        if kind in ("int", "decimal"):
            return number(raw)
        if kind == "date":
            return day(raw)
        if kind == "time":
            return clock(raw)
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip()
            for flag, label in BOOL_LABELS.items():
                if text == label:
                    return flag
            self.problems.append(Problem(where, f"“{text}”无效，应从下拉列表选择“是”或“否”"))
            return _EMPTY
        labels = CHOICES[choices]
        text = str(raw).strip()
        for code, label in labels.items():
            if text in (label, code):
                return code
        self.problems.append(Problem(where, f"“{text}”无效，应从下拉列表选择：{'、'.join(labels.values())}"))
        return _EMPTY

    def document(self) -> dict[str, Any]:
        layout = self.layout
        data: dict[str, Any] = {"scheme": layout.scheme.id, "organization": {}, "scope": None, "audit": {"team": []}}
        containers = {
            "organization": INFO,
            "audit": INFO,
            "scope": INFO,
            "report": REPORT,
            "prerequisites": PREREQUISITES,
        }
        for key, sheet in containers.items():
            self.cells[key] = self.loc(sheet, "B3")
        self.cells["items"] = self.loc(ITEMS, f"A{ITEM_HEADER_ROW}")
        del data["scope"]
        for f in layout.fields:
            self.cells[json_path(f.path)] = self.loc(f.sheet, f.cell)
            v = self.value(f.sheet, f.cell, f.kind, f.choices)
            if v is not _EMPTY:
                set_path(data, f.path, v)
        for block in layout.lists:
            self.cells[json_path(block.path)] = self.loc(block.sheet, block.title_cell)
            entries: list[Any] = []
            for row in block.rows:
                if not block.columns[0].key:
                    c = block.columns[0]
                    v = self.value(block.sheet, f"{c.column}{row}", c.kind)
                    if v is not _EMPTY:
                        self.cells[json_path((*block.path, len(entries)))] = self.loc(block.sheet, f"{c.column}{row}")
                        entries.append(v)
                    continue
                entry: dict[str, Any] = {}
                refs = {}
                for c in block.columns:
                    ref = f"{c.column}{row}"
                    refs[c.key] = ref
                    v = self.value(block.sheet, ref, c.kind, c.choices)
                    if v is not _EMPTY:
                        entry[c.key] = v
                if any(self.wb.value(block.sheet, r) not in (None, "") for r in refs.values()):
                    n = len(entries)
                    self.cells[json_path((*block.path, n))] = self.loc(block.sheet, refs[block.columns[0].key])
                    for key, ref in refs.items():
                        self.cells[json_path((*block.path, n, key))] = self.loc(block.sheet, ref)
                    entries.append(entry)
            if entries or block.path == ("audit", "team"):
                set_path(data, block.path, entries)
        data["items"] = self.items()
        if layout.scheme.prerequisites and not data.get("prerequisites"):
            data.pop("prerequisites", None)
        return ordered(data)

    def items(self) -> dict[str, Any]:
        layout = self.layout
        scheme = layout.scheme
        out: dict[str, Any] = {}
        for it in scheme.items:
            row = layout.item_rows[it.id]
            where = json_path(("items", it.id))
            entry: dict[str, Any] = {}
            is_veto = scheme.veto is not None and scheme.veto.item == it.id
            if scheme.method == "levels":
                main = "level"
                v = self.value(ITEMS, f"{layout.col('level')}{row}", "decimal")
                if v is not _EMPTY:
                    entry["level"] = v
            elif is_veto:
                main = "compliant"
                v = self.value(ITEMS, f"{layout.col('compliant')}{row}", "bool")
                if v is not _EMPTY:
                    entry["compliant"] = v
                self._stray(row, set(), VETO_FORM_LABEL)
            else:
                main = "form"
                entry = self._points_result(it.id, row)
            self.cells[where] = self.loc(ITEMS, f"{layout.col(main)}{row}")
            for key in (*_RESULT_KEYS, "compliant", "level", "evidence", "finding"):
                if layout.has(key):
                    self.cells[json_path(("items", it.id, key))] = self.loc(ITEMS, f"{layout.col(key)}{row}")
            if entry:
                for key in ("evidence", "finding"):
                    v = self.value(ITEMS, f"{layout.col(key)}{row}", "text")
                    if v is not _EMPTY:
                        entry[key] = v
                out[it.id] = entry
        return out

    def _points_result(self, item_id: str, row: int) -> dict[str, Any]:
        layout = self.layout
        ref = f"{layout.col('form')}{row}"
        raw = self.wb.value(ITEMS, ref)
        label = cell_text(raw)
        form = _FORM_CODES.get(label, label if label in _USES else "")
        if label and not form:
            allowed = [FORM_LABELS[k] for k in _USES if layout.has(k) or k != "not_applicable"]
            self.problems.append(
                Problem(self.loc(ITEMS, ref), f"评价方式“{label}”无效，应从下拉列表选择：{'、'.join(allowed)}")
            )
            return {}
        if not form:
            if self._stray(row, set(), ""):
                self.problems.append(Problem(self.loc(ITEMS, ref), "已填写结果但未选择评价方式"))
            return {}
        if form == "not_applicable" and not layout.has("not_applicable"):
            self.problems.append(Problem(self.loc(ITEMS, ref), f"方案 {layout.scheme.id} 不允许删减条目（不适用）"))
            return {}
        self._stray(row, _USES[form], FORM_LABELS[form])
        entry: dict[str, Any] = {}
        for key in _RESULT_KEYS:
            if key not in _USES[form] or not layout.has(key):
                continue
            kind: Kind = "bool" if key == "covers_all_sites" else "text" if key == "not_applicable" else "decimal"
            v = self.value(ITEMS, f"{layout.col(key)}{row}", kind)
            if v is not _EMPTY:
                entry[key] = v
        if form not in entry:
            entry[form] = "" if form == "not_applicable" else None
            if form != "not_applicable":
                self.problems.append(
                    Problem(self.loc(ITEMS, f"{layout.col(form)}{row}"), f"评价方式为“{FORM_LABELS[form]}”，此格须填写")
                )
                self.reported.add(self.loc(ITEMS, ref))
                return {}
        return entry

    def _stray(self, row: int, allowed: set[str], label: str) -> bool:
        """Report result cells filled outside the chosen form; True when there are any."""
        found = False
        for key in _RESULT_KEYS:
            if key in allowed or not self.layout.has(key):
                continue
            ref = f"{self.layout.col(key)}{row}"
            if self.wb.value(ITEMS, ref) not in (None, ""):
                found = True
                if label:
                    self.problems.append(
                        Problem(self.loc(ITEMS, ref), f"评价方式为“{label}”，此格应为空（或改选评价方式）")
                    )
        return found
