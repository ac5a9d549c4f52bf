"""Document paths in the register: relative to the output folder, so another computer finds them.

Office computers mount a shared folder in different places (``/mnt/zhengshu``, ``Z:\\``).
A document inside the output folder is recorded relative to it (``XBHT-SH-2026-0001/
certificate.pdf``) and handed back joined to the output folder of whoever asks; a document
elsewhere is recorded as given. Registers written before this rule hold paths relative to the
folder certdocs ran in (``output/XBHT-SH-2026-0001/certificate.pdf``): such a path is handed back
as it was when it names a file and the joined one does not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

from certdocs.register._records import DocumentRecord, path_text


@dataclass(frozen=True)
class DocumentPaths:
    """How document paths are stored and shown for one output folder (``None``: as given)."""

    root: Path | None = None

    def stored(self, path: str | os.PathLike[str]) -> str:
        """The text recorded for ``path``: relative to the output folder when inside it."""
        if self.root is None:
            return path_text(path)
        full, root = os.path.abspath(path), os.path.abspath(self.root)
        if os.path.commonpath([full, root]) == root and full != root:
            return PurePath(os.path.relpath(full, root)).as_posix()
        return path_text(path)

    def shown(self, stored: str) -> str:
        """The path a recorded document is found at from here."""
        if self.root is None or PurePosixPath(stored).is_absolute() or PureWindowsPath(stored).is_absolute():
            return stored
        joined = self.root / stored
        if not joined.exists() and Path(stored).exists():
            return stored  # recorded relative to the working folder, before this rule
        return str(joined)

    def document(self, record: DocumentRecord) -> DocumentRecord:
        """``record`` with the path it is found at from here."""
        if self.root is None:
            return record
        return DocumentRecord(
            record.number, record.kind, self.shown(record.path), record.sha256, record.built_from, record.recorded_at
        )
