"""A render context copied once for every document of a set: private, plain and XML-safe."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Characters XML 1.0 forbids; docxtpl's own markers \a (new paragraph) and \f (page break)
# are kept because it turns them into markup.
_XML_ILLEGAL = re.compile("[\x00-\x06\x08\x0b\x0e-\x1f\ufffe\uffff]")


class RenderContext:
    """A context prepared once for several documents: a private, XML-safe copy (see :func:`prepare_context`)."""

    __slots__ = ("values",)

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values


def prepare_context(context: Mapping[str, Any]) -> RenderContext:
    """``context`` copied once (plain dicts and lists, XML-safe strings) for every document rendered from it.

    Later changes to ``context`` do not reach the copy; templates cannot change it.
    """
    values = _copy(context)
    if not isinstance(values, dict):  # pragma: no cover - _copy keeps mappings as dicts
        raise TypeError("context must be a mapping")
    return RenderContext(values)


def _copy(value: Any) -> Any:
    """A private, XML-safe copy of a context value (see :func:`prepare_context`)."""
    kind = type(value)  # exact types first: isinstance against the ABCs is most of the cost
    if kind is str:
        return _XML_ILLEGAL.sub("", value) if _XML_ILLEGAL.search(value) else value
    if kind is dict:
        return _copy_mapping(value)
    if kind is list or kind is tuple:
        return _copy_sequence(value)
    if kind in _AS_IS:
        return value
    if isinstance(value, Mapping):
        return _copy_mapping(value)
    if isinstance(value, list | tuple):
        return _copy_sequence(value)
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value)
    return value


# Values a context copy keeps as they are (immutable, nothing to make XML-safe).
_AS_IS = frozenset({int, bool, float, type(None)})


def _copy_mapping(value: Mapping[Any, Any]) -> dict[str, Any]:
    # _copy of each item, with the commonest items (plain strings and numbers) done here: a
    # context holds thousands of them, and a call for each was most of the copy's cost.
    out: dict[str, Any] = {}
    search, sub = _XML_ILLEGAL.search, _XML_ILLEGAL.sub
    for key, item in value.items():
        kind = type(item)
        if kind is str:
            if search(item):
                item = sub("", item)
        elif kind not in _AS_IS:
            item = _copy(item)
        out[key if type(key) is str else str(key)] = item
    return out


def _copy_sequence(value: list[Any] | tuple[Any, ...]) -> list[Any]:
    out: list[Any] = []
    append, search, sub = out.append, _XML_ILLEGAL.search, _XML_ILLEGAL.sub
    for item in value:
        kind = type(item)
        if kind is str:
            if search(item):
                item = sub("", item)
        elif kind not in _AS_IS:
            item = _copy(item)
        append(item)
    return out
