"""The certification body's clock: Beijing time (UTC+8; China has no daylight saving time).

Dates printed on documents ("today" as the issue, decision and letter date) and the times the
commands show are the body's, whatever time zone the computer running certdocs is set to: a
server kept in UTC would otherwise date a certificate issued before 08:00 in Beijing the day
before. The one place certdocs takes today's date or formats a time to show; the moments it
stores (archive entries, the register's timestamps) are taken in UTC where they are recorded.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

#: Beijing time, the zone of every date and time certdocs prints.
BEIJING = timezone(timedelta(hours=8), "北京时间")


def now() -> datetime:
    """The current moment in Beijing time."""
    return datetime.now(BEIJING)


def today() -> date:
    """Today's date in Beijing."""
    return now().date()


def shown(moment: datetime) -> str:
    """A recorded moment (stored in UTC) as office staff read it: Beijing time, to the minute."""
    return moment.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
