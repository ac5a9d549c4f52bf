"""The dates of a certificate to issue: issue-date and meeting-date rules, recertification rules.

Pure functions of their arguments (no register, no files, no clock: "today" is passed in). The
rules (docs/dates.md):

- the issue date is never before the audit's last day, never before the decision meeting, and
  never after today unless the office says so explicitly (``allow_future``);
- a decision meeting is never dated before the audits it decides ended, nor after today unless
  the office says so explicitly;
- an initial certificate is valid until the day before the third anniversary of its issue date;
  a recertification keeps the first issue date of the certificate it replaces and extends its
  expiry by three years; a certificate that was withdrawn or cancelled cannot be recertified;
  a rerun keeps the dates the first run decided.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from certdocs.dates import initial_expiry, recertification_expiry
from certdocs.errors import Problem

#: Statuses a recertification cannot start from (撤销, 注销).
ENDED_STATUSES = ("撤销", "注销")


def issue_date_problems(
    *, where: str, audit_end: date, decision_date: date, issue_date: date, today: date, allow_future: bool = False
) -> list[Problem]:
    """What is wrong with issuing on ``issue_date`` an audit that ended ``audit_end``, decided ``decision_date``.

    ``where`` names the audit (its file, or the decision record) in each problem.
    """
    problems: list[Problem] = []
    if issue_date < audit_end:
        problems.append(Problem(where, f"发证日期 {issue_date} 早于审核结束日期 {audit_end}"))
    if issue_date < decision_date:
        problems.append(Problem(where, f"发证日期 {issue_date} 早于认证决定日期 {decision_date}"))
    if issue_date > today and not allow_future:
        rule = f"发证日期 {issue_date} 晚于今天 {today}；确需预先出具时请加 --allow-future-date"
        problems.append(Problem(where, rule))
    return problems


def meeting_date_problems(
    *,
    meeting: str,
    meeting_date: date,
    audits: Sequence[tuple[str, date]],
    today: date,
    allow_future: bool = False,
) -> list[Problem]:
    """What is wrong with the date of a decision meeting deciding ``audits`` (where, last audit day)."""
    problems: list[Problem] = []
    if meeting_date > today and not allow_future:
        rule = f"会议日期 {meeting_date} 晚于今天 {today}；确需预先登记时请加 --allow-future-date"
        problems.append(Problem(meeting, rule))
    for where, end in audits:
        if meeting_date < end:
            problems.append(Problem(where, f"认证决定会议（{meeting}）日期 {meeting_date} 早于审核结束日期 {end}"))
    return problems


@dataclass(frozen=True)
class HeldCertificate:
    """A certificate the register holds, as far as the dates of the next one depend on it."""

    number: str
    status: str | None  # None while only reserved
    first_issue_date: date
    valid_until: date


@dataclass(frozen=True)
class CertificateDates:
    """The dates of a certificate to issue, and the certificate it replaces (``""`` for none)."""

    first_issue_date: date
    issue_date: date
    valid_until: date
    replaces: str = ""


@dataclass(frozen=True)
class DateRefusal:
    """Why a certificate cannot be issued (a problem in Chinese, with where it is)."""

    problem: Problem


def certificate_dates(
    *,
    audit_type: str,
    issue_date: date,
    organization: str,
    scheme: str,
    rerun: HeldCertificate | None,
    current: HeldCertificate | None,
) -> CertificateDates | DateRefusal:
    """The dates of an initial or recertification certificate issued on ``issue_date``.

    ``rerun`` is the certificate already held for this very audit (an earlier run reserved or
    issued it): a recertification keeps its dates (an initial certificate's follow the issue
    date); one since withdrawn or cancelled is refused. ``current`` is the organisation's
    certificate under the scheme now (what a recertification replaces).
    """
    if rerun is not None and rerun.status in ENDED_STATUSES:
        # Its documents exist, but saying "issued, unchanged" of a withdrawn certificate misleads.
        rule = f"证书 {rerun.number} 已{rerun.status}，同一审核结果不再发证；重新认证须有新的审核和认证决定"
        return DateRefusal(Problem("audit", rule))
    if audit_type != "recertification":
        return CertificateDates(issue_date, issue_date, initial_expiry(issue_date))
    if rerun is not None:  # keep what the first run decided
        replaces = current.number if current is not None and current.number != rerun.number else ""
        return CertificateDates(rerun.first_issue_date, issue_date, rerun.valid_until, replaces)
    if current is None:
        rule = f"再认证须有原证书：登记簿中没有 {organization} 在方案 {scheme} 下的证书"
        return DateRefusal(Problem("audit.type", rule))
    if current.status in ENDED_STATUSES:
        rule = f"原证书 {current.number} 已{current.status}，不能再认证换发；请按初次认证办理"
        return DateRefusal(Problem("audit.type", rule))
    return CertificateDates(
        current.first_issue_date, issue_date, recertification_expiry(current.valid_until), current.number
    )


__all__ = [
    "CertificateDates",
    "DateRefusal",
    "HeldCertificate",
    "certificate_dates",
    "issue_date_problems",
    "meeting_date_problems",
]
