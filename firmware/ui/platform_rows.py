"""The caretaker screen's rows for the Pi itself: the clock's source and state (from the
clock service's report) and the UPS (mains or battery, charge, remaining time). Pure, as
:mod:`valgkiosk.ui.status`: anything not known is ``ukjent``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from .status import BAD, OK, UKJENT, UNKNOWN, Row


class ClockReportLike(Protocol):
    """The clock service's report (valgkiosk.drivers.timesource.ClockReport)."""

    @property
    def synchronized(self) -> bool: ...
    @property
    def words(self) -> str: ...
    @property
    def checked_at(self) -> datetime: ...


def clock_row(report: ClockReportLike | None) -> Row:
    """The clock: green while a source vouches for it, red when not, ``ukjent`` without
    a report (the clock service is not running, or its report is stale)."""
    if report is None:
        return Row("clock", "Klokke", UNKNOWN, UKJENT, "klokketjenesten har ikke rapportert")
    words = report.words[:1].upper() + report.words[1:]
    return Row("clock", "Klokke", OK if report.synchronized else BAD, words,
               f"sjekket {report.checked_at.astimezone().strftime('%H:%M')}")
