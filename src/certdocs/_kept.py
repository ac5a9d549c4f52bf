"""What a process keeps by the content it was made from: a bounded, thread-safe store.

Templates, their parts, workbooks' package parts: the same bytes come back in every document of
a batch, so what is made from them (a parsed tree, a compressed entry, a check's answer) is kept
under a digest of those bytes, never under a path and a time stamp, which an edit can keep.
"""

from __future__ import annotations

import collections
import hashlib
import threading
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


def digest(data: bytes) -> bytes:
    """A short digest of ``data``, to key what is kept by content."""
    return hashlib.blake2b(data, digest_size=20).digest()


class Kept(Generic[V]):
    """At most ``entries`` values (and, with ``budget``, at most that many bytes' worth), the least
    recently used let go first; safe to use from several threads (batches render from threads)."""

    def __init__(self, *, entries: int, budget: int | None = None) -> None:
        self._entries, self._budget = entries, budget
        self._kept: collections.OrderedDict[Hashable, tuple[V, int]] = collections.OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        """The value kept under ``key``, or None."""
        with self._lock:
            found = self._kept.get(key)
            if found is None:
                return None
            self._kept.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: V, *, size: int = 0) -> V:
        """Keep ``value`` under ``key`` (``size``: the bytes it stands for, counted against the budget); returns it."""
        with self._lock:
            old = self._kept.pop(key, None)
            if old is not None:
                self._size -= old[1]
            self._kept[key] = (value, size)
            self._size += size
            while len(self._kept) > 1 and (
                len(self._kept) > self._entries or (self._budget is not None and self._size > self._budget)
            ):
                self._size -= self._kept.popitem(last=False)[1][1]
        return value

    def clear(self) -> None:
        """Let everything go."""
        with self._lock:
            self._kept.clear()
            self._size = 0
