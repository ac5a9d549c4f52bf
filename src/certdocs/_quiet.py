"""Libraries that talk on their own: their log lines kept off an office's screen.

pyHanko prints a whole traceback when a signer's certificate does not chain to a trusted root,
pypdf notes every repair of a damaged file, and bagit logs "… sha256 validation failed" in
English before raising the error that certdocs reports in Chinese anyway. A ``NullHandler`` on
their loggers stops Python's last-resort handler from printing them; an application that
configures logging itself still receives every record.
"""

from __future__ import annotations

import logging

TALKATIVE = ("pyhanko", "pyhanko_certvalidator", "pypdf", "bagit")


def quiet_libraries() -> None:
    """Keep the log lines of :data:`TALKATIVE` libraries off stderr (idempotent)."""
    for name in TALKATIVE:
        logger = logging.getLogger(name)
        if not any(isinstance(h, logging.NullHandler) for h in logger.handlers):
            logger.addHandler(logging.NullHandler())
