"""What the verification site shows of each certificate: pure, from register records to page facts.

No files and no clock: the status is the one shown on the ``today`` the caller gives, and every
date a page prints comes from the register (issue, status changes, expiry), so the same register
on the same day gives the same pages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import unquote, urlsplit

from certdocs._fs import safe_name
from certdocs.dates import chinese_date
from certdocs.register import CertificateRecord, Status, StatusChange
from certdocs.textreport import stars_text

# Word, CSS class and sentence for each status. Colour is never the only signal: the word is
# printed in the badge, and the sentence under it says what it means.
STATUS_CLASS: Mapping[Status, str] = {
    Status.VALID: "valid",
    Status.SUSPENDED: "suspended",
    Status.WITHDRAWN: "withdrawn",
    Status.CANCELLED: "cancelled",
    Status.EXPIRED: "expired",
}


@dataclass(frozen=True)
class Body:
    """The certification body a certificate page names."""

    name: str
    approval_no: str
    website: str
    phone: str


@dataclass(frozen=True)
class HistoryRow:
    """One line of a certificate's public status history."""

    on: str
    status: str
    css: str
    text: str


@dataclass(frozen=True)
class CertificatePage:
    """Everything ``cert/<number>.html`` prints, already formatted."""

    number: str
    file_name: str
    organization: str
    uscc: str
    standard: str
    scope: str
    grade: str
    first_issue_date: str
    issue_date: str
    valid_until: str
    body: Body
    status: str
    status_class: str
    status_text: str
    superseded_by: str
    superseded_by_file: str
    replaces: str
    replaces_file: str
    history: tuple[HistoryRow, ...]
    updated: date


def page_file(number: str) -> str:
    """The site path of a certificate's page: ``cert/<safe number>.html`` (:func:`certdocs._fs.safe_name`)."""
    return f"cert/{safe_name(number)}.html"


def grade_text(record: CertificateRecord) -> str:
    """四星级 ★★★★, or 已定义级（3级）, or the grade alone."""
    if record.facts.stars:
        return f"{record.facts.grade}　{stars_text(record.facts.stars)}"
    if record.facts.level:
        return f"{record.facts.grade}（{record.facts.level}级）"
    return record.facts.grade


def suspension_period(change: StatusChange) -> str:
    """2027年2月1日至2027年7月31日, or 自2027年2月1日起 when no last day was recorded."""
    if change.until is None:
        return f"自{chinese_date(change.on)}起"
    return f"{chinese_date(change.on)}至{chinese_date(change.until)}"


def last_change(record: CertificateRecord, status: Status) -> StatusChange | None:
    """The latest history entry setting ``status``."""
    return next((h for h in reversed(record.history) if h.status == status), None)


def status_sentence(record: CertificateRecord) -> str:
    """What the status means for a person holding the certificate."""
    status = record.status
    if status == Status.VALID:
        return f"本证书有效，有效期至{chinese_date(record.facts.valid_until)}。"
    if status == Status.SUSPENDED:
        change = last_change(record, Status.SUSPENDED)
        period = suspension_period(change) if change else ""
        return f"本证书已暂停（暂停期：{period}）。暂停期间获证组织不得使用认证证书和认证标志。"
    if status == Status.WITHDRAWN:
        change = last_change(record, Status.WITHDRAWN)
        return f"本证书已于{chinese_date(change.on) if change else ''}撤销，不再有效。"
    if status == Status.CANCELLED:
        change = last_change(record, Status.CANCELLED)
        text = f"本证书已于{chinese_date(change.on) if change else ''}注销，不再有效。"
        if record.superseded_by:
            text += f"获证组织已换发新证书（{record.superseded_by}）。"
        return text
    return f"本证书有效期至{chinese_date(record.facts.valid_until)}，已过期失效。"


def updated_on(record: CertificateRecord, *, today: date) -> date:
    """The last day this certificate's public facts changed, as of ``today``: from the register only."""
    days = [record.facts.issue_date, *(h.on for h in record.history if h.on <= today)]
    expired = record.facts.valid_until + timedelta(days=1)
    if record.status == Status.EXPIRED and expired <= today:
        days.append(expired)
    return max(days)


def history_rows(record: CertificateRecord) -> tuple[HistoryRow, ...]:
    """The public history: what happened and when (who did it stays in the register)."""
    rows = []
    for n, h in enumerate(record.history):
        text = h.reason
        if n == 0 and h.status == Status.VALID:
            text = f"发证（{h.reason}）"
        elif h.status == Status.SUSPENDED:
            text = f"{h.reason}（暂停期：{suspension_period(h)}）"
        rows.append(HistoryRow(chinese_date(h.on), str(h.status), STATUS_CLASS[h.status], text))
    if record.status == Status.EXPIRED:
        on = record.facts.valid_until + timedelta(days=1)
        rows.append(HistoryRow(chinese_date(on), str(Status.EXPIRED), "expired", "有效期届满"))
    return tuple(rows)


def certificate_page(
    record: CertificateRecord,
    *,
    body: Body,
    standard: str,
    scope: str,
    replaces: str,
    today: date,
) -> CertificatePage:
    """The page facts of one issued certificate as of ``today``."""
    status = record.status or Status.VALID
    return CertificatePage(
        number=record.number,
        file_name=page_file(record.number),
        organization=record.facts.organization_name,
        uscc=record.facts.uscc,
        standard=standard,
        scope=scope,
        grade=grade_text(record),
        first_issue_date=chinese_date(record.facts.first_issue_date),
        issue_date=chinese_date(record.facts.issue_date),
        valid_until=chinese_date(record.facts.valid_until),
        body=body,
        status=str(status),
        status_class=STATUS_CLASS[status],
        status_text=status_sentence(record),
        superseded_by=record.superseded_by or "",
        superseded_by_file=page_file(record.superseded_by) if record.superseded_by else "",
        replaces=replaces,
        replaces_file=page_file(replaces) if replaces else "",
        history=history_rows(record),
        updated=updated_on(record, today=today),
    )


def index_entries(pages: Iterable[CertificatePage]) -> list[dict[str, str]]:
    """The search index: one small object per certificate (also ``certificates.json``)."""
    return [
        {
            "number": p.number,
            "organization": p.organization,
            "uscc": p.uscc,
            "status": p.status,
            "grade": p.grade,
            "valid_until": p.valid_until,
            "body": p.body.name,
            "page": p.file_name,
        }
        for p in pages
    ]


def script_json(value: object) -> str:
    """JSON safe inside an HTML ``<script type="application/json">`` element.

    ``<``, ``>`` and ``&`` become ``\\u003c`` … so an organisation named ``</script>`` cannot end
    the element; U+2028/2029 are escaped for old JavaScript parsers.
    """
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def served_path(url: str, *, website: str) -> str | None:
    """The site path a QR URL opens when the site is uploaded to ``website``, or None if elsewhere."""
    if not website:
        return None
    base = urlsplit(website.rstrip("/") + "/")
    target = urlsplit(url)
    if (target.hostname or "").lower() != (base.hostname or "").lower() or target.query or target.fragment:
        return None
    if not target.path.startswith(base.path):
        return None
    return unquote(target.path[len(base.path) :])
