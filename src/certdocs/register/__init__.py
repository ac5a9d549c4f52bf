"""The certificate register: numbers, issued certificates, documents, statuses, decisions.

One SQLite file (stdlib ``sqlite3``, WAL journal, 30 s busy timeout, foreign keys on) or, for
an office whose computers share one register, a PostgreSQL database
(``Register.open("postgresql://user@host/dbname")``, psycopg 3): the same operations and
guarantees on both. Migrated in order on :meth:`Register.open` and recorded in
``schema_migrations``; :func:`copy_register` copies an SQLite register into PostgreSQL.

How a certificate is issued, crash-safely and without gaps::

    with Register.open("records/register.sqlite3") as register:
        held = register.reserve(key, pattern="BZ{year}SC{serial:04d}", year=2026, facts=facts)
        ...  # render the documents with held.number
        register.complete(held.number, documents=[NewDocument(...), ...])

``reserve`` is keyed by the natural identity of the audit, so a run killed between the two
calls leaves a ``reserved`` row that the next run finds and completes with the same number.
A run that fails after reserving records why with ``register.note_failure(number, reason=…)``;
a number that will never be issued is voided (``register.void``, 作废), so every number of a
series ends issued or voided, and ``register.unissued(today=…)`` lists the others.

Statuses follow docs/dates.md: 有效, 暂停, 撤销, 注销 are stored with a dated history;
过期失效 is derived from 有效期至 and the ``today`` a query is asked about, never from the
clock. A :class:`CertificateRecord` is the certificate as issued (``record.facts``, the
:class:`CertificateFacts` given to ``reserve``) plus what the register adds: number, status,
the latest audit (``last_audit_type``/``last_audit_end_date``), documents and history.
A recertified certificate is superseded: 注销 with reason "再认证换发新证 <new number>"
and ``superseded_by`` set.
"""

from certdocs.register._backend import is_postgres, register_location
from certdocs.register._copy import CopyReport, copy_register
from certdocs.register._lifecycle import SUPERSEDE_REASON
from certdocs.register._migrations import MIGRATIONS, Migration
from certdocs.register._records import (
    ArchiveEntry,
    CertificateFacts,
    CertificateRecord,
    DecisionRecord,
    DocumentRecord,
    NewDocument,
    NumberNote,
    Reservation,
    State,
    Status,
    StatusChange,
)
from certdocs.register._register import Register

__all__ = [
    "MIGRATIONS",
    "SUPERSEDE_REASON",
    "ArchiveEntry",
    "CertificateFacts",
    "CertificateRecord",
    "CopyReport",
    "DecisionRecord",
    "DocumentRecord",
    "Migration",
    "NewDocument",
    "NumberNote",
    "Register",
    "Reservation",
    "State",
    "Status",
    "StatusChange",
    "copy_register",
    "is_postgres",
    "register_location",
]
