"""The Clock port: the shell's source of time. The core never reads a clock; the shell
stamps events with ``monotonic()`` and loggbok entries with ``now()`` (wall-clock time
with the local offset). Tests use :class:`ManualClock` and advance it."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Protocol

#: Where a ManualClock's wall-clock time starts: election day 2025, 09:00 in Norway.
MANUAL_EPOCH = datetime(2025, 9, 8, 9, 0, tzinfo=timezone(timedelta(hours=2)))


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def now(self) -> datetime: ...


class SystemClock:
    """The real clocks."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime.now().astimezone()


class ManualClock:
    """A clock that moves only when told to: for tests and scenario runs."""

    def __init__(self, start: float = 1000.0, *, epoch: datetime = MANUAL_EPOCH) -> None:
        self.start = start
        self.epoch = epoch
        self.now_s = start

    def monotonic(self) -> float:
        return self.now_s

    def now(self) -> datetime:
        """Wall-clock time: ``epoch`` plus the time advanced since the start."""
        return self.epoch + timedelta(seconds=self.now_s - self.start)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time does not go backwards")
        self.now_s += seconds
