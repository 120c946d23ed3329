"""The caretaker screen's rows for the Pi itself: the clock's source and state (from the
clock service's report) and the UPS (mains or battery, charge, remaining time). Pure, as
:mod:`valgkiosk.ui.status`: anything not known is ``ukjent``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from valgkiosk.core import peopletime

from .status import UKJENT, UNKNOWN, Row
from .texts import BAD, OK


class ClockReportLike(Protocol):
    """The clock service's report (valgkiosk.drivers.timesource.ClockReport)."""

    @property
    def synchronized(self) -> bool: ...
    @property
    def words(self) -> str: ...
    @property
    def checked_at(self) -> datetime: ...


class UpsReadingLike(Protocol):
    """What the UPS says (valgkiosk.core.ups.UpsReading)."""

    @property
    def on_battery(self) -> bool | None: ...
    @property
    def charge_percent(self) -> float | None: ...
    @property
    def runtime_seconds(self) -> float | None: ...


def clock_row(report: ClockReportLike | None) -> Row:
    """The clock: green while a source vouches for it, red when not, ``ukjent`` without
    a report (the clock service is not running, or its report is stale)."""
    if report is None:
        return Row("clock", "Klokke", UNKNOWN, UKJENT, "klokketjenesten har ikke rapportert")
    words = report.words[:1].upper() + report.words[1:]
    return Row("clock", "Klokke", OK if report.synchronized else BAD, words,
               f"sjekket {peopletime.clock(report.checked_at)}")


def ups_row(mains: bool | None, reading: UpsReadingLike | None) -> Row:
    """The UPS battery: charge and remaining time where the UPS reports them; red while the
    kiosk runs on it, green on mains, ``ukjent`` before the first reading."""
    from valgkiosk.core.ups import Supply, battery_words, supply

    if reading is None and mains is None:
        return Row("ups", "Batteri (UPS)", UNKNOWN, UKJENT, "leses nå")
    now = supply(mains, reading)  # type: ignore[arg-type]
    words = battery_words(reading)  # type: ignore[arg-type]
    if now is Supply.BATTERY:
        return Row("ups", "Batteri (UPS)", BAD, f"I bruk: {words}", "skriveren har ikke strøm")
    if now is Supply.MAINS:
        return Row("ups", "Batteri (UPS)", OK, f"Lader: {words}")
    return Row("ups", "Batteri (UPS)", UNKNOWN, UKJENT, words)
