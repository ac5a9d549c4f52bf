"""certdocs: after-sales service maturity certification documents, from audit results to PDFs.

The public API is small; everything else is internal and may change.
"""

from certdocs.audit import AuditResult, load_audit, parse_audit
from certdocs.errors import (
    ArchiveError,
    CertdocsError,
    ConversionError,
    DecisionError,
    InvalidAuditResult,
    Problem,
    ProfileError,
    RegisterError,
    SchemeError,
    SigningError,
    TemplateError,
)
from certdocs.scheme import Scheme, get_scheme, load_scheme_file, scheme_ids
from certdocs.scoring import Score, score_audit

__version__ = "0.1.0"

__all__ = [
    "ArchiveError",
    "AuditResult",
    "CertdocsError",
    "ConversionError",
    "DecisionError",
    "InvalidAuditResult",
    "Problem",
    "ProfileError",
    "RegisterError",
    "Scheme",
    "SchemeError",
    "Score",
    "SigningError",
    "TemplateError",
    "__version__",
    "get_scheme",
    "load_audit",
    "load_scheme_file",
    "parse_audit",
    "scheme_ids",
    "score_audit",
]
