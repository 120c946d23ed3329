"""The chair's numbers from the loggbok: pure functions from loggbok entries to what the
closing report and the log printout show.

The register knows the table's check-offs; everything that happened on paper or while
the register was away is only in the loggbok: emergency votes (``emergency_vote``),
manual valgkort printed (``manual_valgkort``), misregistrations (``misregistration``)
and outages (``outage_start`` … ``outage_end``). Only the given day's entries count.
Personal data in an entry (an emergency vote's manntallsnummer) never reaches the paper.

Entries are read typed (:func:`valgkiosk.core.entries.read`) and never silently dropped:
a known kind with newer keys counts as its kind; a line that does not read (a kind this
build does not know, a missing key, a value of the wrong type) is counted apart as
``unreadable``, and the closing report says so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import assert_never

from valgkiosk.core import entries as ent
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
    unreadable: int = 0  # entries that did not read as any kind: the chair looks in the loggbok


def _when(entry: Entry) -> datetime:
    return datetime.fromisoformat(entry.at)


def _typed(entries: Iterable[Entry]) -> list[tuple[datetime, ent.KnownEntry | ent.Unreadable]]:
    """Each entry's time and its typed reading."""
    return [(_when(e), ent.read(e.kind, e.data)) for e in entries]


def _stamped(stamp: str, fallback: datetime) -> datetime:
    """The time the watchdog gave (``since``/``until``, as F11 shows it), else the entry's."""
    try:
        return datetime.fromisoformat(stamp)
    except ValueError:
        return fallback


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
    for at, entry in _typed(entries):
        if isinstance(entry, ent.OutageStarted) and open_ is None:
            open_ = Outage(_stamped(entry.since, at), None, _cause(entry))
        elif isinstance(entry, ent.OutageEnded) and open_ is not None:
            found.append(Outage(open_.started, _stamped(entry.until, at), open_.cause))
            open_ = None
    if open_ is not None:
        found.append(open_)
    return tuple(found)


def _cause(entry: ent.OutageStarted) -> str:
    """The outage's cause in the routine's words, with the power sense lines."""
    return sentences.outage_cause(ent.record(entry)[1])


def _shown(number: str | None) -> str:
    number = number or ""
    return f"{number[:10]} {number[10:]}" if len(number) == 12 else (number or "ukjent")


def _flagged(at: datetime, vote: ent.EmergencyVoteRecorded,
             resolved: dict[str, tuple[datetime, str]]) -> FlaggedVote | None:
    """The vote as the chair sets it aside, if this kiosk had checked its voter off before,
    or had a check-off of the voter the register had not answered (``resolved``: what each
    such check-off came to, by request id, from the loggbok's ``checkoff_resolved``)."""
    if vote.checked_off_here:
        try:
            return FlaggedVote(at, datetime.fromisoformat(vote.checked_off_here), _shown(vote.manntallsnummer))
        except ValueError:
            pass
    if vote.unconfirmed_checkoff:
        return FlaggedVote(at, None, _shown(vote.manntallsnummer),
                           unconfirmed=_came_to(resolved.get(vote.unconfirmed_checkoff), peopletime.local_date(at)))
    return None


def _came_to(outcome: tuple[datetime, str] | None, today: date) -> str:
    """What an unconfirmed check-off came to, in words for the closing report."""
    if outcome is None:
        return "manntallet har ikke svart. Slå opp velgeren i manntallet."
    when, verdict = outcome
    if verdict == "checked_off":
        return f"manntallet krysset velgeren av {peopletime.stamp(when, today)} (samme velger)."
    return "manntallet krysset ikke av velgeren."


def flagged_votes(entries: Iterable[Entry]) -> tuple[FlaggedVote, ...]:
    """Emergency votes whose voter this kiosk had checked off electronically before
    (``krysset_av_her`` in the entry): the chair sets those envelopes aside."""
    return tally(entries).flagged_votes


def unresolved(entries: Iterable[Entry]) -> tuple[datetime, ...]:
    """When the kiosk stopped with a check-off sent but not confirmed (``voter_interrupted``)."""
    return tally(entries).unresolved


def tally(entries: Iterable[Entry]) -> Tally:
    """Count emergency votes, manual valgkort, misregistrations, outages and unreadable
    entries, and find what the chair must still see to."""
    listed = list(entries)
    votes = valgkort = misregistrations = unreadable = 0
    stopped: list[datetime] = []
    flagged: list[FlaggedVote] = []
    typed = _typed(listed)
    resolved = {e.request_id: (at, e.outcome) for at, e in typed if isinstance(e, ent.CheckoffResolved)}
    for at, entry in typed:
        match entry:
            case ent.EmergencyVoteRecorded():
                votes += 1
                if (vote := _flagged(at, entry, resolved)) is not None:
                    flagged.append(vote)
            case ent.ManualValgkortPrinted():
                valgkort += 1
            case ent.MisregistrationReported():
                misregistrations += 1
            case ent.VoterInterrupted(phase=phase):
                if phase == "avkrysning":
                    stopped.append(at)
            case ent.Unreadable():
                unreadable += 1
            case (ent.OutageStarted() | ent.OutageEnded()):
                pass  # paired by outages() below
            case (ent.KioskStarted() | ent.KioskStopped() | ent.Recovered() | ent.AlarmAcknowledged()
                  | ent.PinRefused() | ent.EmergencyStarted() | ent.EmergencyEnded() | ent.EmergencyVotesUploaded()
                  | ent.ScannerFault() | ent.PrinterFault() | ent.PowerChanged() | ent.SelftestRun()
                  | ent.CheckoffUnresolved() | ent.CheckoffResolved() | ent.ScannerConnected() | ent.PowerShutdown()
                  | ent.SmsSent() | ent.SmsFailed() | ent.SmsGivenUp() | ent.SmsDropped()):  # fmt: skip
                pass  # not in the chair's counts (the log printout has them in words)
            case _:
                assert_never(entry)
    return Tally(
        emergency_votes=votes,
        manual_valgkort=valgkort,
        misregistrations=misregistrations,
        outages=outages(listed),
        period_start=min((_when(e) for e in listed), default=None),
        unresolved=tuple(stopped),
        flagged_votes=tuple(flagged),
        unreadable=unreadable,
    )


def entry_text(entry: Entry, today: date | None = None) -> str:
    """One entry in words for the minutes (valgkiosk.core.sentences): its time on the
    people's clock and what happened, without keys, ids or personal data."""
    return sentences.sentence(entry, today)


def log_lines(entries: Iterable[Entry], today: date | None = None) -> tuple[LogEntry, ...]:
    """The entries as printed lines for :func:`valgkiosk.core.receipts.log_printout`."""
    return tuple(LogEntry(_when(e), entry_text(e, today)) for e in entries)
