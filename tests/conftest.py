"""Shared fixtures: audit-result documents built from the bundled schemes."""

from __future__ import annotations

import copy
import itertools
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import certdocs.workbook  # noqa: F401  (first: openpyxl as the product loads it, without numpy)
from certdocs.scheme import get_scheme
from tests.issued import issued_folders  # noqa: F401  (fixture)
from tests.libreoffice import libreoffice_converter  # noqa: F401  (fixture)
from tests.postgres_server import postgres_server, postgres_url, remove_template_folder  # noqa: F401  (fixtures)

# Cache compiled and assertion-rewritten modules even where PYTHONDONTWRITEBYTECODE is set (as on
# this machine): otherwise every test process and every `certdocs` child compiles the package, the
# tests and hypothesis (whose ~90 modules pytest rewrites) again, about 1.5 s of CPU each time.
# The caches are __pycache__ folders, ignored by git.
sys.dont_write_bytecode = False

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


def pytest_unconfigure(config: pytest.Config) -> None:
    """The process that started the run removes the PostgreSQL data folder its servers copied."""
    if not hasattr(config, "workerinput"):
        remove_template_folder()


# Modules whose module-scoped fixture runs LibreOffice (or a browser), or that build the same
# workbooks for many tests (test_workbook: filled, blank and opened workbooks kept per process):
# on two test workers each would build them, and again whenever its tests were split; these run
# whole on one.
WHOLE_MODULES = frozenset(
    {
        "tests/test_convert.py",
        "tests/test_documents.py",
        "tests/test_fitting.py",
        "tests/test_glyphcheck.py",
        "tests/test_site_browser.py",
        "tests/test_workbook.py",
        "tests/test_workbook_libreoffice.py",
    }
)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With ``--dist loadgroup`` (our addopts): WHOLE_MODULES whole on one worker, other tests one by one.

    pytest-xdist's own loadgroup (``xdist_group`` marks) does nothing under pytest 9: it renames
    the collected items' node ids, which pytest 9 no longer reads. xdist hands out the biggest
    modules first, then the single tests in collection order (slow ones first, see below).
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class WholeModules(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in WHOLE_MODULES else nodeid

    return WholeModules(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked slow first, so that on two workers none of them starts last and runs alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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
