"""Names a package hands on from modules it imports only when one of the names is first used.

A package's ``__init__`` that imports every module it re-exports makes ``import certdocs.x``
load PDF, Word and signing libraries a caller may never touch (each a tenth of a second or
more, paid by every ``certdocs`` command and every test process). :func:`lazy_names` makes the
package's ``__getattr__`` (PEP 562) instead; the package imports the same names under
``TYPE_CHECKING`` so that type checkers and readers still see where each comes from.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_names(package: str, origins: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package``: each name in ``origins`` imported from the module
    ``origins[name]`` on first use, and kept in the package."""

    def __getattr__(name: str) -> Any:
        origin = origins.get(name)
        if origin is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(origin), name)
        setattr(sys.modules[package], name, value)  # found directly from now on
        return value

    return __getattr__


__all__ = ["lazy_names"]
