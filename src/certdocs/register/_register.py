"""The certificate register: numbers, certificates, their documents and status history."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date

from certdocs.errors import Problem, RegisterError
from certdocs.register import _queries as q
from certdocs.register._backend import Db, Row
from certdocs.register._connection import unknown
from certdocs.register._dialect import NOW
from certdocs.register._lifecycle import (
    CANCEL,
    RESTORE,
    SUPERSEDE,
    SUPERSEDE_REASON,
    SUSPEND,
    WITHDRAW,
    Transition,
    date_refusal,
    refusal,
    shown_status,
)
from certdocs.register._location import DocumentPaths
from certdocs.register._numbers import NumberPattern, lock_series, take_serial
from certdocs.register._records import (
    AUDIT_TYPES,
    CertificateFacts,
    CertificateRecord,
    DocumentRecord,
    NewDocument,
    Reservation,
    State,
    Status,
    StatusChange,
    built_from_problems,
    date_problems,
    facts_problems,
    facts_row,
    path_problems,
    sha256_problems,
    text_problems,
    typed_text_problems,
)
from certdocs.register._unissued import DEFAULT_ACTOR, VOIDED, Unissued, is_voided


class Register(Unissued):
    """The certificate register over an SQLite file or a PostgreSQL database (open with :meth:`Register.open`).

    Every operation is one transaction; every failure is a :class:`RegisterError`.
    """

    # -- numbers and issuing ---------------------------------------------------------------

    def reserve(self, key: str, *, pattern: str, year: int, facts: CertificateFacts) -> Reservation:
        """The certificate number for ``key``: the one held from an earlier run, else the next.

        ``key`` is the natural identity of one audit (for example
        ``"scheme|uscc|audit type|start date"``). A new number is the next serial of the
        pattern's series for ``year``, taken under ``BEGIN IMMEDIATE`` so that concurrent
        runs never share or skip a number; its row stays ``reserved`` until :meth:`complete`.
        A still-reserved row takes the ``facts`` given now (they may have been corrected since
        the interrupted run); an issued one is left alone and returned with state ``issued``.
        """
        parsed = NumberPattern.parse(pattern)
        problems = text_problems(key, where="key")
        problems += parsed if isinstance(parsed, list) else []
        if type(year) is not int or not 1 <= year <= 9999:
            problems.append(Problem("year", f"应为年份整数，实为 {year!r}"))
        problems += facts_problems(facts)
        if problems or isinstance(parsed, list):
            raise RegisterError(problems, source=self.where)
        row = facts_row(facts)
        series = parsed.series(year=year)
        with self._write() as conn:
            found = _held(conn, key)
            if found is None:
                # Another computer may have reserved this key while we waited for the series.
                last = lock_series(conn, series)
                found = _held(conn, key)
            if found is not None:
                if found["state"] == State.RESERVED:
                    assignments = ", ".join(f"{column} = :{column}" for column in row)
                    conn.execute(
                        f"UPDATE certificates SET {assignments} WHERE reservation_key = :key",
                        {**row, "key": key},
                    )
                return _reservation(key, found, created=False)
            # Here the series is locked already (the key was not held at first): no second round trip.
            serial = take_serial(conn, series, last=last)
            number = parsed.format(year=year, serial=serial)
            if conn.execute("SELECT 1 FROM certificates WHERE number = ?", (number,)).fetchone():
                raise self._error(f"编号规则 {pattern!r}", f"生成的证书编号 {number} 已被另一编号系列占用")
            row |= {"number": number, "reservation_key": key, "series": series, "serial": serial}
            conn.execute(
                f"INSERT INTO certificates ({', '.join(row)}) VALUES ({', '.join(':' + column for column in row)})",
                row,
            )
        return Reservation(key, number, series, serial, State.RESERVED, created=True)

    def complete(self, number: str, *, documents: Iterable[NewDocument], actor: str = DEFAULT_ACTOR) -> None:
        """Record the documents of a reserved certificate and issue it with status 有效.

        The first status-history entry is dated the issue date. Completing an issued
        certificate again only records the documents, so a rerun after a crash is harmless.
        """
        docs = tuple(documents)
        problems = text_problems(actor, where="actor")
        for n, doc in enumerate(docs):
            problems += _document_problems(doc, where=f"documents[{n}]")
        if problems:
            raise RegisterError(problems, source=self.where)
        with self._write() as conn:
            row = self._certificate_row(conn, number)
            if is_voided(conn, row["id"]):
                raise self._error(f"证书 {number}", "编号已作废，不能再发证")
            for doc in docs:
                _upsert_document(conn, row["id"], doc, self._paths)
            if row["state"] == State.ISSUED:
                return
            conn.execute(
                f"UPDATE certificates SET state = 'issued', status = '有效', issued_at = {NOW} WHERE id = ?",
                (row["id"],),
            )
            reason = f"认证决定：{row['decision_meeting']}（{row['decision_date']}）"
            _insert_change(conn, row["id"], Status.VALID, row["issue_date"], reason, actor)

    def pending_reservations(self) -> tuple[Reservation, ...]:
        """Numbers reserved but never completed (an interrupted run), in allocation order."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT reservation_key, number, series, serial, state FROM certificates AS c"
                f" WHERE state = 'reserved' AND NOT {VOIDED.format(id='c.id')} ORDER BY id"
            ).fetchall()
        return tuple(_reservation(row["reservation_key"], row, created=False) for row in rows)

    def unissued(self, *, today: date) -> tuple[CertificateRecord, ...]:
        """Numbers taken but not issued: still reserved (with any failure notes) or voided."""
        return self._certificates("c.state = 'reserved'", {}, today=today)

    # -- documents -------------------------------------------------------------------------

    def record_document(
        self,
        number: str,
        *,
        kind: str,
        path: str | os.PathLike[str],
        sha256: str,
        built_from: Mapping[str, str],
    ) -> DocumentRecord:
        """Record (or replace) the document of ``kind`` of a certificate; return it as stored."""
        doc = NewDocument(kind=kind, path=path, sha256=sha256, built_from=built_from)
        problems = _document_problems(doc, where="document")
        if problems:
            raise RegisterError(problems, source=self.where)
        with self._write() as conn:
            row = self._certificate_row(conn, number)
            _upsert_document(conn, row["id"], doc, self._paths)
            (stored,) = q.documents(conn, where="c.id = :id AND d.kind = :kind", params={"id": row["id"], "kind": kind})
        return self._paths.document(stored)

    def documents_of(self, number: str) -> tuple[DocumentRecord, ...]:
        """The recorded documents of a certificate, by kind."""
        with self._read() as conn:
            row = self._certificate_row(conn, number)
            found = q.documents(conn, where="c.id = :id", params={"id": row["id"]})
        return tuple(map(self._paths.document, found))

    def all_documents(self) -> tuple[DocumentRecord, ...]:
        """Every recorded document of every certificate, by number then kind, in one query."""
        with self._read() as conn:
            found = q.documents(conn)
        return tuple(map(self._paths.document, found))

    # -- status ----------------------------------------------------------------------------

    def suspend(self, number: str, *, reason: str, actor: str, on: date, until: date | None = None) -> StatusChange:
        """Suspend a 有效 certificate (→ 暂停), optionally until a last day (暂停期限)."""
        if until is not None:
            problems = date_problems(until, where="until")
            if not problems and type(on) is date and until < on:
                problems.append(Problem("until", f"暂停期限 {until} 早于暂停日期 {on}"))
            _refuse(problems, self.where)
        return self._change(number, SUSPEND, reason=reason, actor=actor, on=on, until=until)

    def restore(self, number: str, *, reason: str, actor: str, on: date) -> StatusChange:
        """Restore a 暂停 certificate (→ 有效)."""
        return self._change(number, RESTORE, reason=reason, actor=actor, on=on)

    def withdraw(self, number: str, *, reason: str, actor: str, on: date) -> StatusChange:
        """Withdraw a 有效 or 暂停 certificate (→ 撤销, final)."""
        return self._change(number, WITHDRAW, reason=reason, actor=actor, on=on)

    def cancel(self, number: str, *, reason: str, actor: str, on: date) -> StatusChange:
        """Cancel a 有效 or 暂停 certificate (→ 注销, final)."""
        return self._change(number, CANCEL, reason=reason, actor=actor, on=on)

    def supersede(self, old_number: str, *, new_number: str, on: date, actor: str = DEFAULT_ACTOR) -> StatusChange:
        """Retire a certificate replaced on recertification: 注销, "再认证换发新证 <new number>".

        The new certificate must be issued, to the same organisation under the same scheme.
        Superseding again by the same new number returns the existing entry.
        """
        _refuse(date_problems(on, where="on") + text_problems(actor, where="actor"), self.where)
        with self._write() as conn:
            old = self._certificate_row(conn, old_number)
            new = self._certificate_row(conn, new_number)
            where = f"证书 {old_number}"
            if old["superseded_by"] == new_number:
                last = conn.execute(
                    "SELECT * FROM status_history WHERE certificate_id = ? ORDER BY id DESC",
                    (old["id"],),
                ).fetchone()
                return q.status_change(last)
            if old["superseded_by"] is not None:
                raise self._error(where, f"已由证书 {old['superseded_by']} 换发，不能再换发")
            if new_number == old_number:
                raise self._error(where, "不能由自身换发")
            if new["state"] != State.ISSUED:
                raise self._error(where, f"新证书 {new_number} 尚未发证")
            if (new["uscc"], new["scheme"]) != (old["uscc"], old["scheme"]):
                raise self._error(where, f"新证书 {new_number} 的组织或评价方案与原证书不一致")
            reason = SUPERSEDE_REASON.format(new_number=new_number)
            change = self._apply(conn, old, SUPERSEDE, reason=reason, actor=actor, on=on)
            conn.execute("UPDATE certificates SET superseded_by = ? WHERE id = ?", (new_number, old["id"]))
        return change

    def record_last_audit(self, number: str, *, audit_type: str, end_date: date) -> None:
        """Note the type and last day of the latest audit (surveillance windows count from it).

        Only ``last_audit_*`` move: the record's ``facts`` keep the issuing audit.
        """
        problems = date_problems(end_date, where="end_date")
        if audit_type not in AUDIT_TYPES:
            problems.append(Problem("audit_type", f"应为 {' / '.join(AUDIT_TYPES)} 之一"))
        _refuse(problems, self.where)
        with self._write() as conn:
            row = self._certificate_row(conn, number)
            if end_date < date.fromisoformat(row["last_audit_end_date"]):
                raise self._error(
                    f"证书 {number}",
                    f"审核结束日期 {end_date} 早于已记录的 {row['last_audit_end_date']}",
                )
            conn.execute(
                "UPDATE certificates SET last_audit_type = ?, last_audit_end_date = ? WHERE id = ?",
                (audit_type, end_date.isoformat(), row["id"]),
            )

    def _change(
        self, number: str, transition: Transition, *, reason: str, actor: str, on: date, until: date | None = None
    ) -> StatusChange:
        problems = typed_text_problems(reason, where="reason") + typed_text_problems(actor, where="actor")
        _refuse(problems + date_problems(on, where="on"), self.where)
        with self._write() as conn:
            row = self._certificate_row(conn, number)
            return self._apply(conn, row, transition, reason=reason, actor=actor, on=on, until=until)

    def _apply(
        self,
        conn: Db,
        row: Row,
        transition: Transition,
        *,
        reason: str,
        actor: str,
        on: date,
        until: date | None = None,
    ) -> StatusChange:
        """Apply ``transition`` to the certificate ``row`` inside the caller's transaction."""
        where = f"证书 {row['number']}"
        if row["state"] != State.ISSUED:
            raise self._error(where, f"尚未发证（仅预留编号），不能{transition.action}")
        valid_until = date.fromisoformat(row["valid_until"])
        current = shown_status(Status(row["status"]), valid_until=valid_until, today=on)
        last = conn.execute(
            "SELECT max(on_date) FROM status_history WHERE certificate_id = ?", (row["id"],)
        ).fetchone()[0]
        why = refusal(current, transition) or date_refusal(
            on=on,
            issue_date=date.fromisoformat(row["issue_date"]),
            last_change=None if last is None else date.fromisoformat(last),
        )
        if why:
            raise self._error(where, why)
        conn.execute("UPDATE certificates SET status = ? WHERE id = ?", (transition.to, row["id"]))
        return _insert_change(conn, row["id"], transition.to, on.isoformat(), reason, actor, until=until)

    # -- queries ---------------------------------------------------------------------------

    def get(self, number: str, *, today: date) -> CertificateRecord:
        """The certificate ``number`` with its status as of ``today``; refuses an unknown number."""
        found = self._certificates("c.number = :number", {"number": number}, today=today)
        if not found:
            raise unknown(number, where=self.where)
        return found[0]

    def find_by_key(self, key: str, *, today: date) -> CertificateRecord | None:
        """The certificate (reserved or issued) held for reservation ``key``, if any."""
        found = self._certificates("c.reservation_key = :key", {"key": key}, today=today)
        return found[0] if found else None

    def find_current(self, uscc: str, scheme: str, *, today: date) -> CertificateRecord | None:
        """The latest issued, not superseded certificate of an organisation under a scheme.

        Whatever its status: a recertification decides for itself what a 暂停 or 撤销
        certificate means.
        """
        latest = (
            "c.id = (SELECT id FROM certificates WHERE uscc = :uscc AND scheme = :scheme"
            " AND state = 'issued' AND superseded_by IS NULL"
            " ORDER BY issue_date DESC, id DESC LIMIT 1)"
        )
        found = self._certificates(latest, {"uscc": uscc, "scheme": scheme}, today=today)
        return found[0] if found else None

    def list(self, *, status: Status | str | None = None, today: date) -> tuple[CertificateRecord, ...]:
        """Issued certificates, optionally only those showing ``status`` as of ``today``."""
        if status is None:
            return self._certificates("c.state = 'issued'", {}, today=today)
        if status not in tuple(Status):
            raise self._error("status", f"应为 {' / '.join(Status)} 之一，实为 {status!r}")
        return self._certificates(f"c.state = 'issued' AND {q.SHOWN_STATUS} = :status", {"status": status}, today=today)

    def list_active(self, today: date) -> tuple[CertificateRecord, ...]:
        """Certificates still in force on ``today`` (有效 or 暂停): those due for surveillance."""
        return self._certificates(f"c.state = 'issued' AND {q.SHOWN_STATUS} IN ('有效', '暂停')", {}, today=today)

    def _certificates(self, where: str, params: dict[str, object], *, today: date) -> tuple[CertificateRecord, ...]:
        _refuse(date_problems(today, where="today"), self.where)
        with self._read() as conn:
            found = q.certificates(conn, where=where, params=params, today=today)
        if self._paths.root is None:
            return found
        return tuple(replace(r, documents=tuple(map(self._paths.document, r.documents))) for r in found)


