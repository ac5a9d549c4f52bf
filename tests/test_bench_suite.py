"""`make bench-tests` (bench/suite.py): the running order, the summary, and the CPU of orphaned processes."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


@pytest.fixture(scope="module")
def suite() -> ModuleType:
    sys.path.insert(0, str(BENCH))  # as the script runs: its folder first, for `_common`
    try:
        module = importlib.import_module("suite")
    finally:
        sys.path.remove(str(BENCH))
    return module


def _run(suite: ModuleType, checkout: Path, wall: float, *, returncode: int = 0) -> object:
    return suite.Run(
        checkout=checkout,
        wall=wall,
        user=wall * 1.6,
        system=wall * 0.2,
        yardstick=0.2,
        returncode=returncode,
        tail=(),
        left=0,
    )


def test_alternating_with_another_checkout_runs_b_a_a_b(suite: ModuleType, tmp_path: Path) -> None:
    order = suite._order(3, tmp_path)
    assert order == [tmp_path, ROOT, ROOT, tmp_path, tmp_path, ROOT]


def test_without_another_checkout_this_one_runs_each_time(suite: ModuleType) -> None:
    assert suite._order(2, None) == [ROOT, ROOT]


def test_the_summary_leaves_out_failed_runs(suite: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    runs = [_run(suite, ROOT, 28.0), _run(suite, ROOT, 0.3, returncode=1), _run(suite, ROOT, 31.0)]
    suite.report(runs, target=30.0)
    line = capsys.readouterr().out
    assert "wall median 29.5 s (28.0–31.0), 1 of 2 under 30 s" in line


def test_a_checkout_whose_runs_all_failed_is_named(suite: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    suite.report([_run(suite, ROOT, 0.3, returncode=4)], target=30.0)
    assert capsys.readouterr().out == f"{ROOT}: no run passed\n"


def test_the_cpu_of_a_process_whose_parent_did_not_wait_for_it_is_counted() -> None:
    # A child that starts a grandchild and exits at once: the grandchild, orphaned, works 0.3 s of
    # CPU. Without the subreaper it would be reparented to init and its CPU lost.
    script = textwrap.dedent(
        f"""
        import os, subprocess, sys, time
        sys.path.insert(0, {str(BENCH)!r})
        import suite
        suite.become_subreaper()
        burn = "import time\\nend = time.process_time() + 0.3\\nwhile time.process_time() < end: pass"
        orphaning = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', sys.argv[1]])"
        start = [sys.executable, "-c", orphaning, burn]
        before = os.times()
        subprocess.run(start, check=True)
        left = suite._reap_leftovers(time.monotonic() + 30)
        after = os.times()
        print(left, after.children_user + after.children_system - before.children_user - before.children_system)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    left, cpu = done.stdout.split()
    assert left == "0"
    assert float(cpu) >= 0.3
