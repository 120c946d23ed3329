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

from valgkiosk.core import peopletime, sentences
from valgkiosk.core.loggbok import Entry
from valgkiosk.core.receipts import FlaggedVote, LogEntry, Outage

__all__ = ["Tally", "entry_text", "flagged_votes", "log_lines", "outages", "tally", "todays", "unresolved"]


@dataclass(frozen=True, slots=True)
class Tally:
    """What the loggbok says about one day at the table."""

    emergency_votes: int = 0
    manual_valgkort: int = 0
    misregistrations: int = 0
    outages: tuple[Outage, ...] = ()
    period_start: datetime | None = None  # the first entry's time
    unresolved: tuple[datetime, ...] = ()  # check-offs the kiosk stopped in the middle of
    flagged_votes: tuple[FlaggedVote, ...] = ()  # emergency votes for voters checked off here


def _when(entry: Entry) -> datetime:
    return datetime.fromisoformat(entry.at)


def _stamped(entry: Entry, key: str) -> datetime:
    """The time the watchdog gave (``since``/``until``, as F11 shows it), else the entry's."""
    try:
        return datetime.fromisoformat(str(entry.data[key]))
    except (KeyError, ValueError):
        return _when(entry)


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
            open_ = Outage(_stamped(entry, "since"), None, _cause(entry.data))
        elif entry.kind == "outage_end" and open_ is not None:
            found.append(Outage(open_.started, _stamped(entry, "until"), open_.cause or _cause(entry.data)))
            open_ = None
    if open_ is not None:
        found.append(open_)
    return tuple(found)


def _cause(data: Mapping[str, Any]) -> str:
    """The outage's cause in the routine's words, with the power sense lines."""
    return sentences.outage_cause(data)


def flagged_votes(entries: Iterable[Entry]) -> tuple[FlaggedVote, ...]:
    """Emergency votes whose voter this kiosk had checked off electronically before
    (``krysset_av_her`` in the entry): the chair sets those envelopes aside."""
    found = []
    for e in entries:
        if e.kind != "emergency_vote" or not e.data.get("krysset_av_her"):
            continue
        try:
            checked = datetime.fromisoformat(str(e.data["krysset_av_her"]))
        except ValueError:
            continue
        number = str(e.data.get("manntallsnummer") or "")
        shown = f"{number[:10]} {number[10:]}" if len(number) == 12 else (number or "ukjent")
        found.append(FlaggedVote(_when(e), checked, shown))
    return tuple(found)


def unresolved(entries: Iterable[Entry]) -> tuple[datetime, ...]:
    """When the kiosk stopped with a check-off sent but not confirmed (``voter_interrupted``)."""
    return tuple(_when(e) for e in entries if e.kind == "voter_interrupted" and e.data.get("fase") == "avkrysning")


def tally(entries: Iterable[Entry]) -> Tally:
    """Count emergency votes, manual valgkort, misregistrations and outages, and find what
    the chair must still see to."""
    listed = list(entries)
    kinds = [e.kind for e in listed]
    return Tally(
        emergency_votes=kinds.count("emergency_vote"),
        manual_valgkort=kinds.count("manual_valgkort"),
        misregistrations=kinds.count("misregistration"),
        outages=outages(listed),
        period_start=min((_when(e) for e in listed), default=None),
        unresolved=unresolved(listed),
        flagged_votes=flagged_votes(listed),
    )


def entry_text(entry: Entry, today: date | None = None) -> str:
    """One entry in words for the minutes (valgkiosk.core.sentences): its time on the
    people's clock and what happened, without keys, ids or personal data."""
    return sentences.sentence(entry, today)


def log_lines(entries: Iterable[Entry], today: date | None = None) -> tuple[LogEntry, ...]:
    """The entries as printed lines for :func:`valgkiosk.core.receipts.log_printout`."""
    return tuple(LogEntry(_when(e), entry_text(e, today)) for e in entries)
