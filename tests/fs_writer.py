"""What tests/test_fs.py's killed writer runs: groups of files written and moved in place, over and over.

Forked from the tests' fork server (tests/forkserver.py), which has certdocs._fs loaded; it
imports no pytest, so the forked process loads nothing more.
"""

from __future__ import annotations

from multiprocessing.synchronize import Event
from pathlib import Path

from certdocs._fs import atomic_write_bytes, move_durably

KINDS = ("certificate", "report", "scoresheet")
WORDS = 200_000  # each file holds this many copies of the round's number: big enough to be caught half-written


def write_groups_until_killed(root: Path, started: Event) -> None:
    """Round after round, stage the three files of round n (n repeated) and move them into ``root / "out"``."""
    started.set()
    n = 0
    while True:
        n += 1
        data = (b"%d " % n) * WORDS
        moves = []
        for kind in KINDS:
            atomic_write_bytes(root / "staging" / kind, data, durable=False)
            moves.append((root / "staging" / kind, root / "out" / kind))
        move_durably(moves)
