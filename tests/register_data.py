"""Register test data: one approved certificate's facts, a document, issuing one certificate.

Kept free of pytest so that the worker processes tests/register_workers.py spawns import only
certdocs and this: importing pytest cost each spawned process about 0.2 s of CPU.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from certdocs.register import CertificateFacts, NewDocument, Register

PATTERN = "BZ{year}SC{serial:04d}"


def facts(**changes: Any) -> CertificateFacts:
    """Facts of one approved xbht-s04-2025 certificate, with ``changes`` applied."""
    base = CertificateFacts(
        organization_name="杭州某电器股份有限公司",
        uscc="91350200MA2YJ1XR9G",
        scheme="xbht-s04-2025",
        grade="四星级",
        stars=4,
        level=None,
        score=Decimal("86.1"),
        first_issue_date=date(2026, 11, 22),
        issue_date=date(2026, 11, 22),
        valid_until=date(2029, 11, 21),
        decision_meeting="2026年第47次认证决定会议",
        decision_date=date(2026, 11, 20),
        audit_path="audits/a.json",
        audit_sha256="a" * 64,
        audit_type="initial",
        audit_end_date=date(2026, 11, 11),
        initial_person_days=Decimal("2.5"),
    )
    return replace(base, **changes)


def document(kind: str = "certificate", sha: str = "b") -> NewDocument:
    """A produced document of ``kind`` whose hash is ``sha`` repeated."""
    return NewDocument(
        kind=kind,
        path=f"output/{kind}.pdf",
        sha256=sha * 64,
        built_from={"audit": "a" * 64, "template": "c" * 64},
    )


def issue(register: Register, key: str, **changes: Any) -> str:
    """Reserve and complete one certificate; return its number."""
    held = register.reserve(key, pattern=PATTERN, year=2026, facts=facts(**changes))
    register.complete(held.number, documents=[document()])
    return held.number
