"""What the processes tests/test_register_concurrency.py and test_register_postgres.py start run.

Reserving numbers at once, and holding a number or the write lock until killed. The processes
are forked from the tests' fork server (tests/forkserver.py), which imports this module once; it
imports no pytest (tests/register_data.py says why).
"""

from __future__ import annotations

import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier, Event

from certdocs.register import Register
from certdocs.register._numbers import NumberPattern, next_serial
from tests.register_data import PATTERN, facts


def reserve_many(path: str, worker: int, count: int, start: Barrier, out: Queue[list[str]]) -> None:
    """Reserve ``count`` numbers for keys of this worker's own, once every worker is ready."""
    start.wait(timeout=60)
    numbers: list[str] = []
    with Register.open(path) as register:
        for n in range(count):
            numbers.append(register.reserve(f"w{worker}-{n}", pattern=PATTERN, year=2026, facts=facts()).number)
            time.sleep(0.002)  # let the others in between, as real runs rendering documents would
    out.put(numbers)


def reserve_then_hang(path: str, key: str, reserved: Event) -> None:
    """Reserve ``key``'s number, say so, and wait to be killed."""
    with Register.open(path) as register:
        register.reserve(key, pattern=PATTERN, year=2026, facts=facts())
        reserved.set()
        time.sleep(120)  # killed long before this ends


def allocate_then_hang(path: str, allocated: Event) -> None:
    """Take a serial inside a write transaction, say so, and wait to be killed holding the lock."""
    register = Register.open(path)
    pattern = NumberPattern.parse(PATTERN)
    if not isinstance(pattern, NumberPattern):
        raise TypeError(pattern)
    with register._write() as conn:
        next_serial(conn, pattern.series(year=2026))
        allocated.set()
        time.sleep(120)  # killed inside the transaction, holding the write lock


def reserve_the_same_keys(path: str, count: int, start: Barrier, out: Queue[list[str]]) -> None:
    """Reserve the keys k0… every worker reserves, once every worker is ready."""
    start.wait(timeout=60)
    with Register.open(path) as register:
        out.put([register.reserve(f"k{n}", pattern=PATTERN, year=2026, facts=facts()).number for n in range(count)])
