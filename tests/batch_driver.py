"""A batch run in its own process, for tests that kill it or run two at once.

``python -m tests.batch_driver DECISIONS OUTPUT DELAY [REGISTER]`` issues with the fake converter
slowed down by DELAY seconds a document, so that a SIGKILL lands in the middle of the work.
REGISTER (an SQLite path or a ``postgresql://`` URL) defaults to OUTPUT/register.sqlite3.

The tests start it with :func:`start`: a process of its own, forked from a server process that
has loaded certdocs once (multiprocessing's ``forkserver``), so that each run does not spend
most of a second importing before it works. It shares nothing with the test's process.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from certdocs.batch import run_batch
from certdocs.decisions import load_meeting
from certdocs.pipeline import Issuer, Workspace
from certdocs.register import Register, register_location
from certdocs.testing import FakeConverter

ROOT = Path(__file__).resolve().parent.parent


class SlowConverter(FakeConverter):
    """The fake converter, taking its time."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def convert(
        self, sources: Sequence[Path], *, outdir: Path, labels: Mapping[Path, str] | None = None
    ) -> dict[Path, Path]:
        out = {}
        for source in sources:
            time.sleep(self.delay)
            out.update(super().convert([source], outdir=outdir, labels=labels))
        return out


_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])


class Run:
    """A batch run in its own process: its ``pid``, and :meth:`wait` for its exit code."""

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self._process = process

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    def kill(self) -> None:
        """SIGKILL the run; nothing to do if it has already ended (its process is gone at once)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        """The exit code (negative: killed by that signal), as :meth:`subprocess.Popen.wait`."""
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(f"batch_driver {self.pid}", timeout or 0)
        return self._process.exitcode


def start(decisions: Path, output: Path, delay: float, *, log: Path, register: str | None = None) -> Run:
    """Start ``main`` on these arguments in a new process, its standard error into ``log``."""
    argv = [str(decisions), str(output), str(delay), *([register] if register is not None else [])]
    process = _CONTEXT.Process(target=_child, args=(argv, str(log), dict(os.environ)), daemon=True)
    process.start()
    return Run(process)


def _child(argv: list[str], log: str, environ: dict[str, str]) -> None:
    # As a new process started now would be: the test's environment, the repository as its folder
    # (the fork server keeps those of the moment it started).
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(ROOT)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 2)
    os.close(fd)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    sys.exit(main(argv))


def main(argv: list[str]) -> int:
    decisions, output, delay = Path(argv[0]), Path(argv[1]), float(argv[2])
    target = register_location(argv[3]) if len(argv) > 3 else output / "register.sqlite3"
    ws = Workspace(output=output, register=target, templates=ROOT / "templates")
    meeting = load_meeting(decisions)
    with Register.open(ws.register) as register:
        issuer = Issuer(ws, converter=SlowConverter(delay), register=register, today=date(2026, 11, 22))
        summary = run_batch(meeting, issuer=issuer, register=register)
    for failure in summary.to_json()["failed"]:
        print(failure["audit"], *failure["errors"], file=sys.stderr)
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
