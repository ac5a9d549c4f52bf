"""Scoring under the four schemes: grade boundaries, exclusions, sampling, veto, levels."""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certdocs.audit import parse_audit
from certdocs.scheme import get_scheme
from certdocs.scoring import Score, score_audit
from tests.conftest import full_marks_audit, points_of

BANDS: dict[str, list[tuple[str, str, int | None, bool]]] = {
    "fw01-2021": [
        ("69.9", "不达标", None, False),
        ("70.0", "达标级", None, True),
        ("79.9", "达标级", None, True),
        ("80.0", "三星级", 3, True),
        ("89.9", "三星级", 3, True),
        ("90.0", "四星级", 4, True),
        ("94.9", "四星级", 4, True),
        ("95.0", "五星级", 5, True),
        ("100.0", "五星级", 5, True),
    ],
    "xbht-s04-2025": [
        ("59.9", "不合格", None, False),
        ("60.0", "一星级", 1, True),
        ("69.9", "一星级", 1, True),
        ("70.0", "二星级", 2, True),
        ("74.9", "二星级", 2, True),
        ("75.0", "三星级", 3, True),
        ("79.9", "三星级", 3, True),
        ("80.0", "四星级", 4, True),
        ("89.9", "四星级", 4, True),
        ("90.0", "五星级", 5, True),
    ],
    "bjkb-006-2026": [
        ("0.0", "一星级", 1, True),
        ("69.9", "一星级", 1, True),
        ("70.0", "二星级", 2, True),
        ("79.9", "二星级", 2, True),
        ("80.0", "三星级", 3, True),
        ("89.9", "三星级", 3, True),
        ("90.0", "四星级", 4, True),
        ("94.9", "四星级", 4, True),
        ("95.0", "五星级", 5, True),
    ],
}


def with_earned(scheme_id: str, earned: Decimal) -> dict[str, Any]:
    """A full-marks audit with points taken off item by item until ``earned`` remain."""
    doc = full_marks_audit(scheme_id)
    deficit = Decimal(100) - earned
    for item in get_scheme(scheme_id).items:
        if item.points is None or deficit <= 0:
            continue
        take = min(item.points, deficit)
        doc["items"][item.id] = {"score": float(item.points - take)}
        deficit -= take
    return doc


def scored(doc: dict[str, Any]) -> Score:
    scheme = get_scheme(doc["scheme"])
    return score_audit(parse_audit(doc, scheme=scheme), scheme)


@pytest.mark.parametrize(
    ("scheme_id", "figure", "grade", "stars", "passed"), [(s, *row) for s, rows in BANDS.items() for row in rows]
)
def test_every_grade_boundary_is_decided_on_the_rounded_score(
    scheme_id: str, figure: str, grade: str, stars: int | None, passed: bool
) -> None:
    result = scored(with_earned(scheme_id, Decimal(figure)))
    assert (result.score, result.grade, result.stars, result.passed) == (Decimal(figure), grade, stars, passed)


@pytest.mark.parametrize(
    ("earned", "score", "grade"),
    [
        ("59.95", "60.0", "一星级"),
        ("59.94", "59.9", "不合格"),
        ("89.94", "89.9", "四星级"),
        ("89.95", "90.0", "五星级"),
        ("74.95", "75.0", "三星级"),
        ("79.94", "79.9", "三星级"),
    ],
)
def test_it_rounds_half_up_before_grading(earned: str, score: str, grade: str) -> None:
    result = scored(with_earned("xbht-s04-2025", Decimal(earned)))
    assert result.earned == Decimal(earned)
    assert (result.score, result.grade) == (Decimal(score), grade)


def test_fw01_rounding_at_the_pass_line() -> None:
    assert scored(with_earned("fw01-2021", Decimal("69.95"))).grade == "达标级"
    assert scored(with_earned("fw01-2021", Decimal("69.94"))).grade == "不达标"


def test_exclusions_leave_the_applicable_total_and_renormalise() -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["items"]["5.3.6.1"] = {"not_applicable": "本企业为软件服务商，不涉及废弃商品回收"}
    doc["items"]["5.3.6.2"] = {"not_applicable": "同上"}
    doc["items"]["5.4.2.3"] = {"not_applicable": "不设收银"}
    doc["items"]["5.1.3.1"] = {"score": 0}
    result = scored(doc)
    assert result.applicable == Decimal("97.5")
    assert result.earned == Decimal("94.0")
    assert result.score == Decimal("96.4")  # 94 / 97.5 = 96.41…
    excluded = [s for s in result.items if not s.applicable]
    assert [s.item.id for s in excluded] == ["5.3.6.1", "5.3.6.2", "5.4.2.3"]
    assert all(s.earned is None for s in excluded)
    cat = next(c for c in result.categories if c.name == "商品服务")
    assert (cat.earned, cat.applicable) == (Decimal(24), Decimal(24))


