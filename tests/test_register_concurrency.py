"""Certificate numbers under concurrent processes and after a process is killed (SIGKILL).

Workers run in processes of their own, as two batch runs started together would: forked from
the tests' fork server (tests/forkserver.py), which has loaded tests/register_workers.py once.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import time
from collections.abc import Sequence
from multiprocessing.queues import Queue
from pathlib import Path

import pytest

from certdocs.register import MIGRATIONS, NewDocument, Register, State
from tests.forkserver import CONTEXT
from tests.register_data import PATTERN, document, facts
from tests.register_workers import allocate_then_hang, reserve_many, reserve_the_same_keys, reserve_then_hang


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where the workers' shared register is: an SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "register.sqlite")
    url: str = request.getfixturevalue("postgres_url")
    return url


def _collect(out: Queue[list[str]], processes: Sequence[multiprocessing.process.BaseProcess]) -> list[list[str]]:
    """Every worker's numbers, without waiting long for a worker that died."""
    results: list[list[str]] = []
    deadline = time.monotonic() + 120
    while len(results) < len(processes) and time.monotonic() < deadline:
        try:
            results.append(out.get(timeout=0.5))
        except queue.Empty:
            if not any(process.is_alive() for process in processes) and out.empty():
                break
    return results


def _kill(process: multiprocessing.process.BaseProcess) -> None:
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    process.join(timeout=30)
    assert process.exitcode == -signal.SIGKILL


@pytest.mark.slow
def test_concurrent_processes_never_share_or_skip_a_number(target: str) -> None:
    path = target
    workers, count = 4, 50
    start = CONTEXT.Barrier(workers)
    out: Queue[list[str]] = CONTEXT.Queue()
    processes = [CONTEXT.Process(target=reserve_many, args=(path, w, count, start, out)) for w in range(workers)]
    for process in processes:
        process.start()
    results = _collect(out, processes)
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert len(results) == workers
    numbers = [number for numbers in results for number in numbers]
    assert sorted(numbers) == [f"BZ2026SC{serial:04d}" for serial in range(1, workers * count + 1)]
    # Each worker saw its own numbers rise, whatever the others took in between.
    assert all(numbers == sorted(numbers) for numbers in results)
    with Register.open(path) as register:
        assert register.schema_version == len(MIGRATIONS)
        assert len(register.pending_reservations()) == workers * count


def test_a_run_killed_between_reserve_and_complete_is_completed_with_the_same_number(target: str) -> None:
    path = target
    with Register.open(path) as register:
        first = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
        register.complete(first.number, documents=[document()])
    reserved = CONTEXT.Event()
    child = CONTEXT.Process(target=reserve_then_hang, args=(path, "k2", reserved))
    child.start()
    assert reserved.wait(timeout=60)
    _kill(child)

    with Register.open(path) as register:
        (pending,) = register.pending_reservations()
        assert (pending.key, pending.number) == ("k2", "BZ2026SC0002")
        again = register.reserve("k2", pattern=PATTERN, year=2026, facts=facts())
        assert (again.number, again.created, again.state) == ("BZ2026SC0002", False, State.RESERVED)
        register.complete(again.number, documents=[NewDocument("certificate", "c.pdf", "e" * 64, {})])
        following = register.reserve("k3", pattern=PATTERN, year=2026, facts=facts())
        assert following.number == "BZ2026SC0003"
        record = register.get("BZ2026SC0002", today=facts().issue_date)
        assert record.state == State.ISSUED
        assert len(record.history) == 1


def test_a_run_killed_inside_the_allocation_leaves_no_gap_and_no_lock(target: str) -> None:
    path = target
    Register.open(path).close()
    allocated = CONTEXT.Event()
    child = CONTEXT.Process(target=allocate_then_hang, args=(path, allocated))
    child.start()
    assert allocated.wait(timeout=60)
    _kill(child)

    started = time.monotonic()
    with Register.open(path) as register:
        held = register.reserve("k1", pattern=PATTERN, year=2026, facts=facts())
    assert held.number == "BZ2026SC0001"
    assert time.monotonic() - started < 10  # the dead process's lock went with it


@pytest.mark.slow
def test_processes_reserving_the_same_audits_at_once_get_one_number_per_audit(target: str) -> None:
    # Two computers running the same decision meeting at the same moment.
    workers, count = 3, 20
    start = CONTEXT.Barrier(workers)
    out: Queue[list[str]] = CONTEXT.Queue()
    processes = [
        CONTEXT.Process(target=reserve_the_same_keys, args=(target, count, start, out)) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    results = _collect(out, processes)
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    expected = [f"BZ2026SC{serial:04d}" for serial in range(1, count + 1)]
    assert results == [expected] * workers
