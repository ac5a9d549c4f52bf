"""certdocs: after-sales service maturity certification documents, from audit results to PDFs.

The public API is what ``__all__`` lists; everything else is internal and may change::

    from pathlib import Path
    import certdocs

    ws = certdocs.Workspace(output=Path("output"), register=Path("records/register.sqlite3"),
                            templates=Path("templates"))
    outcome = certdocs.issue_certificate(Path("audit.json"), workspace=ws)   # LibreOffice
    summary = certdocs.issue_batch(certdocs.load_meeting(Path("2026-47.json")), workspace=ws)
    result = certdocs.regenerate_documents(workspace=ws, dry_run=True)
    with certdocs.open_register(ws) as register:
        for record in register.list(today=certdocs.today()): ...   # Beijing's date

Each function applies the office's policies (templates checked first, input and dates
validated before anything is written or reserved) and raises a :class:`CertdocsError`
subclass, in Chinese, for input it refuses. ``certdocs.testing.FakeConverter`` issues without
LibreOffice.
"""

__version__ = "0.1.0"  # first: the modules below record it in every document they write

from typing import TYPE_CHECKING

from certdocs._lazy import lazy_names

if TYPE_CHECKING:
    from certdocs._clock import today
    from certdocs.audit import AuditResult, load_audit, parse_audit
    from certdocs.batch import BatchRow, BatchSummary
    from certdocs.decisions import Meeting, load_meeting
    from certdocs.errors import (
        ArchiveError,
        CertdocsError,
        ConversionError,
        DateError,
        DecisionError,
        DocumentError,
        InvalidAuditResult,
        Problem,
        ProfileError,
        RegisterError,
        SchemeError,
        SigningError,
        TemplateError,
    )
    from certdocs.issuing import (
        Regeneration,
        check_templates,
        issue_batch,
        issue_certificate,
        open_register,
        regenerate_documents,
    )
    from certdocs.pipeline import Outcome, OutcomeStatus, Workspace
    from certdocs.register import CertificateRecord, Register, Status
    from certdocs.scheme import Scheme, get_scheme, load_scheme_file, scheme_ids
    from certdocs.scoring import Score, score_audit


# Imported when first used, so that a program (or a test's child process) that needs only the
# register or the scoring does not load PDF, Word and signing libraries it never calls.
_LAZY = {
    "AuditResult": "certdocs.audit",
    "load_audit": "certdocs.audit",
    "parse_audit": "certdocs.audit",
    "BatchRow": "certdocs.batch",
    "BatchSummary": "certdocs.batch",
    "Meeting": "certdocs.decisions",
    "load_meeting": "certdocs.decisions",
    "ArchiveError": "certdocs.errors",
    "CertdocsError": "certdocs.errors",
    "ConversionError": "certdocs.errors",
    "DateError": "certdocs.errors",
    "DecisionError": "certdocs.errors",
    "DocumentError": "certdocs.errors",
    "InvalidAuditResult": "certdocs.errors",
    "Problem": "certdocs.errors",
    "ProfileError": "certdocs.errors",
    "RegisterError": "certdocs.errors",
    "SchemeError": "certdocs.errors",
    "SigningError": "certdocs.errors",
    "TemplateError": "certdocs.errors",
    "Regeneration": "certdocs.issuing",
    "check_templates": "certdocs.issuing",
    "issue_batch": "certdocs.issuing",
    "issue_certificate": "certdocs.issuing",
    "open_register": "certdocs.issuing",
    "regenerate_documents": "certdocs.issuing",
    "Outcome": "certdocs.pipeline",
    "OutcomeStatus": "certdocs.pipeline",
    "Workspace": "certdocs.pipeline",
    "CertificateRecord": "certdocs.register",
    "Register": "certdocs.register",
    "Status": "certdocs.register",
    "Scheme": "certdocs.scheme",
    "get_scheme": "certdocs.scheme",
    "load_scheme_file": "certdocs.scheme",
    "scheme_ids": "certdocs.scheme",
    "Score": "certdocs.scoring",
    "score_audit": "certdocs.scoring",
    "today": "certdocs._clock",
}

__all__ = [
    "ArchiveError",
    "AuditResult",
    "BatchRow",
    "BatchSummary",
    "CertdocsError",
    "CertificateRecord",
    "ConversionError",
    "DateError",
    "DecisionError",
    "DocumentError",
    "InvalidAuditResult",
    "Meeting",
    "Outcome",
    "OutcomeStatus",
    "Problem",
    "ProfileError",
    "Regeneration",
    "Register",
    "RegisterError",
    "Scheme",
    "SchemeError",
    "Score",
    "SigningError",
    "Status",
    "TemplateError",
    "Workspace",
    "__version__",
    "check_templates",
    "get_scheme",
    "issue_batch",
    "issue_certificate",
    "load_audit",
    "load_meeting",
    "load_scheme_file",
    "open_register",
    "parse_audit",
    "regenerate_documents",
    "scheme_ids",
    "score_audit",
    "today",
]


__getattr__ = lazy_names(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(__all__)
