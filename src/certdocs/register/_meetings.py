"""Register operations around certificates: meeting decisions and archive entries."""

from __future__ import annotations

import os
from datetime import date, datetime

from certdocs.errors import Problem, RegisterError
from certdocs.register import _queries as q
from certdocs.register._connection import Connection
from certdocs.register._dialect import NOW
from certdocs.register._records import (
    DECISIONS,
    ArchiveEntry,
    DecisionRecord,
    date_problems,
    path_problems,
    path_text,
    sha256_problems,
    text_problems,
)


class Meetings(Connection):
    """Decisions taken at certification decision meetings, and archived documents."""

    def record_decision(
        self,
        *,
        meeting: str,
        meeting_date: date,
        audit_path: str | os.PathLike[str],
        decision: str,
        reason: str | None = None,
    ) -> DecisionRecord:
        """Record one decision of a meeting; recording it again replaces it. Return it as stored."""
        problems = text_problems(meeting, where="meeting")
        problems += date_problems(meeting_date, where="meeting_date")
        problems += path_problems(audit_path, where="audit_path")
        if decision not in DECISIONS:
            problems.append(Problem("decision", f"应为 {' / '.join(DECISIONS)} 之一"))
        if reason is not None and not isinstance(reason, str):
            problems.append(Problem("reason", "应为文字或空"))
        if problems:
            raise RegisterError(problems, source=self.where)
        audit = path_text(audit_path)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO decisions (meeting, meeting_date, audit_path, decision, reason)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (meeting, audit_path) DO UPDATE SET"
                " meeting_date = excluded.meeting_date, decision = excluded.decision,"
                f" reason = excluded.reason, recorded_at = {NOW}",
                (meeting, meeting_date.isoformat(), audit, decision, reason),
            )
            row = conn.execute(
                "SELECT * FROM decisions WHERE meeting = ? AND audit_path = ?", (meeting, audit)
            ).fetchone()
        return q.decision(row)

    def decisions_of(self, meeting: str) -> tuple[DecisionRecord, ...]:
        """The decisions recorded for ``meeting``, in the order first recorded."""
        with self._read() as conn:
            rows = conn.execute("SELECT * FROM decisions WHERE meeting = ? ORDER BY id", (meeting,)).fetchall()
        return tuple(q.decision(row) for row in rows)

    def record_archive(
        self,
        number: str,
        *,
        kind: str,
        bag_path: str | os.PathLike[str],
        sha256: str,
        archived_at: datetime,
        supersede_reason: str | None = None,
    ) -> ArchiveEntry:
        """Record that a document of a certificate was archived; return the entry as stored.

        Archiving the same file (same bag path and hash) again returns the existing entry.
        A different file of the same kind replaces the current entry, which is kept and flagged
        superseded with ``supersede_reason``; without a reason that is refused.
        """
        problems = text_problems(kind, where="kind")
        problems += path_problems(bag_path, where="bag_path")
        problems += sha256_problems(sha256, where="sha256")
        if not isinstance(archived_at, datetime):
            problems.append(Problem("archived_at", f"应为时间（datetime），实为 {archived_at!r}"))
        if supersede_reason is not None:
            problems += text_problems(supersede_reason, where="supersede_reason")
        if problems:
            raise RegisterError(problems, source=self.where)
        bag = path_text(bag_path)
        with self._write() as conn:
            self._certificate_row(conn, number)
            current = conn.execute(
                "SELECT * FROM archive_entries WHERE certificate_number = ? AND kind = ? AND superseded = 0",
                (number, kind),
            ).fetchone()
            if current is not None:
                if (current["bag_path"], current["sha256"]) == (bag, sha256):
                    return q.archive_entry(current)
                if supersede_reason is None:
                    raise self._error(
                        f"证书 {number} 的 {kind}",
                        f"已归档于 {current['bag_path']}，再次归档须说明替换原因",
                    )
                conn.execute(
                    "UPDATE archive_entries SET superseded = 1, supersede_reason = ? WHERE id = ?",
                    (supersede_reason, current["id"]),
                )
            row = conn.execute(
                "INSERT INTO archive_entries"
                " (certificate_number, kind, bag_path, sha256, archived_at) VALUES (?, ?, ?, ?, ?) RETURNING *",
                (number, kind, bag, sha256, archived_at.isoformat()),
            ).fetchone()
        return q.archive_entry(row)

    def archive_entries(self, number: str) -> tuple[ArchiveEntry, ...]:
        """Every archive entry of a certificate, superseded ones included, oldest first."""
        with self._read() as conn:
            self._certificate_row(conn, number)
            rows = conn.execute(
                "SELECT * FROM archive_entries WHERE certificate_number = ? ORDER BY id",
                (number,),
            ).fetchall()
        return tuple(q.archive_entry(row) for row in rows)
