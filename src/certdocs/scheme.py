"""Evaluation schemes (评价方案): one standard's items, points, grades and rules, as data.

A scheme is a JSON file in ``certdocs/schemes/`` (or any folder given by the caller). It is
validated completely on load: points add up per group, per category and in total, ids are
unique, grade bands are ordered, the veto item exists, maturity levels run 1 to 5. A new
standard is a new file, not new code. The dataclasses live in ``_scheme_model``; this module
validates (with the one toolkit, :class:`~certdocs._validate.Checker`) and loads.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from certdocs._fs import read_json_object, safe_name
from certdocs._scheme_model import (
    Category,
    GradeBand,
    Group,
    Item,
    Level,
    Method,
    Prerequisite,
    RatioBand,
    Scheme,
    Surveillance,
    Veto,
)
from certdocs._validate import Checker
from certdocs.errors import Problem, SchemeError

_TOP = {
    "format",
    "id",
    "method",
    "standard",
    "total_points",
    "categories",
    "items",
    "rules",
    "grading_rule",
    "grades",
    "levels",
    "surveillance",
    "item_numbering",
}
_RULES = {"exclusions", "sampling", "veto", "ratio_bands", "prerequisites", "level_rule"}


def _points(c: Checker, obj: Mapping[str, Any], where: str) -> Decimal | None:
    value = c.number(obj, "points", where)
    if value is not None and value < 0:
        c.bad(where, "分值不能为负数")
    return value


def _categories(c: Checker, data: Mapping[str, Any]) -> list[Category]:
    categories: list[Category] = []
    for where, raw in c.entries(c.array(data, "categories", "categories"), "categories", {"name", "points", "groups"}):
        groups = tuple(
            Group(
                c.text(g, "name", f"{gw}.name"),
                c.text(g, "clause", f"{gw}.clause"),
                _points(c, g, f"{gw}.points") or Decimal(0),
            )
            for gw, g in c.entries(
                c.array(raw, "groups", f"{where}.groups", required=False),
                f"{where}.groups",
                {"name", "clause", "points"},
            )
        )
        categories.append(Category(c.text(raw, "name", f"{where}.name"), _points(c, raw, f"{where}.points"), groups))
    names = [cat.name for cat in categories]
    if len(set(names)) != len(names):
        c.bad("categories", "类别名称重复")
    return categories


def _items(c: Checker, data: Mapping[str, Any], categories: list[Category]) -> list[Item]:
    names = {cat.name for cat in categories}
    items: list[Item] = []
    seen: set[str] = set()
    allowed = {"id", "clause", "category", "group", "points", "requirement", "name"}
    for where, raw in c.entries(c.array(data, "items", "items"), "items", allowed):
        iid = c.text(raw, "id", f"{where}.id")
        if iid in seen:
            c.bad(f"{where}.id", f"条目编号 {iid} 重复")
        seen.add(iid)
        cat = c.text(raw, "category", f"{where}.category")
        if cat and cat not in names:
            c.bad(f"{where}.category", f"类别“{cat}”未在 categories 中定义")
        items.append(
            Item(
                id=iid,
                clause=c.text(raw, "clause", f"{where}.clause", required=False) or iid,
                category=cat,
                group=c.text(raw, "group", f"{where}.group", required=False),
                points=_points(c, raw, f"{where}.points"),
                requirement=c.text(raw, "requirement", f"{where}.requirement", required=False),
                name=c.text(raw, "name", f"{where}.name", required=False),
            )
        )
    if not items and "items" in data:
        c.bad("items", "方案没有任何条目")
    return items


def _check_points(
    c: Checker, total: Decimal | None, categories: list[Category], items: list[Item], veto: Veto | None
) -> None:
    for n, it in enumerate(items):
        if it.points is None and (veto is None or it.id != veto.item):
            c.bad(f"items[{n}].points", "计分方案的条目必须有分值（否决项除外）")
        if veto is not None and it.id == veto.item and it.points is not None:
            c.bad(f"items[{n}].points", "否决项不计分，分值应为 null")
    item_sum = sum((it.points or Decimal(0) for it in items), Decimal(0))
    if total is not None and item_sum != total:
        c.bad("items", f"各条目分值合计 {item_sum}，与总分 {total} 不符")
    for n, cat in enumerate(categories):
        c_sum = sum((it.points or Decimal(0) for it in items if it.category == cat.name), Decimal(0))
        if cat.points is None or c_sum != cat.points:
            c.bad(f"categories[{n}]", f"类别“{cat.name}”条目分值合计 {c_sum}，与类别分值 {cat.points} 不符")
        for m, g in enumerate(cat.groups):
            in_group = (it.points or Decimal(0) for it in items if it.category == cat.name and it.group == g.name)
            g_sum = sum(in_group, Decimal(0))
            if g_sum != g.points:
                c.bad(f"categories[{n}].groups[{m}]", f"中类“{g.name}”条目分值合计 {g_sum}，与中类分值 {g.points} 不符")


def _grades(c: Checker, data: Mapping[str, Any]) -> list[GradeBand]:
    grades: list[GradeBand] = []
    for where, g in c.entries(c.array(data, "grades", "grades"), "grades", {"min", "grade", "stars", "passed"}):
        low = c.number(g, "min", f"{where}.min", required=True)
        name = c.text(g, "grade", f"{where}.grade")
        stars = c.integer(g, "stars", f"{where}.stars")
        passed = c.boolean(g, "passed", f"{where}.passed", required=True)
        if low is not None and passed is not None:
            grades.append(GradeBand(low, name, stars, passed))
    if grades and len(grades) == len(data.get("grades") or []):
        if grades[0].min != 0:
            c.bad("grades[0].min", "最低等级的下限必须为 0")
        for a, b in itertools.pairwise(grades):
            if b.min <= a.min:
                c.bad("grades", f"等级下限须严格递增：{a.grade} {a.min} 之后是 {b.grade} {b.min}")
        if grades[-1].min > 100:
            c.bad("grades", "等级下限不能超过 100")
    return grades


def _levels(c: Checker, data: Mapping[str, Any], items: list[Item]) -> list[Level]:
    levels: list[Level] = []
    for where, lv in c.entries(c.array(data, "levels", "levels"), "levels", {"level", "name", "description"}):
        number = c.integer(lv, "level", f"{where}.level", required=True)
        levels.append(
            Level(
                number or 0,
                c.text(lv, "name", f"{where}.name"),
                c.text(lv, "description", f"{where}.description", required=False),
            )
        )
    if [lv.level for lv in levels] != [1, 2, 3, 4, 5]:
        c.bad("levels", "成熟度等级须依次为 1—5 级")
    for n, it in enumerate(items):
        if it.points is not None:
            c.bad(f"items[{n}].points", "成熟度等级方案的维度不计分")
    return levels


def _ratio_bands(c: Checker, rules: Mapping[str, Any]) -> list[RatioBand]:
    bands: list[RatioBand] = []
    allowed = {"from", "to", "label", "description"}
    raw = c.array(rules, "ratio_bands", "rules.ratio_bands", required=False)
    for where, rb in c.entries(raw, "rules.ratio_bands", allowed):
        lower = c.number(rb, "from", f"{where}.from", required=True)
        upper = c.number(rb, "to", f"{where}.to", required=True)
        label = c.text(rb, "label", f"{where}.label")
        description = c.text(rb, "description", f"{where}.description", required=False)
        if lower is not None and upper is not None:
            bands.append(RatioBand(lower, upper, label, description))
    if bands and len(bands) == len(raw):
        if bands[0].lower != 0 or bands[-1].upper != 1:
            c.bad("rules.ratio_bands", "评分比例档须覆盖 0—1")
        for lo, hi in itertools.pairwise(bands):
            if lo.upper != hi.lower or lo.lower >= lo.upper:
                c.bad("rules.ratio_bands", f"评分比例档 {lo.label} 与 {hi.label} 不衔接")
    return bands


def _prerequisites(c: Checker, rules: Mapping[str, Any]) -> tuple[Prerequisite, ...]:
    out: list[Prerequisite] = []
    raw = c.array(rules, "prerequisites", "rules.prerequisites", required=False)
    for where, p in c.entries(raw, "rules.prerequisites", {"field", "kind", "value", "text", "basis"}):
        name = c.text(p, "field", f"{where}.field")
        kind = c.choice(p, "kind", f"{where}.kind", ("min", "equals"))
        value = p.get("value")
        if kind == "min":
            value = c.integer(p, "value", f"{where}.value", required=True)
        elif not isinstance(value, bool):
            c.bad(f"{where}.value", "equals 条件的值应为 true 或 false")
        text = c.text(p, "text", f"{where}.text", required=False)
        basis = c.text(p, "basis", f"{where}.basis", required=False)
        if name and isinstance(value, int):
            out.append(Prerequisite(name, "min" if kind == "min" else "equals", value, text, basis))
    return tuple(out)


def _surveillance(c: Checker, data: Mapping[str, Any]) -> Surveillance:
    surv = c.obj(data, "surveillance", "surveillance")
    c.unknown(surv, {"from", "months", "basis"}, "surveillance")
    start = c.choice(surv, "from", "surveillance.from", ("issue_date", "last_audit_end"))
    months = surv.get("months", [0, 12])
    if not (
        isinstance(months, list)
        and len(months) == 2
        and all(isinstance(m, int) and not isinstance(m, bool) for m in months)
        and 0 <= months[0] < months[1]
    ):
        c.bad("surveillance.months", "须为两个整数月数 [起, 止]，且 0 ≤ 起 < 止，如 [9, 12]")
        months = [0, 12]
    basis = c.text(surv, "basis", "surveillance.basis", required=False)
    return Surveillance("last_audit_end" if start == "last_audit_end" else "issue_date", months[0], months[1], basis)


def parse_scheme(data: Mapping[str, Any], *, source: str, digest: str = "") -> Scheme:
    """Build a :class:`Scheme` from parsed JSON, reporting every inconsistency at once."""
    c = Checker()
    c.unknown(data, _TOP, "")
    sid = c.text(data, "id", "id")
    method = c.choice(data, "method", "method", ("points", "levels"))
    std = c.obj(data, "standard", "standard")
    c.unknown(std, {"code", "title", "basis", "certification_body"}, "standard")
    rules = c.obj(data, "rules", "rules")
    c.unknown(rules, _RULES, "rules")
    numbering = c.choice(data, "item_numbering", "item_numbering", ("sequence", "id"), default="sequence")
    categories = _categories(c, data)
    items = _items(c, data, categories)
    ids = {it.id for it in items}

    veto_raw = c.obj(rules, "veto", "rules.veto", required=False)
    c.unknown(veto_raw, {"item", "grade", "basis"}, "rules.veto")
    veto = None
    if veto_raw:
        veto = Veto(
            c.text(veto_raw, "item", "rules.veto.item"),
            c.text(veto_raw, "grade", "rules.veto.grade", required=False) or "一票否决",
            c.text(veto_raw, "basis", "rules.veto.basis", required=False),
        )
        if veto.item and veto.item not in ids:
            c.bad("rules.veto.item", f"否决项 {veto.item} 不是本方案的条目")

    total: Decimal | None = None
    grades: list[GradeBand] = []
    levels: list[Level] = []
    if method == "points":
        total = c.number(data, "total_points", "total_points")
        _check_points(c, total, categories, items, veto)
        grades = _grades(c, data)
    else:
        levels = _levels(c, data, items)

    ratio_bands = _ratio_bands(c, rules)
    sampling = c.obj(rules, "sampling", "rules.sampling", required=False)
    c.unknown(sampling, {"min_fraction", "basis"}, "rules.sampling")
    fraction = None
    raw_fraction = c.text(sampling, "min_fraction", "rules.sampling.min_fraction", required=False)
    if raw_fraction:
        try:
            fraction = Fraction(raw_fraction)
        except (ValueError, ZeroDivisionError):
            c.bad("rules.sampling.min_fraction", "抽样比例须为分数，如 2/3")
    exclusions = c.obj(rules, "exclusions", "rules.exclusions", required=False)
    c.unknown(exclusions, {"allowed", "basis"}, "rules.exclusions")
    level_rule = c.obj(rules, "level_rule", "rules.level_rule", required=False)
    c.unknown(level_rule, {"kind", "basis"}, "rules.level_rule")
    prereqs = _prerequisites(c, rules)
    surveillance = _surveillance(c, data)
    standard = (
        c.text(std, "code", "standard.code"),
        c.text(std, "title", "standard.title"),
        c.texts(std, "basis", "standard.basis"),
        c.text(std, "certification_body", "standard.certification_body", required=False),
    )
    grading_rule = c.text(data, "grading_rule", "grading_rule", required=False, multiline=True)
    exclusions_allowed = c.boolean(exclusions, "allowed", "rules.exclusions.allowed") or False
    exclusions_basis = c.text(exclusions, "basis", "rules.exclusions.basis", required=False)
    sampling_basis = c.text(sampling, "basis", "rules.sampling.basis", required=False)
    if c.problems:
        raise SchemeError(c.problems, source=source)
    return Scheme(
        id=sid,
        method="levels" if method == "levels" else "points",
        standard_code=standard[0],
        standard_title=standard[1],
        standard_basis=standard[2],
        certification_body=standard[3],
        total_points=total,
        categories=tuple(categories),
        items=tuple(items),
        grades=tuple(grades),
        grading_rule=grading_rule,
        exclusions_allowed=exclusions_allowed,
        exclusions_basis=exclusions_basis,
        sampling_min_fraction=fraction,
        sampling_basis=sampling_basis,
        veto=veto,
        ratio_bands=tuple(ratio_bands),
        levels=tuple(levels),
        prerequisites=prereqs,
        surveillance=surveillance,
        digest=digest,
        item_numbering="id" if numbering == "id" else "sequence",
    )


def load_scheme_file(path: Path) -> Scheme:
    """Read and validate one scheme data file."""
    data, digest = read_json_object(path, SchemeError)
    return parse_scheme(data, source=str(path), digest=digest)


@cache
def _bundled() -> dict[str, Scheme]:
    folder = resources.files("certdocs") / "schemes"
    out: dict[str, Scheme] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            with resources.as_file(entry) as p:
                scheme = load_scheme_file(Path(p))
            out[scheme.id] = scheme
    return out


def scheme_ids() -> list[str]:
    """Ids of the bundled schemes, sorted."""
    return sorted(_bundled())


def get_scheme(scheme_id: str, *, extra_dir: Path | None = None) -> Scheme:
    """The scheme with this id: from ``extra_dir`` (``<id>.json``) if given, else bundled."""
    # The id comes from the audit file: only a plain name may select a file (never "../x").
    if extra_dir is not None and safe_name(scheme_id) == scheme_id and (extra_dir / f"{scheme_id}.json").is_file():
        return load_scheme_file(extra_dir / f"{scheme_id}.json")
    try:
        return _bundled()[scheme_id]
    except KeyError:
        known = "、".join(scheme_ids())
        raise SchemeError([Problem("scheme", f"未知的评价方案 {scheme_id!r}（可选：{known}）")]) from None


__all__ = [
    "Category",
    "GradeBand",
    "Group",
    "Item",
    "Level",
    "Method",
    "Prerequisite",
    "RatioBand",
    "Scheme",
    "Surveillance",
    "Veto",
    "get_scheme",
    "load_scheme_file",
    "parse_scheme",
    "scheme_ids",
]
