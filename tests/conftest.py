"""Shared fixtures: audit-result documents built from the bundled schemes."""

from __future__ import annotations

import copy
import gc
import itertools
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from certdocs.scheme import get_scheme
from tests.issued import issued_folders  # noqa: F401  (fixture)
from tests.libreoffice import libreoffice_converter  # noqa: F401  (fixture)
from tests.postgres_server import postgres_server, postgres_url, remove_template_folder  # noqa: F401  (fixtures)

# Cache compiled and assertion-rewritten modules even where PYTHONDONTWRITEBYTECODE is set (as on
# this machine): otherwise every test process and every `certdocs` child compiles the package, the
# tests and hypothesis (whose ~90 modules pytest rewrites) again, about 1.5 s of CPU each time.
# The caches are __pycache__ folders, ignored by git.
sys.dont_write_bytecode = False

# Collect garbage less often than Python's default (700, 10, 10): a test run makes and keeps far
# more objects than a program (collected items, kept caches, hypothesis's data), and with the
# default the workers ran 25-30 full collections walking all of them: 2.8 s of CPU in a run
# went to the collector, against 1.4-1.7 s with these (none of them full). Cycles are still
# collected, in fewer and larger passes.
gc.set_threshold(10_000, 20, 50)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"


def _memory_backed_temp() -> None:
    """Put the run's temporary folders in /dev/shm (memory) unless TMPDIR already names a place.

    The tests write thousands of small files and registers, each made durable with fsync, and
    start PostgreSQL servers; on a disk those waits were 2–5 s of a no-LibreOffice run. What the
    tests check (whole files after a kill -9, no gap in a number series) does not depend on the
    disk: fsync's calls are made either way. Left on disk where /dev/shm is small (a container's
    64 MB) or absent. Set here, at the first import of this file, so that pytest's base folder,
    the test workers and every child process (LibreOffice, PostgreSQL, batch runs) inherit it.
    """
    shm = Path("/dev/shm")
    if "TMPDIR" in os.environ or not shm.is_dir() or not os.access(shm, os.W_OK | os.X_OK):
        return
    stats = os.statvfs(shm)
    if stats.f_bavail * stats.f_frsize < 2 << 30:
        return
    os.environ["TMPDIR"] = str(shm)
    tempfile.tempdir = None  # gettempdir() reads TMPDIR again


_memory_backed_temp()


def _valid_uscc() -> str:
    from stdnum.cn import uscc

    base = "91330106MA2CFXY80"
    return base + uscc.calc_check_digit(base)


def full_marks_audit(scheme_id: str) -> dict[str, Any]:
    """A complete, valid audit-result document earning every point (level 5 for levels)."""
    scheme = get_scheme(scheme_id)
    items: dict[str, Any] = {}
    for item in scheme.items:
        if scheme.veto is not None and item.id == scheme.veto.item:
            items[item.id] = {"compliant": True}
        elif scheme.method == "levels":
            items[item.id] = {"level": 5}
        else:
            points = item.points or Decimal(0)
            # JSON-native numbers, as a file would hold them.
            value: int | float = int(points) if points == int(points) else float(points)
            items[item.id] = {"score": value, "evidence": "抽查记录完整"}
    doc: dict[str, Any] = {
        "scheme": scheme_id,
        "organization": {
            "name": "杭州某电器股份有限公司",
            "uscc": _valid_uscc(),
            "registered_address": "浙江省杭州市西湖区文三路 100 号",
            "audit_address": "浙江省杭州市西湖区文三路 100 号",
        },
        "scope": "家用空调器产品的售后服务",
        "audit": {
            "type": "initial",
            "start_date": "2026-11-10",
            "end_date": "2026-11-11",
            "team": [{"name": "王立新", "role": "leader"}, {"name": "陈静", "role": "member"}],
        },
        "items": items,
    }
    if scheme.prerequisites:
        doc["prerequisites"] = {"operating_months": 12, "major_incident": False, "accepts_onsite_review": True}
    return doc


def pytest_configure(config: pytest.Config) -> None:
    """Load openpyxl as the product does (without numpy) before any test module imports it.

    Not in the process that only hands tests to xdist workers: it starts them sooner without it.
    """
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return
    import certdocs.workbook  # noqa: F401


