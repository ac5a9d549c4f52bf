"""Status letters: 认证证书暂停、恢复、撤销、注销通知书, written with each status change.

``change_status`` records a suspension, restoration, withdrawal or cancellation in the register,
rebuilds the verification site when there is one, and writes the matching letter (Word and PDF)
into the certificate's folder; ``ended_suspensions`` lists suspensions whose period is over.
"""

from certdocs.letters._context import LETTERS, LetterKind, letter_context, longest_suspension, sample_letter_context
from certdocs.letters._status import (
    StatusOutcome,
    change_status,
    ended_suspensions,
    letter_template,
    rewrite_letter,
    site_folder,
    suspension_end,
)

__all__ = [
    "LETTERS",
    "LetterKind",
    "StatusOutcome",
    "change_status",
    "ended_suspensions",
    "letter_context",
    "letter_template",
    "longest_suspension",
    "rewrite_letter",
    "sample_letter_context",
    "site_folder",
    "suspension_end",
]
