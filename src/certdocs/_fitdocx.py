"""Puts the fitted type sizes (certdocs.fitting) on the runs of a template part that print those fields.

Works on a part's XML after docxtpl has joined each tag into one run (``patch_xml``), before the
Jinja render: a run whose text holds ``{{ org.name }}`` (or ``{{ certified_scope }}`` …) gets
the fitted size when its own size is larger. A template that prints the field smaller keeps its
size (smaller always fits); a run with no size of its own (size from a style) is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

_RUN = re.compile(r"<w:r(?:\s[^>]*)?>(?:(?!</w:r>).)*?</w:r>", re.S)
_SIZE = re.compile(r'<w:(sz|szCs) w:val="(\d+)"\s*/>')


def _tag(field: str) -> re.Pattern[str]:
    return re.compile(r"\{\{[^}]*(?<![\w.])" + re.escape(field) + r"(?![\w])[^}]*\}\}")


def apply_sizes(xml: str, sizes: Any) -> str:
    """``xml`` with every run printing a fitted field no larger than its fitted size."""
    if not isinstance(sizes, Mapping) or not sizes or "{{" not in xml:
        return xml
    wanted: list[tuple[re.Pattern[str], int]] = []
    for field, size in sizes.items():
        try:
            half_points = int(Decimal(str(size)) * 2)
        except (InvalidOperation, ValueError):
            continue
        wanted.append((_tag(str(field)), half_points))

    def resize(run: re.Match[str]) -> str:
        text = run.group(0)
        limits = [half for tag, half in wanted if tag.search(text)]
        if not limits:
            return text
        limit = min(limits)
        return _SIZE.sub(lambda m: f'<w:{m.group(1)} w:val="{min(int(m.group(2)), limit)}"/>', text)

    return _RUN.sub(resize, xml)
