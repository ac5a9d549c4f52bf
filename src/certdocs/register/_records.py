"""Facts the register is given and records it hands back, with their checks and text forms.

SQLite stores decimals and dates as TEXT (``str(Decimal)``, ISO ``YYYY-MM-DD``) so that a
score of ``86.10`` comes back as ``Decimal("86.10")``, never as a binary float.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import PurePath

from certdocs._validate import line_problems
from certdocs.errors import Problem


class Status(StrEnum):
    """Status of an issued certificate (docs/dates.md); ``EXPIRED`` is only ever derived."""

    VALID = "有效"
    SUSPENDED = "暂停"
    WITHDRAWN = "撤销"
    CANCELLED = "注销"
    EXPIRED = "过期失效"


class State(StrEnum):
    """Whether a certificate row holds only a reserved number or an issued certificate."""

    RESERVED = "reserved"
    ISSUED = "issued"
    VOIDED = "voided"  # a reserved number that will never be issued (作废); derived, see NumberNote


AUDIT_TYPES = ("initial", "surveillance", "recertification")
ISSUING_AUDIT_TYPES = ("initial", "recertification")  # the audits a certificate is issued on
DECISIONS = ("approve", "reject", "defer")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class CertificateFacts:
    """What is known of one approved certificate when its number is reserved: the certificate as issued.

    ``audit_type`` and ``audit_end_date`` are those of the issuing audit (initial or
    recertification), never of a later surveillance audit. A reservation needs them all; only a
    record read back from a register made before migration 5 may lack the issuing audit's type or
    end date (``None``: a surveillance audit had overwritten them, see docs/records.md).
    """

    organization_name: str
    uscc: str
    scheme: str
    grade: str
    stars: int | None
    level: int | None
    score: Decimal | None
    first_issue_date: date
    issue_date: date
    valid_until: date
    decision_meeting: str
    decision_date: date
    audit_path: str | os.PathLike[str]
    audit_sha256: str
    audit_type: str | None
    audit_end_date: date | None
    initial_person_days: Decimal


@dataclass(frozen=True)
class NewDocument:
    """One produced document to record: its kind, where it is, its hash and its inputs' hashes."""

    kind: str
    path: str | os.PathLike[str]
    sha256: str
    built_from: Mapping[str, str]


@dataclass(frozen=True)
class Reservation:
    """Certificate number held for one reservation key (new now, or found from an earlier run)."""

    key: str
    number: str
    series: str
    serial: int
    state: State
    created: bool


@dataclass(frozen=True)
class DocumentRecord:
    """One recorded document of a certificate."""

    number: str
    kind: str
    path: str
    sha256: str
    built_from: Mapping[str, str]
    recorded_at: datetime


@dataclass(frozen=True)
class StatusChange:
    """One entry of a certificate's status history."""

    status: Status
    on: date
    reason: str
    actor: str
    recorded_at: datetime
    until: date | None = None  # the last day of a suspension


@dataclass(frozen=True)
class NumberNote:
    """Something recorded of a reserved number: a run that failed after reserving it, or its voiding.

    ``kind`` is ``"failure"`` (why a run could not issue it; a rerun may still) or ``"void"``
    (作废: it will never be issued).
    """

    kind: str
    reason: str
    actor: str
    recorded_at: datetime


@dataclass(frozen=True)
class CertificateRecord:
    """One certificate as the register holds it, with its status as of the ``today`` asked about.

    ``facts`` are the certificate as issued (what :meth:`Register.reserve` was given);
    ``last_audit_type``/``last_audit_end_date`` are the latest audit's, which a surveillance audit
    moves on. ``status`` is ``None`` while the number is only reserved; ``stored_status`` is the
    last status recorded by hand, ``status`` shows ``过期失效`` once ``facts.valid_until`` has passed.
    """

    number: str
    key: str
    series: str
    serial: int
    state: State
    status: Status | None
    stored_status: Status | None
    facts: CertificateFacts
    last_audit_type: str
    last_audit_end_date: date
    superseded_by: str | None
    reserved_at: datetime
    issued_at: datetime | None
    documents: tuple[DocumentRecord, ...]
    history: tuple[StatusChange, ...]
    notes: tuple[NumberNote, ...] = ()

    @property
    def void_reason(self) -> str | None:
        """Why the number was voided (作废), or None."""
        return next((n.reason for n in self.notes if n.kind == "void"), None)

    @property
    def last_failure(self) -> NumberNote | None:
        """The latest failure recorded after the number was reserved, or None."""
        return next((n for n in reversed(self.notes) if n.kind == "failure"), None)


@dataclass(frozen=True)
class DecisionRecord:
    """One decision taken at a certification decision meeting."""

    meeting: str
    meeting_date: date
    audit_path: str
    decision: str
    reason: str | None
    recorded_at: datetime


@dataclass(frozen=True)
class ArchiveEntry:
    """One archived document of a certificate; a later archive of the same kind supersedes it."""

    number: str
    kind: str
    bag_path: str
    sha256: str
    archived_at: datetime
    superseded: bool
    supersede_reason: str | None


# Facts field -> certificates column (the same names).
FACT_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(CertificateFacts))


