"""Batch issuing after a certification decision meeting: every approved audit, in one run.

Decisions are recorded in the register first; approved audits are issued through one
:class:`~certdocs.pipeline.Issuer` run (so LibreOffice converts them together); rejected and
deferred ones are recorded, not issued. Running the same meeting again issues nothing new. A
rejected audit whose certificate is already in force is reported with the action the office
must take (``certdocs register withdraw NUMBER``): certdocs never withdraws on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from certdocs.audit import load_audit
from certdocs.decisions import DECISIONS, Meeting
from certdocs.errors import CertdocsError
from certdocs.pipeline import Issuer, IssueRequest, Outcome, OutcomeStatus
from certdocs.register import Register, State, Status


@dataclass(frozen=True)
class BatchRow:
    """One decision of the meeting and what became of it."""

    audit: str  # as written in the decision file
    decision: str  # approve / reject / defer
    outcome: Outcome | None = None  # for an approved audit
    reason: str = ""  # why a rejected or deferred one was skipped


@dataclass(frozen=True)
class Action:
    """Something the office must do after the meeting (certdocs does not do it on its own)."""

    audit: str
    number: str
    status: str
    command: str
    why: str


@dataclass(frozen=True)
class BatchSummary:
    """What a batch did, record by record, and what is left for the office to do."""

    meeting: Meeting
    rows: tuple[BatchRow, ...]
    actions: tuple[Action, ...] = ()

    @property
    def failed(self) -> bool:
        """Whether a record is listed under ``failed`` (it failed, or its audit was refused) or an action is needed.

        Either means exit status 1 (docs/decisions.md).
        """
        bad = (OutcomeStatus.FAILED, OutcomeStatus.REFUSED)
        return bool(self.actions) or any(r.outcome is not None and r.outcome.status in bad for r in self.rows)

    def to_json(self) -> dict[str, Any]:
        """The summary object (docs/decisions.md): issued, skipped, failed, and actions when there are any."""

        def show(path: Path | None) -> str | None:
            return None if path is None else str(path)

        issued: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for row in self.rows:
            outcome = row.outcome
            if outcome is None:
                skipped.append({"audit": row.audit, "reason": row.reason})
            elif outcome.status == OutcomeStatus.ISSUED:
                issued.append(
                    {
                        "audit": row.audit,
                        "certificate_no": outcome.number,
                        "grade": outcome.grade,
                        "documents": {k: show(p) for k, p in outcome.documents.items()},
                        "issue_pack": show(outcome.issue_pack),
                    }
                )
            elif outcome.status == OutcomeStatus.UNCHANGED:
                skipped.append(
                    {
                        "audit": row.audit,
                        "reason": "已发证，输入未变，未重新生成",
                        "certificate_no": outcome.number,
                        "grade": outcome.grade,
                    }
                )
            else:
                failed.append({"audit": row.audit, "errors": list(outcome.errors)})
        summary: dict[str, Any] = {"issued": issued, "skipped": skipped, "failed": failed}
        if self.actions:
            summary["actions"] = [
                {"audit": a.audit, "certificate_no": a.number, "status": a.status, "action": a.command, "why": a.why}
                for a in self.actions
            ]
        return summary


def run_batch(meeting: Meeting, *, issuer: Issuer, register: Register) -> BatchSummary:
    """Record every decision of ``meeting``, issue the approved ones, and say what else must be done."""
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
    rows: list[BatchRow] = []
    actions: list[Action] = []
    for d in meeting.decisions:
        if d.decision == "approve":
            rows.append(BatchRow(d.audit_as_written, d.decision, outcome=by_audit[d.audit]))
            continue
        rows.append(BatchRow(d.audit_as_written, d.decision, reason=f"{DECISIONS[d.decision]}：{d.reason}"))
        if d.decision == "reject":
            action = _withdrawal(d.audit, d.audit_as_written, meeting=meeting, issuer=issuer, register=register)
            if action is not None:
                actions.append(action)
    return BatchSummary(meeting, tuple(rows), tuple(actions))


def _withdrawal(path: Path, written: str, *, meeting: Meeting, issuer: Issuer, register: Register) -> Action | None:
    """The withdrawal to consider when a meeting rejects an audit whose certificate is in force."""
    try:
        audit, _ = load_audit(path, schemes_dir=issuer.workspace.schemes)
    except CertdocsError:
        return None  # an unreadable audit was never issued from this file
    record = register.find_by_key(audit.key, today=issuer.today)
    if record is None or record.state != State.ISSUED or record.status not in (Status.VALID, Status.SUSPENDED):
        return None
    command = f"certdocs register withdraw {record.number} --reason … --by …"
    why = (
        f"{meeting.name}（{meeting.date}）不予批准，"
        f"而证书 {record.number} 已于 {record.facts.issue_date} 发证、状态为{record.status}"
    )
    return Action(written, record.number, str(record.status), command, why)


__all__ = ["Action", "BatchRow", "BatchSummary", "run_batch"]
