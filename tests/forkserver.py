"""The fork server the tests start their processes from: certdocs loaded and warmed once per test process.

A test that needs a process of its own (to kill it, or to run two at once) forks it from this
server (multiprocessing's ``forkserver``) instead of spawning a fresh interpreter: a spawned
worker spent 0.2-0.5 s of CPU importing certdocs before it did anything, and a forked batch run
0.25 s more filling caches (see tests/forkserver_preload.py). A forked process is still a process
of its own: its own pid, connections, files and locks, killed alone.

multiprocessing keeps one fork server per process, with one preload list: every test module
takes its processes from :data:`CONTEXT`, so that the list is the same whoever starts first.

A process multiprocessing starts runs the starting process's main script again (as
``__mp_main__``) unless its fork server has run it. Under ``pytest -n 0`` that script is
``.venv/bin/pytest``, which imports pytest: 60-70 ms of CPU in every forked process, about forty
a run of the process-starting tests. ``"__main__"`` in the preload list should make the server
run it once, but Python 3.11-3.13 never hand the server the script's path (``ensure_running``
keeps a ``main_path`` key that ``get_preparation_data`` does not make), so the path goes by
:data:`MAIN_SCRIPT` in the server's environment instead and tests/forkserver_preload.py runs it.
A pytest-xdist worker's main is ``python -c`` (no script): nothing to run, the variable is unset.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing import spawn

#: The environment variable naming the main script the fork server runs once (read and removed there).
MAIN_SCRIPT = "CERTDOCS_TESTS_FORKSERVER_MAIN"

CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(["tests.forkserver_preload"])

_script = spawn.get_preparation_data("main").get("init_main_from_path")
if _script is not None:
    os.environ[MAIN_SCRIPT] = _script