def facts_problems(facts: CertificateFacts) -> list[Problem]:
    """Every way ``facts`` cannot be stored, each as a Problem (empty when they can)."""
    problems: list[Problem] = []
    for name in ("organization_name", "uscc", "scheme", "grade", "decision_meeting"):
        problems += text_problems(getattr(facts, name), where=name)
    problems += path_problems(facts.audit_path, where="audit_path")
    problems += sha256_problems(facts.audit_sha256, where="audit_sha256")
    for name in ("stars", "level"):
        value = getattr(facts, name)
        if value is not None and (type(value) is not int or not 1 <= value <= 5):
            problems.append(Problem(name, f"应为 1 至 5 的整数或空，实为 {value!r}"))
    if facts.score is not None:
        problems += decimal_problems(facts.score, where="score")
    problems += decimal_problems(facts.initial_person_days, where="initial_person_days")
    if facts.audit_type not in ISSUING_AUDIT_TYPES:  # a surveillance audit keeps the certificate it checks
        problems.append(
            Problem("audit_type", f"发证的审核应为 {' / '.join(ISSUING_AUDIT_TYPES)} 之一（监督审核不换发证书）")
        )
    date_names = ("first_issue_date", "issue_date", "valid_until", "decision_date")
    for name in (*date_names, "audit_end_date"):
        problems += date_problems(getattr(facts, name), where=name)
    if problems:
        return problems
    if facts.issue_date < facts.decision_date:
        problems.append(Problem("issue_date", "本次发证日期不得早于认证决定日期"))
    if facts.first_issue_date > facts.issue_date:
        problems.append(Problem("first_issue_date", "首次发证日期不得晚于本次发证日期"))
    if facts.valid_until <= facts.issue_date:
        problems.append(Problem("valid_until", "有效期至应晚于本次发证日期"))
    return problems


def facts_row(facts: CertificateFacts) -> dict[str, object]:
    """Column values for already checked ``facts``.

    The issuing audit is also the latest one until a surveillance audit is recorded
    (:meth:`Register.record_last_audit`), so ``last_audit_*`` start as the facts' audit.
    """
    row: dict[str, object] = {}
    for name in FACT_COLUMNS:
        value = getattr(facts, name)
        if isinstance(value, Decimal):
            value = str(value)
        elif isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, os.PathLike):
            value = path_text(value)
        row[name] = value
    row["last_audit_type"] = row["audit_type"]
    row["last_audit_end_date"] = row["audit_end_date"]
    return row


def text_problems(value: object, *, where: str) -> list[Problem]:
    """A Problem unless ``value`` is a non-blank string without NUL characters."""
    if isinstance(value, str) and "\x00" in value:
        # PostgreSQL text cannot hold NUL: refused on both backends so that they behave alike.
        return [Problem(where, "不能包含 NUL 字符（\\x00）")]
    if isinstance(value, str) and value.strip():
        return []
    return [Problem(where, "不能为空")]


def typed_text_problems(value: object, *, where: str) -> list[Problem]:
    """:func:`text_problems`, and a Problem if ``value`` would print differently from how it reads.

    For what a person types that letters print and the verification site shows (the reason and
    the actor of a status change or a void): a right-to-left override there reverses the rest of
    the letter's line, and the reason itself on the public page. Not for text certdocs writes
    itself (a failure's reason holds an error message, newlines included).
    """
    problems = text_problems(value, where=where)
    if problems or not isinstance(value, str):
        return problems
    return line_problems((where, value))


def path_problems(value: object, *, where: str) -> list[Problem]:
    """A Problem unless ``value`` is a non-empty path."""
    if isinstance(value, str | os.PathLike) and os.fspath(value).strip():
        return []
    return [Problem(where, "应为非空路径")]


def sha256_problems(value: object, *, where: str) -> list[Problem]:
    """A Problem unless ``value`` is a SHA-256 digest in lowercase hex."""
    if isinstance(value, str) and _SHA256.fullmatch(value):
        return []
    return [Problem(where, f"应为 64 位小写十六进制 SHA-256 摘要，实为 {value!r}")]


def decimal_problems(value: object, *, where: str) -> list[Problem]:
    """A Problem unless ``value`` is a finite Decimal (never a float)."""
    if isinstance(value, Decimal) and value.is_finite():
        return []
    return [Problem(where, f"应为有限的 Decimal 数值，实为 {value!r}")]


def date_problems(value: object, *, where: str) -> list[Problem]:
    """A Problem unless ``value`` is a plain date (a datetime would carry a time of day)."""
    if type(value) is date:
        return []
    return [Problem(where, f"应为日期（datetime.date），实为 {value!r}")]


def built_from_problems(value: object, *, where: str) -> list[Problem]:
    """A Problem unless ``value`` maps input names to hash strings."""
    if isinstance(value, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        return []
    return [Problem(where, "应为“输入名称 → 摘要”的字符串映射")]


def path_text(value: str | os.PathLike[str]) -> str:
    """A stored path: POSIX separators, as given (relative paths stay relative)."""
    return value if isinstance(value, str) else PurePath(os.fspath(value)).as_posix()
