"""`make bench-tests`: how long the test suite takes here, with all the CPU it used and the machine's speed.

Each run is ``pytest -q -n auto -m "not libreoffice"`` as ``make unit`` runs it (``--all``: the
whole suite, as ``make test`` runs it after the lint). For each run it prints:

- the wall time;
- the CPU time of every process the run started, PostgreSQL's servers and the fork servers
  included: this process becomes their child subreaper (Linux), so whatever a run leaves
  behind is reaped here and counted;
- the yardstick (bench/_common.py) just before: this host's speed moves by up to 1.8× within
  minutes, and a run's wall and CPU move with it.

``--against DIR`` alternates with another checkout (ABBA: B A A B …, the same number of runs
each), whose ``src`` is put first on ``PYTHONPATH``: a before/after comparison in the same
minutes, as docs/tests.md's figures are.

    python bench/suite.py [--runs 5] [--all] [--workers auto] [--against ../before]
"""

from __future__ import annotations

import argparse
import ctypes
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from _common import ROOT, yardstick

#: The issue's targets (issue 9 §6) on this 2-core machine, in seconds.
TARGETS = {"unit": 30.0, "all": 120.0}
_PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Run:
    """One run of the suite: which checkout, how long, how much CPU, how fast the machine was."""

    checkout: Path
    wall: float
    user: float
    system: float
    yardstick: float
    returncode: int
    tail: tuple[str, ...]  # pytest's last lines: its summary, and what a failed run printed
    left: int  # processes the run left still running when it was measured

    @property
    def cpu(self) -> float:
        """User and system CPU seconds of every process of the run."""
        return self.user + self.system

    @property
    def summary(self) -> str:
        """pytest's last line, and how many processes the run left running (their CPU is not counted)."""
        summary = self.tail[-1].strip() if self.tail else ""
        if self.left:
            summary += f" (still running after it: {self.left} process{'es' if self.left > 1 else ''}, CPU not counted)"
        return summary


def become_subreaper() -> None:
    """Make this process the reaper of its orphaned descendants, so their CPU is counted here."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER) failed")


def _reap_leftovers(deadline: float) -> int:
    """Wait for the processes a run left behind (now this process's children); how many still run."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return 0
        if pid == 0:
            if time.monotonic() > deadline:
                return _children_left()
            time.sleep(0.05)


def _children_left() -> int:
    """How many processes are still children of this one (from /proc)."""
    me, left = str(os.getpid()), 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        left += fields[1] == me
    return left


def run_suite(checkout: Path, *, whole: bool, workers: str) -> Run:
    """One run of the suite in ``checkout``, measured."""
    command = [sys.executable, "-m", "pytest", "-q", "-n", workers]
    if not whole:
        command += ["-m", "not libreoffice"]
    env = dict(os.environ)
    if checkout != ROOT:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(checkout / "src"), env.get("PYTHONPATH")]))
    speed = yardstick()
    before = os.times()
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output, _ = process.communicate()
    wall = time.perf_counter() - start
    left = _reap_leftovers(time.monotonic() + 10)
    after = os.times()
    lines = output.decode(errors="replace").strip().splitlines()
    return Run(
        checkout=checkout,
        wall=wall,
        user=after.children_user - before.children_user,
        system=after.children_system - before.children_system,
        yardstick=speed,
        returncode=process.returncode,
        tail=tuple(lines[-8:]),
        left=left,
    )


def _order(runs: int, against: Path | None) -> list[Path]:
    """The checkouts in running order: this one ``runs`` times, or alternating B A A B … with ``against``."""
    if against is None:
        return [ROOT] * runs
    pair = [[against, ROOT], [ROOT, against]]
    return [checkout for n in range(runs) for checkout in pair[n % 2]]


def report(runs: list[Run], *, target: float) -> None:
    """The summary per checkout over its passing runs: wall and CPU medians and ranges, and how many met the target."""
    for checkout in dict.fromkeys(run.checkout for run in runs):
        mine = [run for run in runs if run.checkout == checkout and run.returncode == 0]
        if not mine:
            print(f"{checkout}: no run passed")
            continue
        walls, cpus = [run.wall for run in mine], [run.cpu for run in mine]
        met = sum(wall < target for wall in walls)
        print(
            f"{checkout}: wall median {statistics.median(walls):.1f} s ({min(walls):.1f}–{max(walls):.1f}), "
            f"{met} of {len(mine)} under {target:.0f} s; CPU median {statistics.median(cpus):.1f} s "
            f"({min(cpus):.1f}–{max(cpus):.1f})"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs (of each checkout with --against)")
    parser.add_argument("--all", action="store_true", help="the whole suite, LibreOffice tests included")
    parser.add_argument("--workers", default="auto", help="pytest-xdist workers (-n): auto, as make unit")
    parser.add_argument("--against", type=Path, help="another checkout to alternate with (before/after)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    against = args.against.resolve() if args.against else None
    if against is not None and not (against / "tests" / "conftest.py").is_file():
        parser.error(f"{against} is not a certdocs checkout (no tests/conftest.py)")
    become_subreaper()
    target = TARGETS["all" if args.all else "unit"]
    print(f"{'checkout':<40}{'wall s':>8}{'CPU s':>8}{'user':>8}{'sys':>7}{'yardstick':>11}  pytest")
    runs = []
    for checkout in _order(args.runs, against):
        run = run_suite(checkout, whole=args.all, workers=args.workers)
        runs.append(run)
        print(
            f"{str(run.checkout)[-40:]:<40}{run.wall:8.1f}{run.cpu:8.1f}{run.user:8.1f}{run.system:7.1f}"
            f"{run.yardstick:11.3f}  {run.summary}",
            flush=True,
        )
        if run.returncode != 0:
            print(f"  pytest exited {run.returncode}; its last lines:", *run.tail, sep="\n    ", flush=True)
    report(runs, target=target)
    return max(run.returncode for run in runs)


if __name__ == "__main__":
    sys.exit(main())
