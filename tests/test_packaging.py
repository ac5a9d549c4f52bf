"""What pyproject.toml promises about the libraries certdocs depends on."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

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
