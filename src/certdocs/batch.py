"""Batch issuing after a certification decision meeting: every approved audit, in one run.

Decisions are recorded in the register first; approved audits are issued through one
:class:`~certdocs.pipeline.Issuer` run (so LibreOffice converts them together); rejected and
deferred ones are recorded, not issued. Running the same meeting again issues nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certdocs.decisions import DECISIONS, Meeting
from certdocs.pipeline import Issuer, IssueRequest, Outcome
from certdocs.register import Register


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did, record by record."""

    meeting: Meeting
    outcomes: tuple[tuple[str, Outcome | None, str], ...]  # (audit as written, outcome, skip reason)

    @property
    def failed(self) -> bool:
        """Whether any record failed (exit status 1)."""
        return any(o is not None and o.status == "failed" for _, o, _ in self.outcomes)

    def to_json(self) -> dict[str, Any]:
        """The summary object of CONTRACT section 5."""

        def show(path: Path | None) -> str | None:
            return None if path is None else str(path)

        issued: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for audit, outcome, reason in self.outcomes:
            if outcome is None:
                skipped.append({"audit": audit, "reason": reason})
            elif outcome.status == "issued":
                issued.append(
                    {
                        "audit": audit,
                        "certificate_no": outcome.number,
                        "grade": outcome.grade,
                        "documents": {k: show(p) for k, p in outcome.documents.items()},
                        "issue_pack": show(outcome.issue_pack),
                    }
                )
            elif outcome.status == "unchanged":
                skipped.append(
                    {
                        "audit": audit,
                        "reason": "已发证，输入未变，未重新生成",
                        "certificate_no": outcome.number,
                        "grade": outcome.grade,
                    }
                )
            else:
                failed.append({"audit": audit, "errors": list(outcome.errors)})
        return {"issued": issued, "skipped": skipped, "failed": failed}


def run_batch(meeting: Meeting, *, issuer: Issuer, register: Register) -> BatchSummary:
    """Record every decision of ``meeting`` and issue the approved ones."""
    for d in meeting.decisions:
        register.record_decision(
            meeting=meeting.name,
            meeting_date=meeting.date,
            audit_path=str(d.audit),
            decision=d.decision,
            reason=d.reason or None,
        )
    approved = [d for d in meeting.decisions if d.decision == "approve"]
    outcomes = issuer.issue([IssueRequest(d.audit, meeting.name, meeting.date, d.issue_date) for d in approved])
    by_audit = dict(zip((d.audit for d in approved), outcomes, strict=True))
    rows: list[tuple[str, Outcome | None, str]] = []
    for d in meeting.decisions:
        if d.decision == "approve":
            rows.append((d.audit_as_written, by_audit[d.audit], ""))
        else:
            rows.append((d.audit_as_written, None, f"{DECISIONS[d.decision]}：{d.reason}"))
    return BatchSummary(meeting, tuple(rows))
