"""Write-once BagIt bags: built beside their place, frozen read-only, then renamed into it."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import fields
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path

import bagit

from certdocs._fs import safe_name
from certdocs.register import ArchiveEntry, CertificateRecord

TAG_FILES = frozenset({"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"})
PART_SUFFIX = ".part"  # a bag still being built; a killed run leaves only this behind
_BAG_NAME = re.compile(r"(?P<kind>.+)-(?P<n>[1-9][0-9]*)")


def certificate_folder(number: str) -> str:
    """The folder of a certificate's bags: its number, with "/" (allowed in numbers) made safe."""
    return safe_name(number)


def next_bag_name(folder: Path, kind: str, entries: Iterable[ArchiveEntry]) -> str:
    """``<kind>-<n>`` with ``n`` one past every bag of ``kind`` on disk or in the register."""
    names = [Path(entry.bag_path).name for entry in entries]
    if folder.is_dir():
        names += [child.name for child in folder.iterdir()]
    taken = [int(m["n"]) for name in names if (m := _BAG_NAME.fullmatch(name)) and m["kind"] == kind]
    return f"{kind}-{max(taken, default=0) + 1}"


def write_bag(target: Path, *, payload: Mapping[str, bytes], bag_info: Mapping[str, str]) -> None:
    """Store ``payload`` (file name → bytes) as a read-only bag at ``target``, which must not exist.

    The bag is made in a temporary folder beside ``target`` and renamed into place only when
    complete, so a killed run leaves no half bag under the real name. Raises ``OSError`` or
    ``bagit.BagError``; nothing is left behind under ``target`` then.
    """
    if target.exists():
        raise FileExistsError(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=PART_SUFFIX, dir=target.parent))
    try:
        for name, data in payload.items():
            (tmp / name).write_bytes(data)
        info = {key: _one_line(value) for key, value in bag_info.items()}
        bagit.make_bag(str(tmp), info, checksums=["sha256"])
        _freeze(tmp)
        # rename() replaces an empty directory, so a folder made meanwhile must not be clobbered.
        if target.exists():
            raise FileExistsError(target)
        os.rename(tmp, target)
        _fsync_dir(target.parent)
    except BaseException:
        remove_bag(tmp)
        raise


def remove_bag(path: Path) -> None:
    """Delete a bag this run just made (read-only files included); a missing one is fine."""
    if not path.exists():
        return
    for root, dirs, _ in os.walk(path):
        for name in [".", *dirs]:
            with contextlib.suppress(OSError):
                os.chmod(Path(root) / name, stat.S_IRWXU)
    shutil.rmtree(path, ignore_errors=True)


def bag_pdfs(bag_dir: Path) -> list[Path]:
    """The PDFs in a bag's payload."""
    data = bag_dir / "data"
    return sorted(p for p in data.iterdir() if p.suffix.lower() == ".pdf") if data.is_dir() else []


def sha256_file(path: Path) -> str:
    """SHA-256 of a file's bytes, lowercase hex."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def certificate_json(record: CertificateRecord, *, today: date) -> bytes:
    """The register's record of a certificate as UTF-8 JSON, its status as of ``today``."""
    data = {f.name: _plain(getattr(record, f.name)) for f in fields(record)}
    data["status_as_of"] = today.isoformat()
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _plain(value: object) -> object:
    """A JSON-ready copy: dates ISO, decimals as text (never float), records as objects."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}  # type: ignore[arg-type]
    return value


def _one_line(value: str) -> str:
    # bag-info.txt is one "Label: value" a line; a newline in a value would start a new label.
    return " ".join(value.split())


def _freeze(bag: Path) -> None:
    """Flush every file to disk and make the bag read-only: files 0o444, folders 0o555."""
    for root, dirs, files in os.walk(bag, topdown=False):
        for name in files:
            path = Path(root) / name
            with path.open("rb") as fh:
                os.fsync(fh.fileno())
            os.chmod(path, 0o444)
        for name in dirs:
            os.chmod(Path(root) / name, 0o555)
    _fsync_dir(bag)
    os.chmod(bag, 0o555)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