def test_a_sample_earns_points_times_the_conforming_share() -> None:
    doc = full_marks_audit("xbht-s04-2025")
    doc["items"]["5.3.4.3"] = {"sampled": 12, "nonconforming": 3, "population": 15}  # 1.5 points
    doc["items"]["5.4.3.2"] = {"sampled": 3, "nonconforming": 1}  # 2.5 × 2/3 = 1.666… → 1.67
    result = scored(doc)
    earned = {s.item.id: s.earned for s in result.items}
    assert earned["5.3.4.3"] == Decimal("1.13")  # 1.125 half-up
    assert earned["5.4.3.2"] == Decimal("1.67")
    assert result.earned == Decimal(100) - Decimal("0.37") - Decimal("0.83")


def test_a_ratio_earns_its_share_and_bjkb_items_carry_their_band() -> None:
    doc = full_marks_audit("bjkb-006-2026")
    doc["items"]["4.6"] = {"ratio": 0.65}
    doc["items"]["4.5"] = {"ratio": 0.2}
    doc["items"]["4.7"] = {"ratio": 1}
    doc["items"]["4.8"] = {"ratio": 0.19}
    result = scored(doc)
    band = {s.item.id: s.band for s in result.items}
    assert band["4.6"] == "60%-80%"
    assert band["4.5"] == "20%-40%"
    assert band["4.7"] == "80%-100%"
    assert band["4.8"] == "0%-20%"
    assert band["4.1.1"] == ""
    assert next(s for s in result.items if s.item.id == "4.6").earned == Decimal("6.5")
    row = next(r for r in result.to_json()["items"] if r["id"] == "4.6")
    assert row["band"] == "60%-80%"


def test_a_failed_veto_item_fails_whatever_the_points() -> None:
    doc = full_marks_audit("bjkb-006-2026")
    doc["items"]["4.1.1"] = {"compliant": False, "finding": "2026年6月受到行政处罚"}
    result = scored(doc)
    assert (result.grade, result.stars, result.passed, result.veto) == ("一票否决", None, False, True)
    assert result.score == Decimal("100.0")
    out = result.to_json()
    assert out["veto"] is True
    assert out["grade"] == "一票否决"
    assert next(r for r in out["items"] if r["id"] == "4.1.1") == {
        "id": "4.1.1",
        "points": None,
        "earned": None,
        "applicable": True,
        "compliant": False,
    }


def test_the_lowest_aspect_decides_the_maturity_level() -> None:
    doc = full_marks_audit("bz-ts1008-2025")
    doc["items"].update({"strategic": {"level": 4}, "normative": {"level": 3}, "efficiency": {"level": 4}})
    result = scored(doc)
    assert (result.level, result.grade, result.passed) == (3, "已定义级", True)
    out = result.to_json()
    assert out["score"] is None
    assert out["earned"] is None
    assert out["applicable"] is None
    assert out["stars"] is None
    assert out["level"] == 3


@pytest.mark.parametrize(
    ("field", "value"), [("operating_months", 2), ("major_incident", True), ("accepts_onsite_review", False)]
)
def test_unmet_prerequisites_fail_a_level_audit(field: str, value: object) -> None:
    doc = full_marks_audit("bz-ts1008-2025")
    doc["prerequisites"][field] = value
    result = scored(doc)
    assert result.passed is False
    assert result.level == 5
    assert len(result.unmet_prerequisites) == 1


def test_three_months_of_operation_is_enough() -> None:
    doc = full_marks_audit("bz-ts1008-2025")
    doc["prerequisites"]["operating_months"] = 3
    assert scored(doc).passed is True


def test_the_json_object_has_exactly_the_contract_keys() -> None:
    out = scored(full_marks_audit("xbht-s04-2025")).to_json()
    assert list(out) == [
        "scheme",
        "earned",
        "applicable",
        "score",
        "grade",
        "stars",
        "level",
        "passed",
        "veto",
        "categories",
        "items",
    ]
    assert out["items"][0] == {"id": "5.1.1.1", "points": 1, "earned": 1, "applicable": True}
    assert out["categories"][0] == {"name": "售后服务体系", "earned": 35.0, "applicable": 35.0}


# --- properties -------------------------------------------------------------------------

SCHEMES = ["fw01-2021", "xbht-s04-2025", "bjkb-006-2026"]


