"""The chair's numbers from the loggbok: pure functions from loggbok entries to what the
closing report and the log printout show.

The register knows the table's check-offs; everything that happened on paper or while
the register was away is only in the loggbok: emergency votes (``emergency_vote``),
manual valgkort printed (``manual_valgkort``), misregistrations (``misregistration``)
and outages (``outage_start`` … ``outage_end``). Only the given day's entries count.
Personal data in an entry (an emergency vote's manntallsnummer) never reaches the paper.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from valgkiosk.core import peopletime
from valgkiosk.core.loggbok import Entry
from valgkiosk.core.receipts import LogEntry, Outage

__all__ = ["PERSONAL_KEYS", "Tally", "entry_text", "log_lines", "outages", "tally", "todays"]

#: Entry data keys that hold personal data: left off every printout.
PERSONAL_KEYS = frozenset({"manntallsnummer", "navn", "fodselsdato", "fødselsdato", "fodselsnummer",
                           "fødselsnummer", "adresse"})  # fmt: skip

#: Keys that may name an outage's cause, in the order they are looked for.
CAUSE_KEYS = ("årsak", "lag", "cause", "layer")


@dataclass(frozen=True, slots=True)
class Tally:
    """What the loggbok says about one day at the table."""

    emergency_votes: int = 0
    manual_valgkort: int = 0
    misregistrations: int = 0
    outages: tuple[Outage, ...] = ()


def _when(entry: Entry) -> datetime:
    return datetime.fromisoformat(entry.at)


def todays(entries: Iterable[Entry], day: date) -> list[Entry]:
    """The entries written on ``day`` (the people's date, valgkiosk.core.peopletime), oldest first."""
    return [e for e in entries if peopletime.local_date(_when(e)) == day]


def outages(entries: Iterable[Entry]) -> tuple[Outage, ...]:
    """Pairs of ``outage_start`` and the next ``outage_end``; one without an end lasts.

    A second start while one is open is the same outage (a restart in the middle of it);
    an end without a start is ignored.
    """
    found: list[Outage] = []
    open_: Outage | None = None
    for entry in entries:
        if entry.kind == "outage_start" and open_ is None:
            open_ = Outage(_when(entry), None, _cause(entry.data))
        elif entry.kind == "outage_end" and open_ is not None:
            found.append(Outage(open_.started, _when(entry), open_.cause or _cause(entry.data)))
            open_ = None
    if open_ is not None:
        found.append(open_)
    return tuple(found)


def _cause(data: Mapping[str, Any]) -> str:
    for key in CAUSE_KEYS:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def tally(entries: Iterable[Entry]) -> Tally:
    """Count emergency votes, manual valgkort, misregistrations and outages."""
    listed = list(entries)
    kinds = [e.kind for e in listed]
    return Tally(
        emergency_votes=kinds.count("emergency_vote"),
        manual_valgkort=kinds.count("manual_valgkort"),
        misregistrations=kinds.count("misregistration"),
        outages=outages(listed),
    )


def _value(value: Any) -> str:
    if value is True:
        return "ja"
    if value is False:
        return "nei"
    return str(value)


def entry_text(entry: Entry) -> str:
    """One entry in words for the minutes: its label and its details, without personal data."""
    details = ", ".join(f"{k}: {_value(v)}" for k, v in entry.data.items()
                        if k not in PERSONAL_KEYS and v not in (None, ""))  # fmt: skip
    return f"{entry.label()} ({details})" if details else entry.label()


def log_lines(entries: Iterable[Entry]) -> tuple[LogEntry, ...]:
    """The entries as printed lines for :func:`valgkiosk.core.receipts.log_printout`."""
    return tuple(LogEntry(_when(e), entry_text(e)) for e in entries)
