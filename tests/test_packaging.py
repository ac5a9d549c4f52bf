"""What pyproject.toml and the Makefile promise about the libraries and the interpreter certdocs runs on."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Libraries whose private internals certdocs overrides or calls (docxtpl's render_xml_part,
#: python-docx's PackageWriter steps, openpyxl's writer and cell styles, pyHanko's signer parts):
#: a new release may change them, so each is bounded above until that release has been tried.
PATCHED = ("docxtpl", "python-docx", "openpyxl", "pyhanko")


def _requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = {}
    for requirement in project["dependencies"]:
        name = re.match(r"[A-Za-z0-9_.-]+", requirement)
        assert name is not None, requirement
        found[name.group(0).lower()] = requirement
    return found


def test_every_library_whose_internals_certdocs_uses_is_bounded_above() -> None:
    requirements = _requirements()
    unbounded = [name for name in PATCHED if "<" not in requirements.get(name, "")]
    assert unbounded == []


def _make_python(env: dict[str, str]) -> str:
    """The interpreter the Makefile would make .venv from, with this environment."""
    printed = subprocess.run(
        ["make", "-s", "--no-print-directory", "--eval", "print-python: ; @echo $(PYTHON)", "print-python"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return printed.stdout.strip()


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_venv_is_made_from_debians_python_when_it_is_new_enough_else_from_python3_on_path() -> None:
    system = Path("/usr/bin/python3")
    new_enough = (
        system.is_file()
        and subprocess.run([system, "-c", "import sys; sys.exit(sys.version_info < (3, 11))"], check=False).returncode
        == 0
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "MAKEFLAGS", "MAKELEVEL")}
    assert _make_python(env) == (str(system) if new_enough else "python3")


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_a_python_named_in_the_environment_wins() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHON", "MAKEFLAGS", "MAKELEVEL")}
    assert _make_python({**env, "PYTHON": "python3.99"}) == "python3.99"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_the_jobs_variables_come_from_the_command_line_not_the_environment() -> None:
    # ISSUE_DATE, OUTPUT or AUDIT left in the environment by other software must not date or move documents.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    env |= {"ISSUE_DATE": "2020-01-01", "OUTPUT": "/tmp/elsewhere", "AUDIT": "/etc/passwd", "RECORDS": "/tmp/r"}

    def command(*args: str) -> str:
        done = subprocess.run(
            ["make", "-n", "--no-print-directory", "certificate", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip().splitlines()[-1]

    assert command().endswith(
        'certificate "fixtures/xbht-s04-2025/pass.json" --output "output" --records "records"'
        ' --register "records/register.sqlite3"'
    )
    assert command("ISSUE_DATE=2026-11-22", "OUTPUT=o").endswith(
        'certificate "fixtures/xbht-s04-2025/pass.json" --output "o" --records "records"'
        ' --register "records/register.sqlite3" --issue-date 2026-11-22'
    )
