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

from typing import TYPE_CHECKING

from certdocs._lazy import lazy_names
from certdocs.errors import OutputMismatch, RecordsError
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

if TYPE_CHECKING:
    from certdocs.records._care import Backup, Findings, backup, check

# The backup and the full check read the archive (bagit, pypdf, Pillow): imported when first
# used, so that every command that only locates the records starts without them.
__getattr__ = lazy_names(__name__, dict.fromkeys(["Backup", "Findings", "backup", "check"], "certdocs.records._care"))

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
