"""Imported by the tests' fork server only (tests/forkserver.py): what each process forked from it starts with.

The modules those processes run (tests/batch_driver.py, tests/register_workers.py, psycopg for
the PostgreSQL cases), so that a forked process does not import them again.
"""

from __future__ import annotations

import contextlib

from tests import batch_driver, register_workers  # noqa: F401  (what the forked processes run)

with contextlib.suppress(ImportError):
    import psycopg  # noqa: F401
