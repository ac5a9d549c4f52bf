"""Certificate dates, surveillance windows and audit time (docs/dates.md)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from certdocs.dates import (
    add_months,
    chinese_date,
    initial_expiry,
    recertification_due,
    recertification_expiry,
    recertification_person_days,
    surveillance_person_days,
    surveillance_window,
)
from certdocs.scheme import get_scheme


def test_chinese_dates_have_no_leading_zeros() -> None:
    assert chinese_date(date(2026, 11, 22)) == "2026年11月22日"
    assert chinese_date(date(2027, 1, 5)) == "2027年1月5日"


@pytest.mark.parametrize(
    ("issue", "expiry"),
    [
        (date(2026, 11, 22), date(2029, 11, 21)),
        (date(2027, 1, 1), date(2029, 12, 31)),
        (date(2028, 2, 29), date(2031, 2, 28)),  # anniversary of 29 Feb is 1 Mar in a common year
        (date(2027, 3, 1), date(2030, 2, 28)),
    ],
)
def test_an_initial_certificate_runs_to_the_day_before_the_third_anniversary(issue: date, expiry: date) -> None:
    assert initial_expiry(issue) == expiry


def test_recertification_extends_the_previous_expiry_by_three_years() -> None:
    assert recertification_expiry(date(2029, 11, 21)) == date(2032, 11, 21)
    assert recertification_due(date(2029, 11, 21)) == date(2029, 8, 21)


def test_add_months_clamps_to_the_end_of_a_short_month() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), -3) == date(2026, 8, 30)


def test_fw01_surveillance_falls_9_to_12_months_after_the_last_audit() -> None:
    w = surveillance_window(
        get_scheme("fw01-2021"), number=1, issue_date=date(2026, 11, 22), last_audit_end=date(2026, 11, 11)
    )
    assert (w.start, w.end, w.ordinal) == (date(2027, 8, 11), date(2027, 11, 10), "第一次")
    w2 = surveillance_window(
        get_scheme("fw01-2021"), number=2, issue_date=date(2026, 11, 22), last_audit_end=date(2027, 9, 3)
    )
    assert (w2.start, w2.end) == (date(2028, 6, 3), date(2028, 9, 2))


@pytest.mark.parametrize("scheme_id", ["xbht-s04-2025", "bjkb-006-2026", "bz-ts1008-2025"])
def test_other_schemes_surveil_within_each_12_months_of_issue(scheme_id: str) -> None:
    scheme = get_scheme(scheme_id)
    w1 = surveillance_window(scheme, number=1, issue_date=date(2026, 11, 22), last_audit_end=date(2026, 11, 11))
    w2 = surveillance_window(scheme, number=2, issue_date=date(2026, 11, 22), last_audit_end=date(2027, 10, 1))
    assert (w1.start, w1.end) == (date(2026, 11, 22), date(2027, 11, 21))
    assert (w2.start, w2.end) == (date(2027, 11, 22), date(2028, 11, 21))


@pytest.mark.parametrize(
    ("initial", "surv", "recert"),
    [
        ("3", "1", "2"),
        ("2", "1", "1.5"),
        ("4", "1.5", "3"),
        ("1", "1", "1"),
        ("5", "2", "3.5"),
        ("7.5", "2.5", "5"),
    ],
)
def test_audit_time_is_a_share_of_the_initial_rounded_up_to_half_days(initial: str, surv: str, recert: str) -> None:
    assert surveillance_person_days(Decimal(initial)) == Decimal(surv)
    assert recertification_person_days(Decimal(initial)) == Decimal(recert)
