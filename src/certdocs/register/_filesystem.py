"""Whether a register file would lie on a network file system, where SQLite cannot keep it safe.

SQLite's documentation: its file locks are unreliable on network file systems, and WAL mode (the
register's journal) does not work there at all, since its index is shared memory. Two computers
writing one register file on a share can corrupt it or hand out a number twice; those offices
share a PostgreSQL register instead (docs/postgresql.md).
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath

#: Linux file-system types (``/proc/self/mountinfo``) that reach another computer.
NETWORK_TYPES = frozenset(
    {
        "afs",
        "ceph",
        "cifs",
        "coda",
        "davfs",
        "fuse.davfs2",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.sshfs",
        "glusterfs",
        "ncpfs",
        "nfs",
        "nfs4",
        "smb3",
        "smbfs",
        "9p",
    }
)

_ESCAPE = re.compile(r"\\([0-7]{3})")


def mount_type(path: PurePosixPath, mountinfo: str) -> str | None:
    """The file-system type of the mount holding the absolute ``path``, from mountinfo's text."""
    # Plain string prefixes, not PurePosixPath per line: this runs at every register opening, and
    # path objects made it a quarter of a millisecond.
    target = str(path)
    best: tuple[int, str] | None = None
    for line in mountinfo.splitlines():
        fields, _, after = line.partition(" - ")
        parts = fields.split()
        if len(parts) < 5 or not after:
            continue
        point = parts[4] if "\\" not in parts[4] else _ESCAPE.sub(lambda m: chr(int(m[1], 8)), parts[4])
        holds = target == point or target.startswith(point.rstrip("/") + "/")
        if holds and (best is None or len(point) >= best[0]):  # the deepest; of equal ones, the last is on top
            best = (len(point), after.split()[0])
    return best[1] if best else None


def network_filesystem(path: Path) -> str | None:
    """The network file system ``path`` would be on ("cifs", "nfs4", "网络驱动器" …), or None for a local one."""
    if os.name == "nt":  # pragma: no cover - Windows
        return _windows_network_drive(path)
    mountinfo = _mountinfo()
    if mountinfo is None:
        return None  # not Linux: nothing to tell by
    kind = mount_type(PurePosixPath(os.path.realpath(path)), mountinfo)
    return kind if kind in NETWORK_TYPES else None


def _mountinfo() -> str | None:
    """This process's mount table (Linux), or None."""
    try:
        return Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None


def _windows_network_drive(path: Path) -> str | None:  # pragma: no cover - Windows
    import ctypes

    full = os.path.realpath(path)
    if full.startswith("\\\\"):
        return "网络共享（UNC 路径）"
    drive_remote = 4
    root = os.path.splitdrive(full)[0] + "\\"
    return "网络驱动器" if ctypes.windll.kernel32.GetDriveTypeW(root) == drive_remote else None  # type: ignore[attr-defined]
