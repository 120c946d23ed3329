"""The people's clock: every time a person reads, in one zone and one format.

Screen, paper, ``valgkiosk log show`` and every message give times in the election's
time zone (Europe/Oslo unless the station file says otherwise), whatever the system's
own zone is: the image may run in UTC, and the loggbok keeps ISO stamps with their
offset. The format is the one the screen has always used: ``kl. 19.52`` (hours and
minutes joined by a full stop, as Norwegian writes it), dates as ``08.09.2025``.

The zone is set once at start-up by the composition root (:func:`configure`) from the
station file's ``[election] time_zone``; every function also takes ``zone=`` for tests
and for a caller that knows better. A naive datetime is taken to be in the people's
zone already (a wall-clock time typed or fixed by a test).

Pure apart from the one module-level setting (no clock is read here).
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_ZONE",
    "clock",
    "configure",
    "day",
    "day_and_clock",
    "hhmm",
    "hhmmss",
    "local",
    "local_date",
    "stamp",
    "zone",
]

#: The zone of a Norwegian election.
DEFAULT_ZONE = "Europe/Oslo"

_zone: tzinfo = ZoneInfo(DEFAULT_ZONE)


def configure(name: str = DEFAULT_ZONE) -> tzinfo:
    """Set the people's zone (an IANA name); raises ValueError for an unknown one."""
    global _zone
    try:
        _zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"ukjent tidssone «{name}»") from exc
    return _zone


def zone() -> tzinfo:
    """The people's zone now in force."""
    return _zone


def local(at: datetime, *, zone: tzinfo | None = None) -> datetime:
    """``at`` on the people's wall clock (a naive time is taken as such already)."""
    if at.tzinfo is None:
        return at
    return at.astimezone(zone or _zone)


def local_date(at: datetime, *, zone: tzinfo | None = None) -> date:
    """The day ``at`` falls on, for the people at the polling station."""
    return local(at, zone=zone).date()


def hhmm(at: datetime, *, zone: tzinfo | None = None) -> str:
    """``19.52``."""
    t = local(at, zone=zone)
    return f"{t.hour:02d}.{t.minute:02d}"


def hhmmss(at: datetime, *, zone: tzinfo | None = None) -> str:
    """``19.52.07`` (for a list where two entries may share a minute)."""
    t = local(at, zone=zone)
    return f"{t.hour:02d}.{t.minute:02d}.{t.second:02d}"


def clock(at: datetime, *, zone: tzinfo | None = None) -> str:
    """``kl. 19.52``."""
    return f"kl. {hhmm(at, zone=zone)}"


def day(d: date | datetime, *, zone: tzinfo | None = None) -> str:
    """``08.09.2025`` (a datetime is first put on the people's clock)."""
    if isinstance(d, datetime):
        d = local_date(d, zone=zone)
    return f"{d.day:02d}.{d.month:02d}.{d.year}"


def day_and_clock(at: datetime, *, zone: tzinfo | None = None) -> str:
    """``08.09.2025 kl. 19.52``."""
    return f"{day(at, zone=zone)} {clock(at, zone=zone)}"


def stamp(at: datetime, today: date | None = None, *, zone: tzinfo | None = None) -> str:
    """``kl. 19.52`` when ``at`` is on ``today`` (people's date), else ``08.09.2025 kl. 19.52``."""
    if today is not None and local_date(at, zone=zone) == today:
        return clock(at, zone=zone)
    return day_and_clock(at, zone=zone)
