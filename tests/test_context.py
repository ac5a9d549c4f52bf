"""The document context: complete, formatted, never None, defaults derived sensibly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from certdocs.audit import load_audit
from certdocs.context import PrintedCertificate, SurveillanceFacts, build_context
from certdocs.dates import surveillance_window
from certdocs.profile import load_profiles, profile_for_scheme
from certdocs.scoring import score_audit

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ALL = sorted(FIXTURES.glob("*-20*/*.json"))


def context_for(path: Path) -> dict[str, Any]:
    audit, scheme = load_audit(path)
    score = score_audit(audit, scheme)
    profile = profile_for_scheme(scheme.id)
    facts = PrintedCertificate(
        "XBHT-SH-2026-0001",
        date(2026, 11, 22),
        date(2026, 11, 22),
        date(2029, 11, 21),
        profile.verification_url("XBHT-SH-2026-0001"),
    )
    window = surveillance_window(scheme, number=1, issue_date=date(2026, 11, 22), last_audit_end=date(2026, 11, 11))
    return build_context(
        audit=audit,
        scheme=scheme,
        score=score,
        profile=profile,
        certificate=facts,
        issued_on=date(2026, 11, 22),
        surveillance=SurveillanceFacts(window, Decimal("1.5")),
    )


def walk(value: Any, path: str = "") -> list[str]:
    """Paths of every None in a nested value."""
    if value is None:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in walk(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for n, v in enumerate(value) for p in walk(v, f"{path}[{n}]")]
    return []


@pytest.mark.parametrize("path", ALL, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_context_value_is_ever_none(path: Path) -> None:
    assert walk(context_for(path)) == []


def test_dates_print_in_chinese_and_the_scope_carries_the_grade() -> None:
    ctx = context_for(FIXTURES / "xbht-s04-2025" / "pass.json")
    assert ctx["certificate"]["expiry_date"] == "2029年11月21日"
    assert ctx["issued_on"] == "2026年11月22日"
    assert ctx["certified_scope"].endswith("（四星级★★★★）")
    assert ctx["result"]["stars"] == "★★★★"
    assert ctx["result"]["grade"] == "四星级"
    assert ctx["surveillance"]["ordinal"] == "第一次"
    assert ctx["surveillance"]["person_days"] == "1.5"


def test_deductions_and_exclusions_are_listed_with_reasons() -> None:
    ctx = context_for(FIXTURES / "fw01-2021" / "exclusions.json")
    assert ctx["excluded"]
    assert all(e["reason"] for e in ctx["excluded"])
    assert all(Decimal(d["lost"]) > 0 for d in ctx["deductions"])
    assert sum(len(c["items"]) for c in ctx["categories"]) == len(ctx["items"]) == 50


def test_a_default_timetable_spans_the_audit_days_from_first_to_last_meeting() -> None:
    ctx = context_for(FIXTURES / "fw01-2021" / "fail.json")
    rows = ctx["audit"]["timetable"]
    assert rows[0]["activity"] == "首次会议"
    assert rows[-1]["activity"] == "末次会议"
    assert rows[0]["date"] == ctx["audit"]["start_date"]
    for row in rows:
        start, end = row["time"].split("—")
        assert "08:30" <= start < end <= "17:30"


def test_the_level_scheme_prints_levels_not_points() -> None:
    ctx = context_for(FIXTURES / "bz-ts1008-2025" / "pass.json")
    assert ctx["scheme"]["uses_points"] is False
    assert ctx["result"]["score"] == ""
    assert ctx["result"]["level"] == "3"
    assert ctx["items"][0]["level_name"]


def test_every_bundled_profile_serves_one_scheme() -> None:
    profiles = load_profiles()
    assert sorted(p.scheme for p in profiles.values()) == [
        "bjkb-006-2026",
        "bz-ts1008-2025",
        "fw01-2021",
        "xbht-s04-2025",
    ]
    for p in profiles.values():
        assert p.certificate_number(year=2026, serial=7).endswith("0007")
        assert "{" not in p.verification_url("X-1")
