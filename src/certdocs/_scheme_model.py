"""The scheme's data model: one standard's items, points, grades and rules, validated by ``scheme``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

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
    item_numbering: Literal["sequence", "id"] = "sequence"  # what documents print as an item's 序号

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
