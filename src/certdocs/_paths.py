"""JSON paths as error messages print them: ``organization.uscc``, ``items["5.1.2.2"].score``."""

from __future__ import annotations

import re

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def jp(parent: str, key: str) -> str:
    """The path of ``key`` inside ``parent`` (dotted for identifiers, bracketed otherwise)."""
    if parent == "items" or not _IDENT.match(key):
        return f'{parent}["{key}"]'
    return f"{parent}.{key}" if parent else key
