"""A batch run in its own process, for tests that kill it or run two at once.

``python -m tests.batch_driver DECISIONS OUTPUT DELAY [REGISTER]`` issues with the fake converter
slowed down by DELAY seconds a document, so that a SIGKILL lands in the middle of the work.
REGISTER (an SQLite path or a ``postgresql://`` URL) defaults to OUTPUT/register.sqlite3.

The tests start it with :func:`start`: a process of its own, forked from a server process that
has loaded certdocs once and issued one batch elsewhere (tests/forkserver.py), so that each run
does not spend most of a second importing and filling caches before it works. It shares nothing
with the test's process but, when asked, the news that its run reached a moment it reports
itself (a stage of the document stage's progress and how many sets were done, or how many
numbers it has reserved), so that a test kills it there and not after a guessed number of
seconds; and, for runs started together, a barrier they meet at twice (before they begin, and
before they record their first set), so that they really run at once without being slowed down.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from certdocs.batch import run_batch
from certdocs.decisions import load_meeting
from certdocs.pipeline import Issuer, Workspace
from certdocs.register import Register, State, register_location
from certdocs.testing import FakeConverter
from tests.forkserver import CONTEXT

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


Moment = tuple[str, int]  # a progress stage of certdocs.documents.write_documents, and the sets done

#: Not a stage of the document stage's: the run's register has committed this many new numbers.
RESERVED = "登记簿中已预留编号"
#: Where runs started ``together`` meet a second time: each about to record its first set.
RECORDING = ("合并发证资料包并登记", 0)


class Run:
    """A batch run in its own process: its ``pid``, :meth:`wait` for its exit code, the moment it reached."""

    def __init__(self, process: multiprocessing.process.BaseProcess, reached: Any, go: Any) -> None:
        self._process = process
        self._reached, self._go = reached, go

    def reached(self, timeout: float = 120) -> bool:
        """Wait until the run reports the moment it was started with; False if it never does (or ends first)."""
        deadline = time.monotonic() + timeout
        while not self._reached.wait(0.05):
            if not self.running() or time.monotonic() > deadline:
                return bool(self._reached.is_set())
        return True

    def running(self) -> bool:
        """Whether the run has not ended yet."""
        return self._process.is_alive()

    def resume(self) -> None:
        """Let a run held at its moment go on."""
        self._go.set()

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


def start(
    decisions: Path,
    output: Path,
    delay: float,
    *,
    log: Path,
    register: str | None = None,
    moment: Moment | None = None,
    hold: bool = False,
    together: Any = None,
) -> Run:
    """Start ``main`` on these arguments in a new process, its standard error into ``log``.

    With ``moment``, the run tells :meth:`Run.reached` when its progress reports that moment, and
    goes on at once; with ``hold`` too, it waits there until :meth:`Run.resume`. With
    ``together`` (a ``CONTEXT.Barrier`` for as many runs), it waits for the other runs before it
    begins and again at :data:`RECORDING`.
    """
    argv = [str(decisions), str(output), str(delay), *([register] if register is not None else [])]
    reached, go = CONTEXT.Event(), CONTEXT.Event()
    watch = (moment, reached, go, hold) if moment is not None else None
    process = CONTEXT.Process(target=_child, args=(argv, str(log), dict(os.environ), watch, together), daemon=True)
    process.start()
    return Run(process, reached, go)


def _child(
    argv: list[str], log: str, environ: dict[str, str], watch: tuple[Moment, Any, Any, bool] | None, together: Any
) -> None:
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

    def progress(stage: str, done: int, _total: int) -> None:
        if together is not None and (stage, done) == RECORDING:
            together.wait(120)
        if watch is not None:
            moment, reached, go, hold = watch
            if (stage, done) == moment and not reached.is_set():
                reached.set()
                if hold:
                    go.wait(300)

    if together is not None:
        together.wait(120)
    sys.exit(main(argv, progress=progress))


def main(argv: list[str], *, progress: Callable[[str, int, int], None] | None = None) -> int:
    decisions, output, delay = Path(argv[0]), Path(argv[1]), float(argv[2])
    target = register_location(argv[3]) if len(argv) > 3 else output / "register.sqlite3"
    ws = Workspace(output=output, register=target, templates=ROOT / "templates")
    meeting = load_meeting(decisions)
    with Register.open(ws.register) as register:
        if progress is not None:
            _report_reservations(register, progress)
        issuer = Issuer(
            ws, converter=SlowConverter(delay), register=register, today=date(2026, 11, 22), progress=progress
        )
        summary = run_batch(meeting, issuer=issuer, register=register)
    for failure in summary.to_json()["failed"]:
        print(failure["audit"], *failure["errors"], file=sys.stderr)
    return 1 if summary.failed else 0


def _report_reservations(register: Register, progress: Callable[[str, int, int], None]) -> None:
    """Report (:data:`RESERVED`, n) each time the register holds an n-th number reserved for this run."""
    reserve = register.reserve
    held = 0

    def reporting(*args: Any, **kwargs: Any) -> Any:
        nonlocal held
        reservation = reserve(*args, **kwargs)  # committed when it returns
        if reservation.state == State.RESERVED:
            held += 1
            progress(RESERVED, held, 0)
        return reservation

    register.reserve = reporting  # type: ignore[method-assign]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
