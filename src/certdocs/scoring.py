"""Scoring an audit result under its scheme (docs/score.md), in exact decimal arithmetic.

Rules, in the standards' words:
- an item earns its ``score``, or points × ``ratio``, or points × (1 − k/n) for a sample;
  each item's earned points are recorded to 0.01 (half-up), as the scoresheet prints them, so
  the printed column adds up to the printed total;
- excluded items (不适用) leave the applicable total (GB/T 27922 6.2.2, XBHT-S04 6.2.3);
- score = earned ÷ applicable × 100, half-up to one decimal, and the grade is decided on that
  rounded figure, so a document never prints 89.95 beside 四星级;
- a failed veto item (一票否决) fails the audit whatever the points;
- for a level scheme the organisation's level is its lowest aspect level (渐进发展原则), and it
  passes when the prerequisites hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Any

from certdocs.audit import AuditResult, ItemResult
from certdocs.scheme import Item, Scheme

_CENT = Decimal("0.01")
_TENTH = Decimal("0.1")
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class ItemScore:
    """One item's outcome."""

    item: Item
    result: ItemResult
    earned: Decimal | None  # None: excluded, veto item, or an aspect of a level scheme
    applicable: bool
    band: str = ""  # percentage band (Q/BJKB 006-2026 chapter 5), where the scheme has bands
    level: int | None = None

    @property
    def lost(self) -> Decimal:
        """Points deducted on this item (0 when excluded or not scored)."""
        if self.earned is None or self.item.points is None:
            return Decimal(0)
        return self.item.points - self.earned


@dataclass(frozen=True, slots=True)
class CategoryScore:
    """Subtotal of one category (大类)."""

    name: str
    points: Decimal | None
    earned: Decimal | None
    applicable: Decimal | None


@dataclass(frozen=True)
class Score:
    """The outcome of one audit under its scheme (docs/score.md)."""

    scheme_id: str
    earned: Decimal | None
    applicable: Decimal | None
    score: Decimal | None
    grade: str
    stars: int | None
    level: int | None
    passed: bool
    veto: bool
    categories: tuple[CategoryScore, ...]
    items: tuple[ItemScore, ...]
    unmet_prerequisites: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The JSON object of docs/score.md (numbers as JSON numbers)."""
        items = []
        for s in self.items:
            row: dict[str, Any] = {
                "id": s.item.id,
                "points": _num(s.item.points),
                "earned": _num(s.earned),
                "applicable": s.applicable,
            }
            if s.band:
                row["band"] = s.band
            if s.level is not None:
                row["level"] = s.level
            if s.result.form == "compliant":
                row["compliant"] = s.result.compliant
            items.append(row)
        return {
            "scheme": self.scheme_id,
            "earned": _num(self.earned, whole=False),
            "applicable": _num(self.applicable, whole=False),
            "score": _num(self.score, whole=False),
            "grade": self.grade,
            "stars": self.stars,
            "level": self.level,
            "passed": self.passed,
            "veto": self.veto,
            "categories": [
                {"name": c.name, "earned": _num(c.earned, whole=False), "applicable": _num(c.applicable, whole=False)}
                for c in self.categories
            ],
            "items": items,
        }


def _num(value: Decimal | None, *, whole: bool = True) -> int | float | None:
    """A Decimal as a JSON number; with at most two places, float's repr is exact text."""
    if value is None:
        return None
    if whole and value == value.to_integral_value():
        return int(value)
    return float(value)


def item_earned(item: Item, result: ItemResult) -> Decimal | None:
    """Points one result earns on its item, to 0.01 half-up; None when it earns none by design."""
    points = item.points
    if points is None or result.form in ("not_applicable", "compliant", "level"):
        return None
    if result.form == "score":
        raw = result.score or Decimal(0)
    elif result.form == "ratio":
        raw = points * (result.ratio or Decimal(0))
    else:
        n, k = result.sampled or 1, result.nonconforming or 0
        raw = points * (n - k) / n
    return raw.quantize(_CENT, rounding=ROUND_HALF_UP)


def round_score(earned: Decimal, applicable: Decimal) -> Decimal:
    """earned ÷ applicable × 100, rounded half-up to one decimal."""
    return (earned * _HUNDRED / applicable).quantize(_TENTH, rounding=ROUND_HALF_UP)


def _band(scheme: Scheme, item: Item, earned: Decimal | None) -> str:
    if not scheme.ratio_bands or earned is None or not item.points:
        return ""
    ratio = earned / item.points
    for band in scheme.ratio_bands:
        if band.lower <= ratio < band.upper:
            return band.label
    return scheme.ratio_bands[-1].label


def score_audit(audit: AuditResult, scheme: Scheme) -> Score:
    """Score a validated audit result under ``scheme``."""
    # A private context: results must not depend on whatever precision a caller has set.
    with localcontext(Context(prec=40)):
        if scheme.method == "levels":
            return _score_levels(audit, scheme)
        return _score_points(audit, scheme)


def _score_points(audit: AuditResult, scheme: Scheme) -> Score:
    items: list[ItemScore] = []
    vetoed = False
    for item in scheme.items:
        result = audit.items[item.id]
        earned = item_earned(item, result)
        if result.form == "compliant" and result.compliant is False:
            vetoed = True
        items.append(ItemScore(item, result, earned, result.form != "not_applicable", _band(scheme, item, earned)))
    # Each category's subtotals in one pass over the items (not one pass per category), adding in
    # the scheme's item order as before; the sums are exact at this precision whatever the order.
    earned_in = {cat.name: Decimal(0) for cat in scheme.categories}
    applicable_in = dict(earned_in)
    for s in items:
        if s.earned is not None and s.item.category in earned_in:
            earned_in[s.item.category] += s.earned
            if s.item.points is not None:
                applicable_in[s.item.category] += s.item.points
    categories = [
        CategoryScore(cat.name, cat.points, earned_in[cat.name], applicable_in[cat.name]) for cat in scheme.categories
    ]
    earned = sum((c.earned for c in categories if c.earned is not None), Decimal(0))
    applicable = sum((c.applicable for c in categories if c.applicable is not None), Decimal(0))
    score = round_score(earned, applicable)
    band = next(b for b in reversed(scheme.grades) if score >= b.min)
    grade, stars, passed = band.grade, band.stars, band.passed
    if vetoed and scheme.veto is not None:
        grade, stars, passed = scheme.veto.grade, None, False
    return Score(
        scheme.id, earned, applicable, score, grade, stars, None, passed, vetoed, tuple(categories), tuple(items)
    )


def _score_levels(audit: AuditResult, scheme: Scheme) -> Score:
    items = tuple(
        ItemScore(item, audit.items[item.id], None, True, level=audit.items[item.id].level) for item in scheme.items
    )
    level = min(s.level for s in items if s.level is not None)
    unmet = []
    for p in scheme.prerequisites:
        value = audit.prerequisites.get(p.field)
        ok = (
            (isinstance(value, int) and not isinstance(value, bool) and value >= int(p.value))
            if p.kind == "min"
            else value is p.value
        )
        if not ok:
            unmet.append(p.text)
    categories = tuple(CategoryScore(c.name, None, None, None) for c in scheme.categories)
    return Score(
        scheme.id,
        None,
        None,
        None,
        scheme.level_name(level),
        None,
        level,
        not unmet,
        False,
        categories,
        items,
        tuple(unmet),
    )
