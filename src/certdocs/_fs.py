"""Files: atomic writes (a killed run leaves the old file or the new one, never half), hashes, staging."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from certdocs import _json
from certdocs.errors import CertdocsError, Problem, os_error_text


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()  # what open() would give: mkstemp's 0600 would hide files from colleagues


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    ``durable=False`` leaves out the fsync, for a staged file whose durability
    :func:`move_durably` provides later, together with the rest of its group: the write is
    still atomic for a killed process, since the rename happens only after the whole write.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, _MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def sync_files(paths: Iterable[Path]) -> None:
    """Make the contents of ``paths`` durable (written with ``durable=False``), one after another.

    Issued together after a group's writes, the first fsync commits the file system's journal
    with every file's data in it; the others find little left to do.
    """
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fsync_directory(path: Path) -> None:
    """Make the entries of folder ``path`` durable: files renamed into it, folders made in it."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def move_durably(moves: Sequence[tuple[Path, Path]]) -> None:
    """Move staged files into place by rename, durably, paying the syncs once for the group.

    In this order, so that a run killed (or a machine losing power) at any point leaves every
    destination either as it was or whole and new: the sources' contents are made durable
    (:func:`sync_files`); each is renamed over its destination (atomic, same file system);
    then each destination folder, and the folder holding it (where it was made), is synced
    once. Record the files (the register) only after this returns.
    """
    sync_files(source for source, _ in moves)
    folders: dict[Path, None] = {}
    for source, destination in moves:
        os.replace(source, destination)
        folders[destination.parent] = None
    for folder in list(folders):
        folders.setdefault(folder.parent, None)
    for folder in folders:
        fsync_directory(folder)


# Computers sharing an output folder (docs/postgresql.md) tell their staging folders apart by this;
# a process id means nothing on another computer.
_HOST = hashlib.sha256(socket.gethostname().encode("utf-8", "surrogateescape")).hexdigest()[:8]
# Another computer's staging folder untouched this long belongs to a run that ended (killed, or
# the computer switched off): a live run writes into its folder every few seconds.
_FOREIGN_STAGING_SECONDS = 24 * 3600


@contextlib.contextmanager
def staging_dir(output: Path) -> Iterator[Path]:
    """A private folder inside ``output`` (same file system, so finished files move by rename).

    Folders left by runs that ended without cleaning up are removed first (:func:`_abandoned`);
    a live run's folder is kept: its name carries its computer and process id.
    """
    output.mkdir(parents=True, exist_ok=True)
    for old in output.glob(".staging-*"):
        if _abandoned(old):
            shutil.rmtree(old, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f".staging-{os.getpid()}@{_HOST}-", dir=output) as tmp:
        yield Path(tmp)


def _abandoned(folder: Path) -> bool:
    """Whether a staging folder's run ended: its process gone here, or another computer's folder idle a day."""
    owner = folder.name.removeprefix(".staging-").split("-", 1)[0]
    pid, _, host = owner.partition("@")
    if not pid.isdigit():
        return False
    if host in ("", _HOST):  # no host: named by a certdocs before computers were told apart
        return not _alive(int(pid))
    try:
        idle = time.time() - folder.stat().st_mtime
    except OSError:
        return False
    return idle > _FOREIGN_STAGING_SECONDS


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def input_digest(path: Path) -> str:
    """:func:`sha256_file` of an input read again and again (a template), kept while it is unchanged."""
    st = path.stat()
    return _digest(str(path), st.st_mtime_ns, st.st_size, st.st_ino)


@functools.lru_cache(maxsize=256)
def _digest(path: str, _mtime_ns: int, _size: int, _inode: int) -> str:
    return sha256_file(Path(path))


def read_json_object(path: Path, error: type[CertdocsError]) -> tuple[dict[str, Any], str]:
    """A data file's top-level JSON object and the SHA-256 of its bytes; ``error`` if it is neither.

    The one reader of every JSON data file (audit results, meetings, schemes, profiles): see
    :mod:`certdocs._json` for what it refuses. Numbers with a fraction are :class:`~decimal.Decimal`.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise error([Problem(str(path), f"无法读取文件：{os_error_text(exc)}")]) from exc
    try:
        data = _json.loads(raw)
    except _json.JsonProblems as exc:
        raise error(exc.problems, source=str(path)) from None
    if not isinstance(data, dict):
        raise error([Problem("", "顶层须为 JSON 对象")], source=str(path))
    return data, hashlib.sha256(raw).hexdigest()


# Names Windows reserves whatever the extension (files are copied to office PCs and shares).
_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {f"{d}{n}" for d in ("COM", "LPT") for n in "0123456789¹²³"}
)
_UNSAFE = re.compile(
    r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]'
)
_EDGES = re.compile(r"^[. ]+|[. ]+$")


def safe_name(text: str, *, max_length: int = 120) -> str:
    """One plain file or folder name for ``text``: never a path, never hidden, never special.

    The one function through which input text (certificate numbers, USCCs, dates, kinds) becomes
    part of a file name. Separators (``/``, ``\\``), NUL and other control characters,
    bidirectional controls, lone surrogates and the characters Windows forbids become ``_``; so do
    leading and trailing dots and spaces (``..`` cannot climb, ``.x`` cannot hide, Windows would
    drop trailing ones); Windows device names (``CON``, ``nul.txt``, ``COM1``) get a leading ``_``;
    an empty name is ``_``. A name longer than ``max_length`` UTF-8 bytes (file systems allow 255)
    is cut and ends in ``~`` and 8 hex digits of its SHA-256, so long names stay distinct. A name
    that is already plain is returned unchanged.
    """
    if max_length < 16:
        raise ValueError("max_length must leave room for a name")
    name = _UNSAFE.sub("_", text)
    name = _EDGES.sub(lambda m: "_" * len(m[0]), name) or "_"
    if name.split(".")[0].rstrip(" ").upper() in _DEVICES:
        name = f"_{name}"
    if len(name.encode("utf-8")) > max_length:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
        head = name.encode("utf-8")[: max_length - 9].decode("utf-8", "ignore")
        name = f"{head}~{digest}"
    return name
