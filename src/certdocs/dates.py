"""Certificate dates, surveillance windows and audit time (docs/dates.md), and Chinese dates.

Pure functions of their arguments; "today" is always passed in, never read from the clock.
"""

from __future__ import annotations

import calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from certdocs.scheme import Scheme

VALIDITY_YEARS = 3
RECERTIFICATION_LEAD_MONTHS = 3
SURVEILLANCES_PER_CYCLE = 2


def chinese_date(day: date) -> str:
    """A date as Chinese documents print it: 2026年11月22日."""
    from babel.dates import format_date  # here: Babel's locale data take 25 ms to import, for printing dates only

    return format_date(day, "y年M月d日", locale="zh_CN")


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def _anniversary(day: date, years: int) -> date:
    """The ``years``-th anniversary; 29 February falls on 1 March in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 3, 1)


def initial_expiry(issue_date: date) -> date:
    """有效期至 of a first certificate: the day before the third anniversary of issue."""
    return _anniversary(issue_date, VALIDITY_YEARS) - timedelta(days=1)


def recertification_expiry(previous_expiry: date) -> date:
    """有效期至 after recertification: the previous expiry plus three years (Zhongding 5.5)."""
    return add_months(previous_expiry, 12 * VALIDITY_YEARS)


def recertification_due(expiry: date) -> date:
    """The last day to apply for recertification: three months before expiry."""
    return add_months(expiry, -RECERTIFICATION_LEAD_MONTHS)


@dataclass(frozen=True)
class SurveillanceWindow:
    """When the ``number``-th surveillance audit of a cycle must take place."""

    number: int
    start: date
    end: date  # the due date: after it the certificate is overdue for a suspension decision

    @property
    def ordinal(self) -> str:
        """第一次 / 第二次."""
        return f"第{'一二三四五'[self.number - 1]}次"


def surveillance_window(scheme: Scheme, *, number: int, issue_date: date, last_audit_end: date) -> SurveillanceWindow:
    """The window of the ``number``-th surveillance after issue (1 or 2).

    ``fw01-2021`` counts from the last day of the previous audit (initial or surveillance,
    Zhongding 5.6.1); the other schemes from the issue date, once in each 12 months.
    """
    rule = scheme.surveillance
    if rule.basis_date == "last_audit_end":
        base = last_audit_end
    else:
        base = add_months(issue_date, 12 * (number - 1))
    start = add_months(base, rule.months_from)
    end = add_months(base, rule.months_to) - timedelta(days=1)
    return SurveillanceWindow(number, start, end)


def _up_to_half_day(value: Decimal) -> Decimal:
    return Decimal(math.ceil(value * 2)) / 2


def surveillance_person_days(initial: Decimal) -> Decimal:
    """Surveillance audit time: a third of the initial audit, at least one, up to the half day."""
    return max(Decimal(1), _up_to_half_day(initial / 3))


def recertification_person_days(initial: Decimal) -> Decimal:
    """Recertification audit time: two thirds of the initial audit, at least one, up to the half day."""
    return max(Decimal(1), _up_to_half_day(initial * 2 / 3))


def format_days(value: Decimal) -> str:
    """Person-days as printed: 3, 2.5."""
    return f"{value.normalize():f}"
