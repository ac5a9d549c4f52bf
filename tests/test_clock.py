"""The body's clock: today's date and shown times are Beijing's, whatever the computer's zone."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo

import pytest

from certdocs import _clock


def _frozen_at(moment: datetime) -> type[datetime]:
    class Frozen(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> Frozen:
            return cls.fromtimestamp(moment.timestamp(), tz)

    return Frozen


@pytest.mark.parametrize(
    ("utc", "beijing"),
    [
        (datetime(2026, 11, 26, 15, 59, tzinfo=UTC), date(2026, 11, 26)),  # 23:59 in Beijing
        (datetime(2026, 11, 26, 16, 0, tzinfo=UTC), date(2026, 11, 27)),  # midnight in Beijing
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2027, 1, 1)),
    ],
)
def test_today_is_the_date_in_beijing(monkeypatch: pytest.MonkeyPatch, utc: datetime, beijing: date) -> None:
    monkeypatch.setattr(_clock, "datetime", _frozen_at(utc))
    assert _clock.today() == beijing


def test_today_does_not_follow_the_computers_time_zone() -> None:
    # A process in a zone whose date differs from Beijing's right now (UTC-12 or UTC+14: at any
    # hour one of them does) still gets Beijing's date.
    beijing = datetime.now(_clock.BEIJING).date()
    zones = {"Etc/GMT+12": -12, "Etc/GMT-14": 14}  # POSIX names: the sign is reversed
    name = next(n for n, hours in zones.items() if datetime.now(timezone(timedelta(hours=hours))).date() != beijing)
    probe = "from datetime import date; from certdocs import _clock; print(date.today(), _clock.today())"
    env = {**os.environ, "TZ": name}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    local, today = done.stdout.split()
    assert local != str(beijing)  # the zone took effect
    assert today == str(beijing)


def test_a_recorded_moment_is_shown_in_beijing_time() -> None:
    assert _clock.shown(datetime(2026, 11, 27, 3, 40, 12, tzinfo=UTC)) == "2026-11-27 11:40"
    assert _clock.shown(datetime(2026, 11, 26, 20, 5, tzinfo=UTC)) == "2026-11-27 04:05"
