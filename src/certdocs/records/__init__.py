"""The records folder: the register and the archive, kept apart from generated output.

Generated documents can always be rebuilt; the register and the archive of signed documents
cannot, so they live in a folder of their own (default ``records/``) that clearing or
rebuilding output never touches::

    records/register.sqlite3    the certificate register (with -wal/-shm while in use)
    records/archive/            write-once BagIt bags of signed documents

The register remembers where the output lives (its ``output`` setting). An office that still
keeps them in ``output/`` gets them moved the first time (:func:`move_from_output`);
:func:`backup` copies them consistently while batches run, and :func:`check` checks them all.
"""

from certdocs.errors import OutputMismatch, RecordsError
from certdocs.records._care import Backup, Findings, backup, check
from certdocs.records._folder import (
    DEFAULT_FOLDER,
    DEFAULT_OUTPUT,
    Moved,
    Records,
    exposed,
    locate,
    move_from_output,
    output_for,
    remember_output,
    stored_output,
)

__all__ = [
    "DEFAULT_FOLDER",
    "DEFAULT_OUTPUT",
    "Backup",
    "Findings",
    "Moved",
    "OutputMismatch",
    "Records",
    "RecordsError",
    "backup",
    "check",
    "exposed",
    "locate",
    "move_from_output",
    "output_for",
    "remember_output",
    "stored_output",
]