def _refuse(problems: list[Problem], where: str) -> None:
    if problems:
        raise RegisterError(problems, source=where)


def _held(conn: Db, key: str) -> Row | None:
    """The row holding ``key`` (locked in a write), if any."""
    found: Row | None = conn.execute(
        f"SELECT id, number, series, serial, state FROM certificates WHERE reservation_key = ?{conn.lock}",
        (key,),
    ).fetchone()
    return found


def _reservation(key: str, row: Row, *, created: bool) -> Reservation:
    return Reservation(key, row["number"], row["series"], int(row["serial"]), State(row["state"]), created)


def _document_problems(doc: NewDocument, *, where: str) -> list[Problem]:
    return (
        text_problems(doc.kind, where=f"{where}.kind")
        + path_problems(doc.path, where=f"{where}.path")
        + sha256_problems(doc.sha256, where=f"{where}.sha256")
        + built_from_problems(doc.built_from, where=f"{where}.built_from")
    )


def _upsert_document(conn: Db, certificate_id: int, doc: NewDocument, paths: DocumentPaths) -> None:
    conn.execute(
        "INSERT INTO documents (certificate_id, kind, path, sha256, built_from)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (certificate_id, kind) DO UPDATE SET"
        " path = excluded.path, sha256 = excluded.sha256, built_from = excluded.built_from,"
        f" recorded_at = {NOW}",
        (
            certificate_id,
            doc.kind,
            paths.stored(doc.path),
            doc.sha256,
            json.dumps(dict(doc.built_from), ensure_ascii=False, sort_keys=True),
        ),
    )


def _insert_change(
    conn: Db,
    certificate_id: int,
    status: Status,
    on: str,
    reason: str,
    actor: str,
    *,
    until: date | None = None,
) -> StatusChange:
    row = conn.execute(
        "INSERT INTO status_history (certificate_id, status, on_date, reason, actor, until_date)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
        (certificate_id, str(status), on, reason, actor, None if until is None else until.isoformat()),
    ).fetchone()
    return q.status_change(row)
