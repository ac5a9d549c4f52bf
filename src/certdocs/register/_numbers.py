"""Certificate number patterns and the per-series serial counter.

A pattern is a Python format string with a ``{serial}`` field and usually a ``{year}`` field,
for example ``"BZ{year}SC{serial:04d}"``. Serials run per *series*: the pattern with the year
filled in and the serial's format spec dropped (``"BZ2026SC{serial}"``). So each year starts
again at 1, a widened serial (``:05d``) continues the same series, and a pattern without
``{year}`` is one series for all years (never restarting, so never repeating a number).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from certdocs.errors import Problem
from certdocs.register._backend import Db

_FIELDS = ("year", "serial")


@dataclass(frozen=True)
class NumberPattern:
    """A checked certificate number pattern."""

    text: str

    @classmethod
    def parse(cls, text: str) -> NumberPattern | list[Problem]:
        """The pattern, or the Problems that make ``text`` unusable."""
        where = f"编号规则 {text!r}"
        if not isinstance(text, str) or not text:
            return [Problem(where, "不能为空")]
        try:
            parts = list(string.Formatter().parse(text))
        except ValueError as exc:
            return [Problem(where, f"格式有误：{exc}")]
        names = [name for _, name, _, _ in parts if name is not None]
        problems = [
            Problem(where, f"只能使用 {{year}} 与 {{serial}} 字段，不能使用 {{{name}}}")
            for name in names
            if name not in _FIELDS
        ]
        if names.count("serial") != 1:
            problems.append(Problem(where, "必须恰好包含一个 {serial} 字段"))
        if any(conv for _, name, _, conv in parts if name is not None):
            problems.append(Problem(where, "字段不能带 !r / !s 转换"))
        if problems:
            return problems
        pattern = cls(text)
        try:
            first, second = pattern.format(year=2000, serial=1), pattern.format(year=2000, serial=2)
        except (ValueError, TypeError) as exc:
            return [Problem(where, f"无法格式化：{exc}")]
        if first == second:
            return [Problem(where, "不同流水号格式化后相同")]
        return pattern

    def format(self, *, year: int, serial: int) -> str:
        """The certificate number for ``serial`` in ``year``."""
        return self.text.format(year=year, serial=serial)

    def series(self, *, year: int) -> str:
        """The series the serials of ``year`` run in."""
        out: list[str] = []
        for literal, name, spec, _ in string.Formatter().parse(self.text):
            out.append(literal.replace("{", "{{").replace("}", "}}"))
            if name == "year":
                out.append(format(year, spec or ""))
            elif name == "serial":
                out.append("{serial}")
        return "".join(out)


def lock_series(conn: Db, series: str) -> int:
    """The last serial taken in ``series``, its row locked until the write transaction ends.

    The row lock (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` holds
    the whole database) is what keeps two computers from taking the same serial: the second
    waits here until the first commits, then reads the serial the first took.
    """
    conn.execute(
        "INSERT INTO number_series (series, last_serial) VALUES (?, 0) ON CONFLICT (series) DO NOTHING",
        (series,),
    )
    row = conn.execute(f"SELECT last_serial FROM number_series WHERE series = ?{conn.lock}", (series,)).fetchone()
    return int(row[0])


def next_serial(conn: Db, series: str) -> int:
    """Take the next serial of ``series``; call inside a write transaction.

    A counter per series rather than ``max(serial) + 1`` so that a number, once taken, is never
    handed out again whatever later happens to its certificate row.
    """
    return take_serial(conn, series, last=lock_series(conn, series))


def take_serial(conn: Db, series: str, *, last: int) -> int:
    """Take the serial after ``last``, which :func:`lock_series` read in this same transaction."""
    serial = last + 1
    conn.execute("UPDATE number_series SET last_serial = ? WHERE series = ?", (serial, series))
    return serial
