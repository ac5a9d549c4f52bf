"""Certificate status rules: which changes are allowed, and the status shown on a given day.

有效 → 暂停 (suspend), 暂停 → 有效 (restore), 有效 | 暂停 → 撤销 (withdraw) or 注销 (cancel).
撤销 and 注销 are final. 过期失效 is never stored: a certificate still 有效 or 暂停 whose
有效期至 lies before the day asked about *shows* as 过期失效, and nothing more may happen to it.
A recertified certificate is superseded: stored as 注销 with the reason
"再认证换发新证 <new number>" and ``superseded_by`` set.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from certdocs.register._records import Status


@dataclass(frozen=True)
class Transition:
    """One status change office staff may make by hand."""

    action: str
    to: Status
    allowed_from: frozenset[Status]


SUSPEND = Transition("暂停", Status.SUSPENDED, frozenset({Status.VALID}))
RESTORE = Transition("恢复", Status.VALID, frozenset({Status.SUSPENDED}))
WITHDRAW = Transition("撤销", Status.WITHDRAWN, frozenset({Status.VALID, Status.SUSPENDED}))
CANCEL = Transition("注销", Status.CANCELLED, frozenset({Status.VALID, Status.SUSPENDED}))

# Superseding also records 注销, but it is allowed after expiry too: a late recertification
# still has to retire the old certificate.
SUPERSEDE = Transition("再认证换发新证", Status.CANCELLED, frozenset({Status.VALID, Status.SUSPENDED, Status.EXPIRED}))

SUPERSEDE_REASON = "再认证换发新证 {new_number}"


def shown_status(stored: Status, *, valid_until: date, today: date) -> Status:
    """The status of a certificate as of ``today``: 过期失效 once 有效期至 has passed."""
    if stored in (Status.VALID, Status.SUSPENDED) and valid_until < today:
        return Status.EXPIRED
    return stored


def refusal(current: Status, transition: Transition) -> str | None:
    """Why ``transition`` may not be applied to a certificate in ``current``, or None if it may."""
    if current in transition.allowed_from:
        return None
    return f"当前状态为「{current}」，不能{transition.action}"


def date_refusal(*, on: date, issue_date: date, last_change: date | None) -> str | None:
    """Why a status change dated ``on`` is out of order, or None if it is not."""
    if on < issue_date:
        return f"状态变更日期 {on} 早于本次发证日期 {issue_date}"
    if last_change is not None and on < last_change:
        return f"状态变更日期 {on} 早于上一次状态变更日期 {last_change}"
    return None
