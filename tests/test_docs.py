"""The documentation the code and the README point at is there."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "src" / "certdocs").rglob("*.py"))
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

# A Markdown link to a file of the repository: [text](path) or [text](path#anchor), not a web address.
LINK = re.compile(r"\]\(((?!https?:|mailto:|#)[^)\s#]+)(?:#[^)]*)?\)")
# A file under docs/ named in code: docs/dates.md, ``docs/audit-result.md``.
CITED = re.compile(r"\bdocs/[\w.-]+\.md\b")


def test_the_code_cites_no_contract_file_the_repository_lacks() -> None:
    # The formats live in docs/; a "CONTRACT §N" sends a reader of a clean clone nowhere.
    citing = [str(p.relative_to(ROOT)) for p in SOURCES if "CONTRACT" in p.read_text(encoding="utf-8")]
    assert citing == []


def test_every_docs_page_the_code_cites_exists() -> None:
    missing = [
        f"{p.relative_to(ROOT)}: {c}"
        for p in SOURCES
        for c in sorted(set(CITED.findall(p.read_text(encoding="utf-8"))))
        if not (ROOT / c).is_file()
    ]
    assert missing == []


def test_every_link_of_a_page_to_a_repository_file_resolves() -> None:
    broken = [
        f"{p.relative_to(ROOT)}: {t}"
        for p in PAGES
        for t in LINK.findall(p.read_text(encoding="utf-8"))
        if not (p.parent / t).exists()
    ]
    assert broken == []
