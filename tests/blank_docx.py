"""python-docx's blank document, opened once a process, for the tests that build Word templates.

Opening it parses its 800 kB of styles (about 12 ms); a copy costs half of that, most of it the
styles part (350 kB of XML). :func:`blank_document` gives a copy sharing that part with every
other copy: no template a test builds changes a style, and a module using it takes the fixture
:func:`shared_styles_unchanged`, which fails the module if one did.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from typing import Any

import pytest
from docx import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT


@functools.cache
def _blank() -> tuple[Any, Any]:
    """The blank document and its styles part."""
    document = Document()
    return document, document.part.part_related_by(RT.STYLES)


def blank_document() -> Any:
    """A copy of python-docx's blank document (``docx.Document()``) sharing its styles part."""
    blank, styles = _blank()
    return copy.deepcopy(blank, {id(styles): styles})


@pytest.fixture(autouse=True, scope="module")
def shared_styles_unchanged() -> Iterator[None]:
    """The styles the copies share are the blank document's, unchanged, after a module's last test."""
    styles = _blank()[1]
    before = styles.blob
    yield
    assert styles.blob == before, "a test changed the shared styles: give it a docx.Document() of its own"
