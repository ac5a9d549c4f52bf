"""Issue dates, meeting dates and recertification dates: pure rules, no register, no files."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certdocs.issuance import (
    CertificateDates,
    DateRefusal,
    HeldCertificate,
    certificate_dates,
    issue_date_problems,
    meeting_date_problems,
)

END = date(2026, 11, 11)
DECIDED = date(2026, 11, 20)
TODAY = date(2026, 11, 22)


def problems(issue: date, *, allow_future: bool = False) -> list[str]:
    found = issue_date_problems(
        where="a.json", audit_end=END, decision_date=DECIDED, issue_date=issue, today=TODAY, allow_future=allow_future
    )
    return [p.rule for p in found]


def test_an_issue_date_between_the_decision_and_today_is_fine() -> None:
    assert problems(date(2026, 11, 21)) == []


def test_an_issue_date_before_the_audit_ended_is_refused_with_both_dates() -> None:
    assert "发证日期 2026-10-01 早于审核结束日期 2026-11-11" in problems(date(2026, 10, 1))


def test_an_issue_date_before_the_decision_is_refused_with_both_dates() -> None:
    assert "发证日期 2026-11-19 早于认证决定日期 2026-11-20" in problems(date(2026, 11, 19))


def test_an_issue_date_after_today_is_refused() -> None:
    assert any("晚于今天 2026-11-22" in p for p in problems(date(2099, 1, 1)))


def test_an_issue_date_after_today_is_accepted_when_the_office_says_so() -> None:
    assert problems(date(2026, 12, 1), allow_future=True) == []


def test_each_problem_names_the_audit() -> None:
    found = issue_date_problems(
        where="decisions[3]（c.json）", audit_end=END, decision_date=DECIDED, issue_date=END, today=TODAY
    )
    assert [p.where for p in found] == ["decisions[3]（c.json）"]


@given(st.dates(date(2020, 1, 1), date(2035, 1, 1)))
def test_an_accepted_issue_date_is_never_before_the_audit_or_decision_nor_after_today(issue: date) -> None:
    if not problems(issue):
        assert issue >= END
        assert DECIDED <= issue <= TODAY


@given(st.dates(date(2020, 1, 1), date(2035, 1, 1)))
def test_every_issue_date_outside_the_rules_is_refused(issue: date) -> None:
    if issue < DECIDED or issue > TODAY:
        assert problems(issue)


def meeting(day: date, *, allow_future: bool = False) -> list[str]:
    found = meeting_date_problems(
        meeting="第47次",
        meeting_date=day,
        audits=[("decisions[0]（a.json）", END), ("decisions[1]（b.json）", date(2026, 11, 18))],
        today=TODAY,
        allow_future=allow_future,
    )
    return [str(p) for p in found]


def test_a_meeting_after_every_audit_and_not_after_today_is_fine() -> None:
    assert meeting(DECIDED) == []


def test_a_meeting_before_an_audit_ended_names_that_audit_and_both_dates() -> None:
    assert meeting(date(2026, 11, 15)) == [
        "decisions[1]（b.json）：认证决定会议（第47次）日期 2026-11-15 早于审核结束日期 2026-11-18"
    ]


def test_a_meeting_after_today_is_refused() -> None:
    assert any("会议日期 2026-12-01 晚于今天" in p for p in meeting(date(2026, 12, 1)))


def test_a_meeting_after_today_is_accepted_when_the_office_says_so() -> None:
    assert meeting(date(2026, 12, 1), allow_future=True) == []


# -- recertification ----------------------------------------------------------------------

HELD = HeldCertificate("XBHT-SH-2026-0001", "有效", date(2026, 11, 22), date(2029, 11, 21))


def dates(audit_type: str, *, rerun: HeldCertificate | None = None, current: HeldCertificate | None = None):  # type: ignore[no-untyped-def]
    return certificate_dates(
        audit_type=audit_type,
        issue_date=date(2029, 10, 30),
        organization="91330106MA2CFXY80N",
        scheme="xbht-s04-2025",
        rerun=rerun,
        current=current,
    )


def test_an_initial_certificate_is_valid_until_the_day_before_the_third_anniversary() -> None:
    assert dates("initial") == CertificateDates(date(2029, 10, 30), date(2029, 10, 30), date(2032, 10, 29))


def test_a_recertification_keeps_the_first_issue_date_and_adds_three_years_to_the_expiry() -> None:
    assert dates("recertification", current=HELD) == CertificateDates(
        date(2026, 11, 22), date(2029, 10, 30), date(2032, 11, 21), "XBHT-SH-2026-0001"
    )


def test_a_recertification_rerun_keeps_what_the_first_run_decided() -> None:
    first = HeldCertificate("XBHT-SH-2029-0007", None, date(2026, 11, 22), date(2032, 11, 21))
    assert dates("recertification", rerun=first, current=HELD) == CertificateDates(
        date(2026, 11, 22), date(2029, 10, 30), date(2032, 11, 21), "XBHT-SH-2026-0001"
    )


def test_a_recertification_without_a_certificate_is_refused() -> None:
    refused = dates("recertification")
    assert isinstance(refused, DateRefusal)
    assert "再认证须有原证书" in refused.problem.rule


@pytest.mark.parametrize("audit_type", ["initial", "recertification"])
@pytest.mark.parametrize("status", ["撤销", "注销"])
def test_an_audit_whose_certificate_has_ended_issues_nothing_again(audit_type: str, status: str) -> None:
    ended = HeldCertificate("XBHT-SH-2026-0001", status, date(2026, 11, 22), date(2029, 11, 21))
    refused = dates(audit_type, rerun=ended, current=ended)
    assert isinstance(refused, DateRefusal)
    assert f"证书 XBHT-SH-2026-0001 已{status}，同一审核结果不再发证" in refused.problem.rule


@pytest.mark.parametrize("status", ["有效", "暂停", None])
def test_an_audit_whose_certificate_is_in_force_or_reserved_is_issued_as_before(status: str | None) -> None:
    held = HeldCertificate("XBHT-SH-2026-0001", status, date(2026, 11, 22), date(2029, 11, 21))
    assert isinstance(dates("initial", rerun=held), CertificateDates)


def test_a_withdrawn_certificate_cannot_be_recertified() -> None:
    withdrawn = HeldCertificate("XBHT-SH-2026-0001", "撤销", date(2026, 11, 22), date(2029, 11, 21))
    refused = dates("recertification", current=withdrawn)
    assert isinstance(refused, DateRefusal)
    assert "已撤销" in refused.problem.rule


@given(st.dates(date(2000, 1, 1), date(2090, 12, 31)))
def test_an_initial_certificate_is_valid_for_three_years_less_a_day(issue: date) -> None:
    result = certificate_dates(
        audit_type="initial", issue_date=issue, organization="x", scheme="s", rerun=None, current=None
    )
    assert isinstance(result, CertificateDates)
    assert (result.valid_until + timedelta(days=1)).year == issue.year + 3
