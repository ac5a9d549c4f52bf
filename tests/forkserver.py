"""The fork server the tests start their processes from: certdocs loaded and warmed once per test process.

A test that needs a process of its own (to kill it, or to run two at once) forks it from this
server (multiprocessing's ``forkserver``) instead of spawning a fresh interpreter: a spawned
worker spent 0.2-0.5 s of CPU importing certdocs before it did anything, and a forked batch run
0.25 s more filling caches (see tests/forkserver_preload.py). A forked process is still a process
of its own: its own pid, connections, files and locks, killed alone.

multiprocessing keeps one fork server per process, with one preload list: every test module
takes its processes from :data:`CONTEXT`, so that the list is the same whoever starts first.
"""

from __future__ import annotations

import multiprocessing

CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(["tests.forkserver_preload"])
