"""Files: atomic writes (a killed run leaves the old file or the new one, never half), hashes, staging."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from certdocs.errors import CertdocsError, Problem, os_error_text


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_MODE = 0o666 & ~_umask()  # what open() would give: mkstemp's 0600 would hide files from colleagues


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.fchmod(fd, _MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def staging_dir(output: Path) -> Iterator[Path]:
    """A private folder inside ``output`` (same file system, so finished files move by rename).

    Folders left by runs that were killed are removed first; a live run's folder is kept, since
    its name carries the process id.
    """
    output.mkdir(parents=True, exist_ok=True)
    for old in output.glob(".staging-*"):
        pid = old.name.split("-")[1]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix=f".staging-{os.getpid()}-", dir=output) as tmp:
        yield Path(tmp)


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
    """A data file's top-level JSON object and the SHA-256 of its bytes; ``error`` if it is neither."""
    try:
        raw = path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise error([Problem(str(path), f"无法读取文件：{os_error_text(exc)}")]) from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error([Problem(str(path), f"不是有效的 UTF-8 JSON：{exc}")]) from exc
    if not isinstance(data, dict):
        raise error([Problem(str(path), "顶层须为 JSON 对象")])
    return data, hashlib.sha256(raw).hexdigest()
