"""Cell values as JSON values: numbers to 15 significant digits, dates, times, nested keys."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any


def set_path(data: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = data
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value


def ordered(data: dict[str, Any]) -> dict[str, Any]:
    order = ("scheme", "organization", "scope", "audit", "prerequisites", "items", "report")
    return {key: data[key] for key in order if key in data}


def plain(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == time(0) else raw.isoformat(sep=" ")
    return str(raw)


def number(raw: Any) -> Any:
    """A number cell as JSON: an int when whole, else the shortest decimal (15 significant digits)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        d = Decimal(format(raw, ".15g"))
    else:
        text = str(raw).strip()
        try:
            d = Decimal(text)
        except InvalidOperation:
            return text
        if not d.is_finite():
            return text
    if d == d.to_integral_value():
        return int(d)
    return d.normalize()


_EPOCH = datetime(1899, 12, 30)


def day(raw: Any) -> Any:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, int | float) and not isinstance(raw, bool) and 1 <= raw < 2_958_466:
        return (_EPOCH + timedelta(days=int(raw))).date().isoformat()
    return str(raw).strip()


def clock(raw: Any) -> Any:
    if isinstance(raw, time):
        return raw.strftime("%H:%M")
    if isinstance(raw, datetime):
        return raw.strftime("%H:%M")
    if isinstance(raw, float) and 0 <= raw < 1:
        minutes = round(raw * 24 * 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    return str(raw).strip()
