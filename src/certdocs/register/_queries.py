"""Reading the register: rows into records, in a fixed number of queries however many rows."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from certdocs.register._backend import Db, Row
from certdocs.register._records import (
    ArchiveEntry,
    CertificateFacts,
    CertificateRecord,
    DecisionRecord,
    DocumentRecord,
    NumberNote,
    State,
    Status,
    StatusChange,
)

# The status shown as of :today, in SQL so that list(status=...) filters in the database.
SHOWN_STATUS = "(CASE WHEN c.status IN ('有效', '暂停') AND c.valid_until < :today THEN '过期失效' ELSE c.status END)"
# The state shown: a reserved number with a void note is voided (作废).
SHOWN_STATE = (
    "(CASE WHEN EXISTS (SELECT 1 FROM number_notes AS v WHERE v.certificate_id = c.id AND v.kind = 'void')"
    " THEN 'voided' ELSE c.state END)"
)

_DOCUMENTS = """
SELECT c.number, d.kind, d.path, d.sha256, d.built_from, d.recorded_at, d.certificate_id
FROM documents AS d JOIN certificates AS c ON c.id = d.certificate_id
"""


def certificates(conn: Db, *, where: str, params: Mapping[str, object], today: date) -> tuple[CertificateRecord, ...]:
    """Certificates matching the SQL condition ``where`` (over alias ``c``), in number order.

    At most four queries (certificates, their documents, histories and, for numbers never
    issued, their notes), so listing a thousand certificates does not cost thousands of
    round trips.
    """
    bound = {**params, "today": today.isoformat()}
    rows = conn.execute(
        f"SELECT c.*, {SHOWN_STATUS} AS shown_status, {SHOWN_STATE} AS shown_state"
        f" FROM certificates AS c WHERE {where} ORDER BY c.id",
        bound,
    ).fetchall()
    if not rows:
        return ()
    ids = f"SELECT c.id FROM certificates AS c WHERE {where}"
    docs_by_id: dict[int, list[DocumentRecord]] = defaultdict(list)
    for row in conn.execute(f"{_DOCUMENTS} WHERE d.certificate_id IN ({ids}) ORDER BY d.kind", bound):
        docs_by_id[int(row["certificate_id"])].append(document(row))
    history_by_id: dict[int, list[StatusChange]] = defaultdict(list)
    for row in conn.execute(
        f"SELECT h.* FROM status_history AS h WHERE h.certificate_id IN ({ids}) ORDER BY h.id",
        bound,
    ):
        history_by_id[int(row["certificate_id"])].append(status_change(row))
    notes_by_id: dict[int, list[NumberNote]] = defaultdict(list)
    # Only numbers never issued carry notes: a list of issued certificates skips the query.
    if any(row["state"] != "issued" for row in rows):
        for row in conn.execute(
            f"SELECT n.* FROM number_notes AS n WHERE n.certificate_id IN ({ids}) ORDER BY n.id",
            bound,
        ):
            notes_by_id[int(row["certificate_id"])].append(number_note(row))
    return tuple(
        certificate(
            row, documents=docs_by_id[row["id"]], history=history_by_id[row["id"]], notes=notes_by_id[row["id"]]
        )
        for row in rows
    )


def documents(
    conn: Db, *, where: str = "TRUE", params: Mapping[str, object] | None = None
) -> tuple[DocumentRecord, ...]:
    """Documents matching ``where`` (over aliases ``c`` and ``d``), by number then kind."""
    rows = conn.execute(f"{_DOCUMENTS} WHERE {where} ORDER BY c.id, d.kind", params or {})
    return tuple(document(row) for row in rows)


def certificate(
    row: Row,
    *,
    documents: list[DocumentRecord],
    history: list[StatusChange],
    notes: list[NumberNote] | None = None,
) -> CertificateRecord:
    """A certificate record from a ``certificates`` row carrying ``shown_status`` and ``shown_state``."""
    return CertificateRecord(
        number=row["number"],
        key=row["reservation_key"],
        series=row["series"],
        serial=int(row["serial"]),
        state=State(row["shown_state"]),
        status=_status(row["shown_status"]),
        stored_status=_status(row["status"]),
        facts=facts(row),
        last_audit_type=row["last_audit_type"],
        last_audit_end_date=_date(row["last_audit_end_date"]),
        superseded_by=row["superseded_by"],
        reserved_at=_timestamp(row["reserved_at"]),
        issued_at=None if row["issued_at"] is None else _timestamp(row["issued_at"]),
        documents=tuple(documents),
        history=tuple(history),
        notes=tuple(notes or ()),
    )


def facts(row: Row) -> CertificateFacts:
    """The certificate as issued, from a ``certificates`` row (see :func:`_records.facts_row`)."""
    return CertificateFacts(
        organization_name=row["organization_name"],
        uscc=row["uscc"],
        scheme=row["scheme"],
        grade=row["grade"],
        stars=row["stars"],
        level=row["level"],
        score=None if row["score"] is None else Decimal(row["score"]),
        first_issue_date=_date(row["first_issue_date"]),
        issue_date=_date(row["issue_date"]),
        valid_until=_date(row["valid_until"]),
        decision_meeting=row["decision_meeting"],
        decision_date=_date(row["decision_date"]),
        audit_path=row["audit_path"],
        audit_sha256=row["audit_sha256"],
        audit_type=row["audit_type"],
        audit_end_date=None if row["audit_end_date"] is None else _date(row["audit_end_date"]),
        initial_person_days=Decimal(row["initial_person_days"]),
    )


def number_note(row: Row) -> NumberNote:
    """A number note from a ``number_notes`` row."""
    return NumberNote(
        kind=row["kind"],
        reason=row["reason"],
        actor=row["actor"],
        recorded_at=_timestamp(row["recorded_at"]),
    )


def document(row: Row) -> DocumentRecord:
    """A document record from a row of ``_DOCUMENTS``."""
    built_from = {str(k): str(v) for k, v in json.loads(row["built_from"]).items()}
    return DocumentRecord(
        number=row["number"],
        kind=row["kind"],
        path=row["path"],
        sha256=row["sha256"],
        built_from=MappingProxyType(built_from),
        recorded_at=_timestamp(row["recorded_at"]),
    )


def status_change(row: Row) -> StatusChange:
    """A status-history entry from a ``status_history`` row."""
    return StatusChange(
        status=Status(row["status"]),
        on=_date(row["on_date"]),
        reason=row["reason"],
        actor=row["actor"],
        recorded_at=_timestamp(row["recorded_at"]),
        until=None if row["until_date"] is None else _date(row["until_date"]),
    )


def decision(row: Row) -> DecisionRecord:
    """A decision record from a ``decisions`` row."""
    return DecisionRecord(
        meeting=row["meeting"],
        meeting_date=_date(row["meeting_date"]),
        audit_path=row["audit_path"],
        decision=row["decision"],
        reason=row["reason"],
        recorded_at=_timestamp(row["recorded_at"]),
    )


def archive_entry(row: Row) -> ArchiveEntry:
    """An archive entry from an ``archive_entries`` row."""
    return ArchiveEntry(
        number=row["certificate_number"],
        kind=row["kind"],
        bag_path=row["bag_path"],
        sha256=row["sha256"],
        archived_at=datetime.fromisoformat(row["archived_at"]),
        superseded=bool(row["superseded"]),
        supersede_reason=row["supersede_reason"],
    )


def _status(value: Any) -> Status | None:
    return None if value is None else Status(value)


def _date(value: Any) -> date:
    return date.fromisoformat(str(value))


def _timestamp(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))
