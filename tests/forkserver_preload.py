"""Imported by the tests' fork server only (tests/forkserver.py): what each process forked from it starts with.

The modules those processes run (tests/batch_driver.py, tests/register_workers.py, psycopg for
the PostgreSQL cases), and one batch issued into a temporary folder, so that the caches certdocs
keys by content alone (the installed fonts' coverage, compiled template parts) are full: a first
batch in a process takes 0.5-0.7 s of CPU, the next 0.3-0.4 s. Nothing else of that batch is left: its
folder and register are removed, its threads have ended and its connections are closed, so a
forked process shares no file, lock or connection with the server or with another. A real run
starts cold, but no test that forks is about a cold start (kills, two runs at once, recovery);
what a cold process costs is bench's to measure.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from multiprocessing import spawn
from pathlib import Path

from tests import batch_driver, register_workers  # noqa: F401  (what the forked processes run)
from tests.forkserver import MAIN_SCRIPT

with contextlib.suppress(ImportError):
    import psycopg  # noqa: F401

MEETING = batch_driver.ROOT / "fixtures" / "decisions" / "2026-47.json"


def _warm() -> None:
    names = ("CERTDOCS_RECORDS", "CERTDOCS_OUTPUT")
    saved = {name: os.environ.get(name) for name in names}
    with tempfile.TemporaryDirectory(prefix="certdocs-forkserver-") as tmp:
        os.environ.update({name: str(Path(tmp) / name.lower()) for name in names})
        try:
            code = batch_driver.main([str(_one_audit_per_scheme(Path(tmp))), str(Path(tmp) / "out"), "0"])
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    if code != 0:
        raise RuntimeError(f"the fork server's warm-up batch failed ({code})")


def _one_audit_per_scheme(folder: Path) -> Path:
    """A meeting of MEETING's first approved audit of each scheme (their folders), written in ``folder``."""
    meeting = json.loads(MEETING.read_text(encoding="utf-8"))
    first: dict[str, dict[str, str]] = {}
    for decision in meeting["decisions"]:
        audit = (MEETING.parent / decision["audit"]).resolve()
        if decision["decision"] == "approve":
            first.setdefault(audit.parent.name, {**decision, "audit": str(audit)})
    path = folder / "meeting.json"
    path.write_text(json.dumps({**meeting, "decisions": list(first.values())}, ensure_ascii=False), encoding="utf-8")
    return path


def _run_main_script() -> None:
    """Run the test process's main script here once (see tests/forkserver.py), so forked processes do not.

    If it cannot be run here (gone, or failing), each forked process runs it as before and says why.
    """
    script = os.environ.pop(MAIN_SCRIPT, None)
    if script is not None:
        with contextlib.suppress(Exception):
            spawn.import_main_path(script)


_run_main_script()
_warm()
