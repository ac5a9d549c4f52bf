"""A ``certdocs`` command in a process of its own, forked from the tests' fork server (tests/forkserver.py).

For the tests that need a process the test's own cannot be: one that may not write or look into
what root may (root passes every file permission check). A fresh ``certdocs`` as the ``nobody``
user spent about a second of CPU starting (an interpreter, imports, the templates compiled
again); forked from the warmed server it starts with all of that done.

Such a process gives up root's power to pass over file permissions (the capabilities
``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH`` and ``CAP_FOWNER``) and is then refused what any
user who is not the file's owner, or whose owner bits forbid it, is refused. It keeps its user
id: the interpreter it was forked from lives in ``/root`` (pyenv), which ``nobody`` may not
enter to import what a command loads late.
"""

from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.forkserver import CONTEXT

_CAPABILITY_VERSION_3 = 0x20080522
# linux/capability.h: the capabilities by which root passes file permission checks.
_FILE_POWERS = (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER


@dataclass(frozen=True)
class Finished:
    """What a command run by :func:`run_certdocs` left: its exit status and its two outputs."""

    returncode: int
    stdout: str
    stderr: str


def run_certdocs(args: list[str], *, cwd: Path, env: dict[str, str], folder: Path, timeout: float = 120) -> Finished:
    """Run ``certdocs ARGS`` in ``cwd`` with exactly ``env``, without root's power over file permissions.

    Its outputs are kept in ``folder`` (``stdout``, ``stderr``) until it ends.
    """
    out, err = folder / "stdout", folder / "stderr"
    process = CONTEXT.Process(target=_child, args=(args, str(cwd), env, str(out), str(err)), daemon=True)
    process.start()
    process.join(timeout)
    if process.exitcode is None:
        process.kill()
        process.join()
        raise TimeoutError(f"certdocs {' '.join(args)} did not end within {timeout} s")
    return Finished(process.exitcode, out.read_text(encoding="utf-8"), err.read_text(encoding="utf-8"))


def _child(args: list[str], cwd: str, env: dict[str, str], out: str, err: str) -> None:
    os.environ.clear()
    os.environ.update(env)
    os.chdir(cwd)
    for fd, path in ((1, out), (2, err)):
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(handle, fd)
        os.close(handle)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115  (flushed when the process ends)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115
    if os.geteuid() == 0:
        _give_up_file_powers()
    from certdocs.cli import main

    main(args, prog_name="certdocs")  # exits as the installed command does


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _give_up_file_powers() -> None:
    """Drop the file permission capabilities from this process for good (effective and permitted)."""
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _Header(_CAPABILITY_VERSION_3, 0), (_Data * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    for bit in _FILE_POWERS:
        data[0].effective &= ~(1 << bit)
        data[0].permitted &= ~(1 << bit)
        data[0].inheritable &= ~(1 << bit)
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