def pytest_collection_finish(session: pytest.Session) -> None:
    """Freeze what collection built: the modules, libraries and test items live to the end anyway.

    The garbage collector then no longer walks them in each full collection during the tests.
    """
    gc.freeze()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Freeze what the tests left: pytest's last collection and the interpreter's exit skip it.

    Without this a worker spent about 1.3 s after its last test walking the objects that the
    kept caches and fixtures left (pytest's unraisable-exception check, then the exit).
    Refcounting still closes files and frees memory; only reference cycles stay unfreed.
    """
    gc.freeze()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """When the first xdist worker is done, the controller loads hypothesis while the other still works.

    hypothesis's pytest plugin imports the package in its terminal summary (about 0.2 s of CPU);
    left there, that comes after the last test, when nothing else runs.
    """
    if "hypothesis" not in sys.modules and node.config.pluginmanager.has_plugin("hypothesispytest"):
        import hypothesis.internal.observability  # noqa: F401


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process that started the run removes the PostgreSQL data folder its servers copied."""
    if not hasattr(config, "workerinput"):
        remove_template_folder()


# Modules that start processes of their own: batch runs and writers forked from the fork server
# (tests/forkserver.py, warmed by issuing a batch), and registers on the test PostgreSQL server
# (tests/postgres_server.py, a server per test process). Run together on one worker, they start
# one fork server and one PostgreSQL server instead of one of each per worker, and their waits
# overlap with the other worker's CPU-bound tests. The signing modules join them: test_records
# signs too (with test_archive's signer), and pyHanko then loads in one worker, not both (its
# import and first signature cost about 0.8 s of CPU in each process).
PROCESS_MODULES = frozenset(
    {
        "tests/test_batch.py",
        "tests/test_fs.py",
        "tests/test_postgres_registers.py",
        "tests/test_records.py",
        "tests/test_register.py",
        "tests/test_register_concurrency.py",
        "tests/test_register_lifecycle.py",
        "tests/test_register_migrations.py",
        "tests/test_register_postgres.py",
        "tests/test_sign.py",
        "tests/test_archive.py",
    }
)


def _unit(nodeid: str) -> str:
    """The share of the run one worker takes whole: the test's module, or the process-starting group."""
    module = nodeid.split("::", 1)[0]
    return "processes" if module in PROCESS_MODULES else module


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``--dist loadgroup`` (our addopts): each module whole on one worker, PROCESS_MODULES together.

    A module's tests share what it builds once (module-scoped fixtures: LibreOffice or a browser
    started, a signed PDF, issued certificates, workbooks, a start-up probe): split over two
    workers, each built it. The units are handed out in collection order, which
    :func:`pytest_collection_modifyitems` makes the heaviest first, so that the two workers end
    together. pytest-xdist's own loadgroup (``xdist_group`` marks) does nothing under pytest 9:
    it renames the collected items' node ids, which pytest 9 no longer reads.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class WholeModules(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    config.option.loadscopereorder = False  # our order (below), not xdist's by number of tests
    return WholeModules(config, log)


# What a test weighs when the units are ordered: a LibreOffice test takes seconds, a slow one about
# a second, most others a few hundredths.
_WEIGHTS = {"libreoffice": 40, "slow": 15}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The heaviest units first (tests weighed by their marks), and in each unit its slow tests first.

    On two workers the last units handed out are then light ones, and neither worker ends long
    after the other. The order is the same in every worker: xdist checks that they collected alike.
    """

    def weight(item: pytest.Item) -> int:
        return max((w for mark, w in _WEIGHTS.items() if item.get_closest_marker(mark)), default=1)

    units: dict[str, int] = {}
    for item in items:
        units[_unit(item.nodeid)] = units.get(_unit(item.nodeid), 0) + weight(item)
    items.sort(key=lambda item: (-units[_unit(item.nodeid)], _unit(item.nodeid), weight(item) == 1))


@pytest.fixture(scope="session")
def _untouched_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Folders of their own for the tests without a ``tmp_path``, made only when something writes there."""
    root = tmp_path_factory.mktemp("untouched")
    return (root / str(n) for n in itertools.count())


@pytest.fixture(autouse=True)
def _records_in_tmp(
    request: pytest.FixtureRequest, _untouched_folders: Iterator[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test keeps its records (register, archive) and output in its own folder.

    Never ./records, and never ./output either: a register an older certdocs left there would
    otherwise be moved into the test's records folder. The folder is the test's ``tmp_path``
    when it has one; the other tests (about half) get a path of their own that no one makes
    unless they write there: pytest makes each ``tmp_path`` after listing its siblings, a
    millisecond or more a test by the end of a run.
    """
    if "tmp_path" in request.fixturenames:
        folder: Path = request.getfixturevalue("tmp_path")
    else:
        folder = next(_untouched_folders)
    monkeypatch.setenv("CERTDOCS_RECORDS", str(folder / "records"))
    monkeypatch.setenv("CERTDOCS_OUTPUT", str(folder / "output"))


@pytest.fixture
def audit_doc() -> Callable[[str], dict[str, Any]]:
    """Factory: a fresh full-marks audit document for a scheme id."""
    return lambda scheme_id: copy.deepcopy(full_marks_audit(scheme_id))


def points_of(scheme_id: str, item_id: str) -> Decimal:
    """The points of one item."""
    p = get_scheme(scheme_id).item(item_id).points
    assert p is not None
    return p
