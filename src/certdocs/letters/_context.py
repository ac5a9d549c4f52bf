"""What a status letter says: pure, from the status change and the body's profile.

The letter's variables sit under ``letter`` beside the ordinary document context (the
organisation, certificate, body, scheme …), so a letter template can print everything the
other templates can. Dates are printed as documents print them (2026年12月1日).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from certdocs.dates import add_months, chinese_date
from certdocs.profile import Profile
from certdocs.register import Status


@dataclass(frozen=True)
class LetterKind:
    """One kind of status letter: the change it announces and its title."""

    action: str  # register method: suspend, restore, withdraw, cancel
    kind: str  # file stem and template name: letter_suspension …
    title: str
    decision: str  # the word of the decision: 暂停 …
    status: Status
    code: str  # two letters of the letter's reference


LETTERS: dict[str, LetterKind] = {
    k.action: k
    for k in (
        LetterKind("suspend", "letter_suspension", "认证证书暂停通知书", "暂停", Status.SUSPENDED, "ZT"),
        LetterKind("restore", "letter_restoration", "认证证书恢复通知书", "恢复", Status.VALID, "HF"),
        LetterKind("withdraw", "letter_withdrawal", "认证证书撤销通知书", "撤销", Status.WITHDRAWN, "CX"),
        LetterKind("cancel", "letter_cancellation", "认证证书注销通知书", "注销", Status.CANCELLED, "ZX"),
    )
}


def longest_suspension(on: date, profile: Profile) -> date:
    """The last day a suspension starting ``on`` may last under the body's maximum (6 months: on + 6 months − 1 day)."""
    return add_months(on, profile.suspension_max_months) - timedelta(days=1)


def _obligations(action: str, *, until: str, months: int) -> list[str]:
    if action == "suspend":
        return [
            "自暂停之日起，贵组织不得使用认证证书和认证标志，不得在广告、宣传资料、产品说明或服务场所中以任何方式"
            "表示或暗示本项认证有效；已印有认证标志的宣传资料应停止发放。",
            f"贵组织应在暂停期内（{until}前）完成纠正和纠正措施，并向本机构提交书面整改报告及证据，申请恢复；"
            "本机构将安排审核，确认合格后恢复认证证书。",
            f"暂停期最长为{months}个月。暂停期满仍未申请恢复或经审核仍不合格的，本机构将撤销认证证书。",
            "暂停期间认证证书状态将在本机构网站及国家认证认可监督管理委员会认证信息平台公布。",
        ]
    if action == "restore":
        return [
            "自恢复之日起，贵组织可继续使用认证证书和认证标志。",
            "贵组织应继续按期接受监督审核，保持售后服务体系持续有效运行。",
        ]
    if action == "withdraw":
        return [
            "自撤销之日起，认证证书失效，贵组织应立即停止使用认证证书和认证标志，并停止一切以认证名义进行的宣传。",
            "请于收到本通知之日起15日内将认证证书原件（正本、副本）交回本机构，或自行销毁后书面告知本机构；"
            "印有认证标志的宣传资料应收回或销毁。",
            "认证证书撤销信息将在本机构网站及国家认证认可监督管理委员会认证信息平台公布。",
        ]
    return [
        "自注销之日起，认证证书失效，贵组织应停止使用认证证书和认证标志。",
        "请于收到本通知之日起15日内将认证证书原件（正本、副本）交回本机构，或自行销毁后书面告知本机构。",
        "认证证书注销信息将在本机构网站及国家认证认可监督管理委员会认证信息平台公布。",
    ]


def letter_context(
    action: str,
    *,
    number: str,
    sequence: int,
    on: date,
    reason: str,
    profile: Profile,
    until: date | None = None,
    suspended_since: date | None = None,
) -> dict[str, Any]:
    """The ``letter`` variables of one status letter (docs/letters.md lists them).

    ``sequence`` is the change's place in the certificate's status history (the issue is 0);
    ``until`` is the last day of a suspension; ``suspended_since`` the start of the suspension a
    restoration ends.
    """
    kind = LETTERS[action]
    until_text = chinese_date(until) if until else ""
    appeal = (
        f"贵组织如对本决定有异议，可在收到本通知之日起{profile.appeal_days}日内向本机构提出书面申诉，"
        "写明申诉事项、理由并附相关证据。本机构将在收到申诉后组织与本决定无关的人员处理，并书面告知处理结果；"
        "申诉期间本决定照常执行。对申诉处理结果仍有异议的，可向国家认证认可监督管理委员会或所在地市场监督管理部门投诉。"
    )
    return {
        "kind": kind.kind,
        "title": kind.title,
        "decision": kind.decision,
        "reference": f"{number}-{kind.code}{sequence:02d}",
        "decision_date": chinese_date(on),
        "reason": reason,
        "period_start": chinese_date(suspended_since or on) if action in ("suspend", "restore") else "",
        "period_end": until_text if action == "suspend" else (chinese_date(on) if action == "restore" else ""),
        "max_months": str(profile.suspension_max_months),
        "obligations": _obligations(action, until=until_text, months=profile.suspension_max_months),
        "appeal_days": str(profile.appeal_days),
        "appeal": appeal,
    }


def sample_letter_context() -> dict[str, Any]:
    """A ``letter`` context with every value filled (the template checker learns its keys from it)."""
    from dataclasses import fields

    placeholder: dict[str, Any] = {f.name: {} if f.name == "templates" else "示例" for f in fields(Profile)}
    placeholder |= {"suspension_max_months": 6, "appeal_days": 30, "digest": ""}
    day = date(2026, 12, 1)
    return letter_context(
        "suspend", number="示例", sequence=1, on=day, reason="示例", profile=Profile(**placeholder), until=day
    )
