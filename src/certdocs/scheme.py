"""Evaluation schemes (评价方案): one standard's items, points, grades and rules, as data.

A scheme is a JSON file in ``certdocs/schemes/`` (or any folder given by the caller). It is
validated completely on load: points add up per group, per category and in total, ids are
unique, grade bands are ordered, the veto item exists, maturity levels run 1 to 5. A new
standard is a new file, not new code.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from certdocs._fs import read_json_object
from certdocs.errors import Problem, SchemeError

Method = Literal["points", "levels"]


@dataclass(frozen=True)
class Item:
    """One scored item of a scheme (评分项), or one maturity aspect of a level scheme."""

    id: str
    clause: str
    category: str
    group: str
    points: Decimal | None  # None: the veto item, or an aspect of a level scheme
    requirement: str
    name: str = ""


@dataclass(frozen=True)
class Group:
    """A second-level heading of a category (中类), with its points."""

    name: str
    clause: str
    points: Decimal


@dataclass(frozen=True)
class Category:
    """A first-level heading (大类) with its points and groups."""

    name: str
    points: Decimal | None
    groups: tuple[Group, ...]


@dataclass(frozen=True)
class GradeBand:
    """Scores from ``min`` (inclusive) up to the next band's ``min`` earn this grade."""

    min: Decimal
    grade: str
    stars: int | None
    passed: bool


@dataclass(frozen=True)
class RatioBand:
    """A percentage band of chapter 5 of Q/BJKB 006-2026, ``from`` inclusive."""

    lower: Decimal
    upper: Decimal
    label: str
    description: str


@dataclass(frozen=True)
class Level:
    """A maturity level (成熟度等级) of a level scheme."""

    level: int
    name: str
    description: str


@dataclass(frozen=True)
class Prerequisite:
    """A condition an organisation must meet before it can be certified at all."""

    field: str
    kind: Literal["min", "equals"]
    value: int | bool
    text: str
    basis: str


@dataclass(frozen=True)
class Veto:
    """The one-vote veto (一票否决): failing ``item`` fails the audit whatever the points."""

    item: str
    grade: str
    basis: str


@dataclass(frozen=True)
class Surveillance:
    """When surveillance audits fall due: months after the issue date or the last audit."""

    basis_date: Literal["issue_date", "last_audit_end"]
    months_from: int
    months_to: int
    basis: str


@dataclass(frozen=True)
class Scheme:
    """A certification standard's scoring scheme, validated."""

    id: str
    method: Method
    standard_code: str
    standard_title: str
    standard_basis: tuple[str, ...]
    certification_body: str
    total_points: Decimal | None
    categories: tuple[Category, ...]
    items: tuple[Item, ...]
    grades: tuple[GradeBand, ...]
    grading_rule: str
    exclusions_allowed: bool
    exclusions_basis: str
    sampling_min_fraction: Fraction | None
    sampling_basis: str
    veto: Veto | None
    ratio_bands: tuple[RatioBand, ...]
    levels: tuple[Level, ...]
    prerequisites: tuple[Prerequisite, ...]
    surveillance: Surveillance
    digest: str  # SHA-256 of the data file, recorded with every document built from it

    @property
    def standard_full(self) -> str:
        """Code and title as certificates print them: CTS XBHT-S04-2025《…》."""
        return f"{self.standard_code}《{self.standard_title}》"

    def item(self, item_id: str) -> Item:
        """The item with this id."""
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(item_id)

    def level_name(self, level: int) -> str:
        """The name of maturity level ``level`` (1 初始级 … 5 优化级)."""
        return next(lv.name for lv in self.levels if lv.level == level)


