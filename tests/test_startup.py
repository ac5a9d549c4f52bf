"""Start-up: a command that writes no document loads no PDF, Word, template or signing library.

Office staff run ``certdocs`` commands all day and every test process imports the package: each
of these libraries costs a tenth of a second or more to import. One fresh interpreter runs the
light commands one after the other and records which top-level packages each left loaded.
``python -X importtime -c "import certdocs.cli"`` shows who brought one in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

# Word, PDF, template, image, signing, archive, spreadsheet and database libraries.
HEAVY = frozenset(
    {
        "bagit",
        "cryptography",
        "docx",
        "docxtpl",
        "fontTools",
        "jinja2",
        "lxml",
        "numpy",
        "openpyxl",
        "PIL",
        "pikepdf",
        "psycopg",
        "pyhanko",
        "pypdf",
        "qrcode",
        "zxingcpp",
    }
)
# Only scoring needs these (the check digit of a credit code, dates printed in Chinese).
SCORING = frozenset({"babel", "stdnum"})

_PROBE = """
import contextlib, io, json, sys
from certdocs.cli import main

loaded = {}
for args in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(args, prog_name="certdocs")
        except SystemExit as exc:
            code = exc.code
    loaded[" ".join(args)] = {"exit": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}
import certdocs.batch, certdocs.issuing
loaded["import certdocs.issuing"] = {"exit": 0, "modules": sorted({m.split(".")[0] for m in sys.modules})}
import certdocs.workbook
loaded["import certdocs.workbook"] = {"exit": 0, "modules": sorted({m.split(".")[0] for m in sys.modules})}
print(json.dumps(loaded))
"""

SCORE = str(FIXTURES / "xbht-s04-2025" / "pass.json")


def _commands(register: Path) -> list[list[str]]:
    """Every command's and group's --help, then the commands that only read."""
    from certdocs.cli import main

    helps = [["--help"]]
    for name, command in sorted(main.commands.items()):
        helps.append([name, "--help"])
        for sub in sorted(getattr(command, "commands", {})):
            helps.append([name, sub, "--help"])
    return [
        *helps,
        ["--version"],
        ["register", "list", "--register", str(register)],
        ["surveillance", "due", "--register", str(register)],
        ["score", SCORE],
        ["score", "--format", "json", SCORE],
    ]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    """For each command line, in the order run: its exit status and the packages loaded after it."""
    register = tmp_path_factory.mktemp("startup") / "register.sqlite3"
    run = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(_commands(register))],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    result: dict[str, dict[str, object]] = json.loads(run.stdout)
    return result


def _modules(loaded: dict[str, dict[str, object]], line: str) -> set[str]:
    modules = loaded[line]["modules"]
    assert isinstance(modules, list)
    return set(modules)


def test_every_light_command_ran_and_succeeded(loaded: dict[str, dict[str, object]]) -> None:
    assert {line: entry["exit"] for line, entry in loaded.items() if entry["exit"] not in (0, None)} == {}


def test_help_version_register_list_surveillance_due_and_score_load_no_pdf_word_or_template_library(
    loaded: dict[str, dict[str, object]],
) -> None:
    last_light = f"score --format json {SCORE}"
    assert sorted(_modules(loaded, last_light) & HEAVY) == []


def test_help_and_the_register_list_load_not_even_babel_or_stdnum(loaded: dict[str, dict[str, object]]) -> None:
    before_scoring = next(line for line in loaded if line.startswith("register list"))
    assert sorted(_modules(loaded, before_scoring) & (HEAVY | SCORING)) == []


def test_the_issuing_library_loads_neither_numpy_nor_pypdf(loaded: dict[str, dict[str, object]]) -> None:
    # numpy and pypdf are needed neither to issue nor to check a converted PDF that shows text.
    assert sorted(_modules(loaded, "import certdocs.issuing") & {"numpy", "pypdf", "fontTools"}) == []


def test_the_workbook_package_loads_openpyxl_without_numpy(loaded: dict[str, dict[str, object]]) -> None:
    # openpyxl imports numpy when installed (for numpy's numbers as cell values), 0.2–0.3 s.
    modules = _modules(loaded, "import certdocs.workbook")
    assert ("openpyxl" in modules, "numpy" in modules) == (True, False)
