"""The audit result's data model: validated facts of one audit, and the names documents print."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

AuditType = Literal["initial", "surveillance", "recertification"]
ResultForm = Literal["score", "ratio", "sampled", "not_applicable", "compliant", "level"]
AUDIT_TYPES: dict[str, str] = {"initial": "初次认证审核", "surveillance": "监督审核", "recertification": "再认证审核"}
ROLES: dict[str, str] = {"leader": "审核组长", "member": "审核员", "expert": "技术专家", "observer": "观察员"}
MODES: dict[str, str] = {"onsite": "现场审核", "remote": "远程审核"}


@dataclass(frozen=True)
class Contact:
    """The organisation's contact person for the audit."""

    name: str = ""
    title: str = ""
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Organization:
    """The audited organisation (受审核组织)."""

    name: str
    uscc: str
    registered_address: str
    audit_address: str
    uscc_checksum_override: str = ""
    contact: Contact = field(default_factory=Contact)
    legal_representative: str = ""
    employees: int | None = None


@dataclass(frozen=True)
class TeamMember:
    """One auditor and their role in the audit team."""

    name: str
    role: str
    qualification: str = ""

    @property
    def role_name(self) -> str:
        """The role as documents print it (审核组长 …)."""
        return ROLES[self.role]


@dataclass(frozen=True)
class TimetableEntry:
    """One slot of the audit timetable."""

    date: date
    start: str
    end: str
    activity: str
    auditors: tuple[str, ...] = ()
    area: str = ""


@dataclass(frozen=True)
class AuditInfo:
    """The audit itself: type, dates, team and plan."""

    type: AuditType
    start_date: date
    end_date: date
    team: tuple[TeamMember, ...]
    mode: str = "onsite"
    person_days: Decimal | None = None
    initial_person_days: Decimal | None = None
    previous_certificate: str = ""
    timetable: tuple[TimetableEntry, ...] = ()
    documents_to_prepare: tuple[str, ...] = ()

    @property
    def leader(self) -> TeamMember:
        """The audit team leader."""
        return next(m for m in self.team if m.role == "leader")


@dataclass(frozen=True, slots=True)
class ItemResult:
    """The auditor's result for one item, in exactly one form."""

    item_id: str
    form: ResultForm
    score: Decimal | None = None
    ratio: Decimal | None = None
    sampled: int | None = None
    nonconforming: int | None = None
    population: int | None = None
    covers_all_sites: bool = False
    reason: str = ""
    compliant: bool | None = None
    level: int | None = None
    evidence: str = ""
    finding: str = ""


@dataclass(frozen=True)
class ReportText:
    """The audit team's narrative for the report (all optional)."""

    overview: str = ""
    strengths: tuple[str, ...] = ()
    weaknesses: tuple[str, ...] = ()
    recommendations: tuple[str, ...] = ()
    team_recommendation: str = ""


@dataclass(frozen=True)
class AuditResult:
    """A validated audit result."""

    scheme_id: str
    organization: Organization
    scope: str
    audit: AuditInfo
    items: Mapping[str, ItemResult]  # in the scheme's item order
    report: ReportText = field(default_factory=ReportText)
    prerequisites: Mapping[str, int | bool] = field(default_factory=dict)
    digest: str = ""  # SHA-256 of the file it was read from

    @property
    def key(self) -> str:
        """The natural identity of this audit: one certificate per key."""
        return "|".join((self.scheme_id, self.organization.uscc, self.audit.type, self.audit.start_date.isoformat()))