def _dec(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError(value)
    return Decimal(str(value))


def parse_scheme(data: Mapping[str, Any], *, source: str, digest: str = "") -> Scheme:
    """Build a :class:`Scheme` from parsed JSON, reporting every inconsistency at once."""
    problems: list[Problem] = []

    def bad(where: str, rule: str) -> None:
        problems.append(Problem(where, rule))

    def need(obj: Mapping[str, Any], key: str, where: str, kind: type | tuple[type, ...]) -> Any:
        if key not in obj:
            bad(f"{where}.{key}", "缺少必填字段")
            return None
        if not isinstance(obj[key], kind):
            bad(f"{where}.{key}", "类型不正确")
            return None
        return obj[key]

    def points(value: Any, where: str) -> Decimal | None:
        if value is None:
            return None
        try:
            p = _dec(value)
        except (ValueError, ArithmeticError):
            bad(where, f"分值 {value!r} 不是数字")
            return None
        if p < 0:
            bad(where, "分值不能为负数")
        return p

    sid = need(data, "id", "$", str) or ""
    method = need(data, "method", "$", str)
    if method not in ("points", "levels"):
        bad("$.method", "只能是 points（计分）或 levels（成熟度等级）")
        method = "points"
    std = need(data, "standard", "$", dict) or {}
    rules = need(data, "rules", "$", dict) or {}

    categories: list[Category] = []
    for n, c in enumerate(need(data, "categories", "$", list) or []):
        where = f"$.categories[{n}]"
        groups = tuple(
            Group(
                str(g.get("name", "")),
                str(g.get("clause", "")),
                points(g.get("points"), f"{where}.groups[{m}].points") or Decimal(0),
            )
            for m, g in enumerate(c.get("groups", []))
        )
        categories.append(Category(str(c.get("name", "")), points(c.get("points"), f"{where}.points"), groups))
    cat_names = [c.name for c in categories]
    if len(set(cat_names)) != len(cat_names):
        bad("$.categories", "类别名称重复")

    items: list[Item] = []
    seen: set[str] = set()
    for n, raw in enumerate(need(data, "items", "$", list) or []):
        where = f"$.items[{n}]"
        iid = str(raw.get("id", ""))
        if not iid:
            bad(f"{where}.id", "缺少条目编号")
        elif iid in seen:
            bad(f"{where}.id", f"条目编号 {iid} 重复")
        seen.add(iid)
        cat = str(raw.get("category", ""))
        if cat not in cat_names:
            bad(f"{where}.category", f"类别“{cat}”未在 categories 中定义")
        items.append(
            Item(
                id=iid,
                clause=str(raw.get("clause", iid)),
                category=cat,
                group=str(raw.get("group", "")),
                points=points(raw.get("points"), f"{where}.points"),
                requirement=str(raw.get("requirement", "")),
                name=str(raw.get("name", "")),
            )
        )
    if not items:
        bad("$.items", "方案没有任何条目")

    veto_raw = rules.get("veto")
    veto = None
    if veto_raw:
        veto = Veto(
            str(veto_raw.get("item", "")), str(veto_raw.get("grade", "一票否决")), str(veto_raw.get("basis", ""))
        )
        if veto.item not in seen:
            bad("$.rules.veto.item", f"否决项 {veto.item} 不是本方案的条目")

    total: Decimal | None = None
    grades: list[GradeBand] = []
    levels: list[Level] = []
    if method == "points":
        total = points(data.get("total_points"), "$.total_points")
        for it in items:
            if it.points is None and (veto is None or it.id != veto.item):
                bad(f"$.items[{it.id}].points", "计分方案的条目必须有分值（否决项除外）")
            if veto is not None and it.id == veto.item and it.points is not None:
                bad(f"$.items[{it.id}].points", "否决项不计分，分值应为 null")
        item_sum = sum((it.points or Decimal(0) for it in items), Decimal(0))
        if total is not None and item_sum != total:
            bad("$.items", f"各条目分值合计 {item_sum}，与总分 {total} 不符")
        for c in categories:
            c_sum = sum((it.points or Decimal(0) for it in items if it.category == c.name), Decimal(0))
            if c.points is None or c_sum != c.points:
                bad(f"$.categories[{c.name}]", f"类别“{c.name}”条目分值合计 {c_sum}，与类别分值 {c.points} 不符")
            for g in c.groups:
                g_sum = sum(
                    (it.points or Decimal(0) for it in items if it.category == c.name and it.group == g.name),
                    Decimal(0),
                )
                if g_sum != g.points:
                    bad(
                        f"$.categories[{c.name}].groups[{g.name}]",
                        f"中类“{g.name}”条目分值合计 {g_sum}，与中类分值 {g.points} 不符",
                    )
        for n, g in enumerate(need(data, "grades", "$", list) or []):
            try:
                grades.append(GradeBand(_dec(g["min"]), str(g["grade"]), g.get("stars"), bool(g["passed"])))
            except (KeyError, ValueError, TypeError, ArithmeticError):
                bad(f"$.grades[{n}]", "等级须含 min、grade、stars、passed")
        if grades:
            if grades[0].min != 0:
                bad("$.grades[0].min", "最低等级的下限必须为 0")
            for a, b in itertools.pairwise(grades):
                if b.min <= a.min:
                    bad("$.grades", f"等级下限须严格递增：{a.grade} {a.min} 之后是 {b.grade} {b.min}")
            if grades[-1].min > 100:
                bad("$.grades", "等级下限不能超过 100")
    else:
        for n, lv in enumerate(need(data, "levels", "$", list) or []):
            levels.append(Level(int(lv.get("level", 0)), str(lv.get("name", "")), str(lv.get("description", ""))))
            if not levels[-1].name:
                bad(f"$.levels[{n}].name", "缺少等级名称")
        if [lv.level for lv in levels] != [1, 2, 3, 4, 5]:
            bad("$.levels", "成熟度等级须依次为 1—5 级")
        for it in items:
            if it.points is not None:
                bad(f"$.items[{it.id}].points", "成熟度等级方案的维度不计分")

    ratio_bands: list[RatioBand] = []
    for n, rb in enumerate(rules.get("ratio_bands") or []):
        try:
            ratio_bands.append(
                RatioBand(_dec(rb["from"]), _dec(rb["to"]), str(rb["label"]), str(rb.get("description", "")))
            )
        except (KeyError, ValueError, ArithmeticError):
            bad(f"$.rules.ratio_bands[{n}]", "评分比例档须含 from、to、label")
    if ratio_bands:
        if ratio_bands[0].lower != 0 or ratio_bands[-1].upper != 1:
            bad("$.rules.ratio_bands", "评分比例档须覆盖 0—1")
        for lo, hi in itertools.pairwise(ratio_bands):
            if lo.upper != hi.lower or lo.lower >= lo.upper:
                bad("$.rules.ratio_bands", f"评分比例档 {lo.label} 与 {hi.label} 不衔接")

    sampling = rules.get("sampling") or {}
    fraction = None
    if sampling.get("min_fraction"):
        try:
            fraction = Fraction(str(sampling["min_fraction"]))
        except (ValueError, ZeroDivisionError):
            bad("$.rules.sampling.min_fraction", "抽样比例须为分数，如 2/3")
    exclusions = rules.get("exclusions") or {}
    prereqs = tuple(
        Prerequisite(str(p["field"]), p["kind"], p["value"], str(p.get("text", "")), str(p.get("basis", "")))
        for p in rules.get("prerequisites") or []
    )
    for p in prereqs:
        if p.kind not in ("min", "equals"):
            bad(f"$.rules.prerequisites[{p.field}].kind", "只能是 min 或 equals")

    surv = data.get("surveillance") or {}
    months = surv.get("months") or [0, 12]
    if surv.get("from") not in ("issue_date", "last_audit_end"):
        bad("$.surveillance.from", "只能是 issue_date 或 last_audit_end")
    if not (isinstance(months, list) and len(months) == 2 and 0 <= months[0] < months[1]):
        bad("$.surveillance.months", "须为 [起, 止] 月数且起 < 止")
        months = [0, 12]

    if problems:
        raise SchemeError(problems, source=source)
    return Scheme(
        id=sid,
        method=method,
        standard_code=str(std.get("code", "")),
        standard_title=str(std.get("title", "")),
        standard_basis=tuple(std.get("basis", [])),
        certification_body=str(std.get("certification_body", "")),
        total_points=total,
        categories=tuple(categories),
        items=tuple(items),
        grades=tuple(grades),
        grading_rule=str(data.get("grading_rule", "")),
        exclusions_allowed=bool(exclusions.get("allowed", False)),
        exclusions_basis=str(exclusions.get("basis", "")),
        sampling_min_fraction=fraction,
        sampling_basis=str(sampling.get("basis", "")),
        veto=veto,
        ratio_bands=tuple(ratio_bands),
        levels=tuple(levels),
        prerequisites=prereqs,
        surveillance=Surveillance(
            surv.get("from", "issue_date"), int(months[0]), int(months[1]), str(surv.get("basis", ""))
        ),
        digest=digest,
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
    if extra_dir is not None and (extra_dir / f"{scheme_id}.json").is_file():
        return load_scheme_file(extra_dir / f"{scheme_id}.json")
    try:
        return _bundled()[scheme_id]
    except KeyError:
        known = "、".join(scheme_ids())
        raise SchemeError([Problem("scheme", f"未知的评价方案 {scheme_id!r}（可选：{known}）")]) from None