# Strategies made once rather than for every item of every example: making and validating a
# new strategy for each draw cost about as much as the drawing itself. The same strategies with
# the same bounds, so each choice sequence gives the same audit it gave before.
_COMPLIANT = st.booleans()
_RATIO_PERCENT = st.integers(0, 100)
_SAMPLED = st.integers(1, 30)
_NONCONFORMING = tuple(st.integers(0, n) for n in range(31))  # indexed by the sample size drawn


@functools.cache
def _item_strategies(
    scheme_id: str,
) -> tuple[st.SearchStrategy[str], tuple[tuple[str, st.SearchStrategy[int] | None], ...]]:
    """The kinds of result an item may take under ``scheme_id``; each item with its score in cents (None: pass/fail)."""
    scheme = get_scheme(scheme_id)
    kinds = st.sampled_from(["score", "ratio", "sampled"] + (["na"] if scheme.exclusions_allowed else []))
    items = tuple(
        (item.id, None if item.points is None else st.integers(0, int(item.points * 100))) for item in scheme.items
    )
    return kinds, items


@functools.cache
def _full_marks(scheme_id: str) -> dict[str, Any]:
    """The full-marks document of ``scheme_id``, made once: only its items change from example to example."""
    return full_marks_audit(scheme_id)


@st.composite
def results(draw: st.DrawFn, scheme_id: str) -> dict[str, Any]:
    scheme = get_scheme(scheme_id)
    # Every item is drawn below, in the scheme's order as before; the other sections are shared
    # between examples (nothing writes to them) rather than built again for each.
    doc = {**_full_marks(scheme_id), "items": {}}
    kinds, items = _item_strategies(scheme_id)
    for item_id, score_cents in items:
        if score_cents is None:
            doc["items"][item_id] = {"compliant": draw(_COMPLIANT)}
            continue
        kind = draw(kinds)
        if kind == "score":
            doc["items"][item_id] = {"score": draw(score_cents) / 100}
        elif kind == "ratio":
            doc["items"][item_id] = {"ratio": draw(_RATIO_PERCENT) / 100}
        elif kind == "sampled":
            n = draw(_SAMPLED)
            doc["items"][item_id] = {"sampled": n, "nonconforming": draw(_NONCONFORMING[n])}
        else:
            doc["items"][item_id] = {"not_applicable": "不适用"}
    if all("not_applicable" in r or "compliant" in r for r in doc["items"].values()):
        first = next(i for i in scheme.items if i.points is not None)
        doc["items"][first.id] = {"score": 0}
    return doc


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), scheme_id=st.sampled_from(SCHEMES))
def test_the_score_is_always_between_0_and_100(data: st.DataObject, scheme_id: str) -> None:
    result = scored(data.draw(results(scheme_id)))
    assert result.score is not None
    assert Decimal(0) <= result.score <= Decimal(100)
    assert result.earned is not None
    assert result.applicable is not None
    assert result.earned <= result.applicable


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), scheme_id=st.sampled_from(SCHEMES))
def test_raising_one_item_never_lowers_the_score(data: st.DataObject, scheme_id: str) -> None:
    doc = data.draw(results(scheme_id))
    scheme = get_scheme(scheme_id)
    scorable = [i for i in scheme.items if i.points is not None and "not_applicable" not in doc["items"][i.id]]
    item = data.draw(st.sampled_from(scorable))
    before = scored(doc)
    earned_before = next(s.earned for s in before.items if s.item.id == item.id)
    assert earned_before is not None
    cents = data.draw(st.integers(int(earned_before * 100), int(points_of(scheme_id, item.id) * 100)))
    doc["items"][item.id] = {"score": cents / 100}
    after = scored(doc)
    assert after.score is not None
    assert before.score is not None
    assert after.score >= before.score


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), scheme_id=st.sampled_from(["fw01-2021", "xbht-s04-2025"]))
def test_excluding_a_fully_earned_item_never_raises_the_score(data: st.DataObject, scheme_id: str) -> None:
    doc = data.draw(results(scheme_id))
    scheme = get_scheme(scheme_id)
    item = data.draw(st.sampled_from([i for i in scheme.items if i.points is not None]))
    doc["items"][item.id] = {"score": float(points_of(scheme_id, item.id))}
    before = scored(doc)
    doc["items"][item.id] = {"not_applicable": "经评价小组确认不适用"}
    if all("not_applicable" in r for r in doc["items"].values()):
        return
    after = scored(doc)
    assert after.score is not None
    assert before.score is not None
    assert after.score <= before.score <= Decimal(100)
