"""The station's emergency state: outages, the alarm, the emergency routine
(beredskapsrutine) and its votes.

Pure. The state is a fold over loggbok entries (:func:`apply`, :func:`replay`): the
loggbok is written durably before the screen confirms anything, so after a crash, a
kill -9 or a power cut the kiosk rebuilds mode, counts and pending uploads from it and
comes back exactly where it was. There is no second copy of the state to disagree with.

Every change is made by writing an entry; the entry kinds and their data are:

- ``outage_start`` ``{layer, since, diagnosis, detail, power}`` — the register is
  unreachable; the alarm sounds unless the table already runs the emergency routine;
- ``outage_end`` ``{layer, since, until, duration_s}`` — reachable again; the alarm stops;
- ``alarm_acknowledged`` — the buzzer stops, the banner stays;
- ``emergency_start`` / ``emergency_end`` — the chair's decisions (PIN confirmed);
- ``emergency_vote`` ``{vote_id, manntallsnummer, manual_valgkort}`` — one orange envelope
  in the «Beredskap» urn (the manntallsnummer is the only personal data, as the routine
  needs it to check the voter off afterwards);
- ``emergency_upload`` ``{vote_ids, accepted, repeated}`` — the register took these votes.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol, assert_never

from valgkiosk.core import entries as ent
from valgkiosk.core import peopletime

from valgkiosk.core.outage import DIAGNOSIS_NB, DetectorState, Layer, Mode
from valgkiosk.core.values import AlarmMode


class Alarm(enum.Enum):
    """The emergency-routine alarm."""

    QUIET = "quiet"
    SOUNDING = "sounding"  # buzzer and ALARM LED: tell the chair
    ACKNOWLEDGED = "acknowledged"  # someone took note: buzzer silent, banner stays


@dataclass(frozen=True, slots=True)
class EmergencyVote:
    """One emergency vote: an orange envelope put in the «Beredskap» urn at this table."""

    vote_id: str
    recorded_at: datetime
    manntallsnummer: str | None  # None: the voter had no valgkort (a manual one was written)
    manual_valgkort: bool = False


@dataclass(frozen=True, slots=True)
class OutageRecord:
    """One break in the connection to the register; ``ended_at`` is None while it lasts."""

    started_at: datetime
    layer: Layer
    ended_at: datetime | None = None
    detail: str = ""
    power: Mapping[str, bool | None] | None = None

    @property
    def diagnosis(self) -> str:
        return DIAGNOSIS_NB[self.layer]

    def duration_s(self, now: datetime) -> float:
        """How long it lasted, or has lasted until ``now``."""
        return ((self.ended_at or now) - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class StationState:
    """What the kiosk knows about outages and the emergency routine."""

    outage: OutageRecord | None = None  # the outage going on now
    alarm: Alarm = Alarm.QUIET
    emergency_since: datetime | None = None
    votes: tuple[EmergencyVote, ...] = ()  # every emergency vote at this table, oldest first
    uploaded: frozenset[str] = frozenset()  # vote ids the register has confirmed
    outages: tuple[OutageRecord, ...] = ()  # every outage of the log, the ongoing one last

    @property
    def emergency(self) -> bool:
        """True while the table runs the emergency routine."""
        return self.emergency_since is not None

    @property
    def reachable(self) -> bool:
        """False while an outage is declared."""
        return self.outage is None

    @property
    def pending(self) -> tuple[EmergencyVote, ...]:
        """The votes the register has not confirmed yet (to upload once emergency mode ends)."""
        return tuple(v for v in self.votes if v.vote_id not in self.uploaded)

    @property
    def vote_count(self) -> int:
        return len(self.votes)

    def recorded(self, manntallsnummer: str) -> EmergencyVote | None:
        """The emergency vote already recorded here for this valgkort, if any."""
        return next((v for v in self.votes if v.manntallsnummer == manntallsnummer), None)


#: The loggbok kinds this module folds; every other kind leaves the state as it is.
KINDS = frozenset({"outage_start", "outage_end", "alarm_acknowledged", "emergency_start", "emergency_end",
                   "emergency_vote", "emergency_upload"})  # fmt: skip


def _time(value: Any, fallback: datetime) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return fallback


def _layer(value: Any) -> Layer:
    try:
        return Layer[str(value)]
    except KeyError:
        return Layer.HEALTH


def apply(state: StationState, kind: str, data: Mapping[str, Any], at: datetime) -> StationState:
    """The state after one loggbok entry of ``kind`` written at ``at``."""
    return apply_entry(state, ent.parse(kind, data), at)


def apply_entry(state: StationState, entry: ent.LoggbokEntry, at: datetime) -> StationState:
    """The state after one typed loggbok entry written at ``at``."""
    match entry:
        case ent.OutageStarted():
            record = OutageRecord(_time(entry.since, at), _layer(entry.layer), detail=str(entry.detail),
                                  power=entry.power)  # fmt: skip
            alarm = Alarm.QUIET if state.emergency else Alarm.SOUNDING
            outages = state.outages
            if state.outage is not None:  # a second start without an end: close the first one
                outages = outages[:-1] + (replace(state.outage, ended_at=record.started_at),)
            return replace(state, outage=record, alarm=alarm, outages=outages + (record,))
        case ent.OutageEnded():
            if state.outage is None:
                return state
            ended = replace(state.outage, ended_at=_time(entry.until, at))
            return replace(state, outage=None, alarm=Alarm.QUIET, outages=state.outages[:-1] + (ended,))
        case ent.AlarmAcknowledged():
            return replace(state, alarm=Alarm.ACKNOWLEDGED) if state.alarm is Alarm.SOUNDING else state
        case ent.EmergencyStarted():
            if state.emergency:
                return state
            alarm = Alarm.QUIET if state.alarm is Alarm.SOUNDING else state.alarm
            return replace(state, emergency_since=at, alarm=alarm)
        case ent.EmergencyEnded():
            return replace(state, emergency_since=None)
        case ent.EmergencyVoteRecorded():
            vote_id = str(entry.vote_id or "")
            if not vote_id or any(v.vote_id == vote_id for v in state.votes):
                return state
            number = entry.manntallsnummer
            vote = EmergencyVote(vote_id, at, None if number is None else str(number), bool(entry.manual_valgkort))
            return replace(state, votes=state.votes + (vote,))
        case ent.EmergencyVotesUploaded():
            return replace(state, uploaded=state.uploaded | {str(i) for i in entry.vote_ids or ()})
        case (ent.KioskStarted() | ent.KioskStopped() | ent.Recovered() | ent.PinRefused()
              | ent.ManualValgkortPrinted() | ent.MisregistrationReported() | ent.ScannerFault()
              | ent.PrinterFault() | ent.PowerChanged() | ent.SelftestRun() | ent.CheckoffUnresolved()
              | ent.CheckoffResolved() | ent.ScannerConnected() | ent.VoterInterrupted() | ent.PowerShutdown()
              | ent.SmsSent() | ent.SmsFailed() | ent.SmsGivenUp() | ent.SmsDropped() | ent.UnknownEntry()):  # fmt: skip
            return state
        case _:
            assert_never(entry)


class EntryLike(Protocol):
    """What :func:`replay` reads of a loggbok entry (valgkiosk.core.loggbok.Entry fits)."""

    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


def replay(entries: Iterable[EntryLike]) -> StationState:
    """The state the loggbok's entries add up to (entries oldest first)."""
    state = StationState()
    for entry in entries:
        if entry.kind in KINDS:
            state = apply_entry(state, ent.of(entry), datetime.fromisoformat(entry.at))
    return state


def detector_after_restart(state: StationState) -> DetectorState:
    """Where the outage detector starts after a restart: inside the outage the loggbok
    says is going on (so that its end is logged with the right start), else fresh."""
    if state.outage is None:
        return DetectorState()
    return DetectorState(Mode.UNREACHABLE, 0, 0, state.outage.started_at, state.outage.started_at,
                         state.outage.layer)  # fmt: skip


def alarm_output(state: StationState) -> AlarmMode:
    """The ALARM LED and buzzer: sounding until acknowledged, then steady while an outage
    lasts or the table runs the emergency routine; quiet otherwise."""
    if state.alarm is Alarm.SOUNDING:
        return AlarmMode.ALARM
    if state.outage is not None or state.emergency:
        return AlarmMode.ACKNOWLEDGED
    return AlarmMode.QUIET


# -- the routine at the table, one voter at a time --------------------------------------------

#: The six steps of the emergency routine at the table (the election directorate's words).
STEPS_NB: tuple[str, ...] = (
    "Be om valgkort og legitimasjon. Skann valgkortet – har velgeren ikke valgkort, trykk M.",
    "Velgeren har ikke valgkort: fyll ut et manuelt valgkort (navn, fødselsdato, adresse).",
    "Stemple stemmeseddelen.",
    "Gi velgeren en stemmeseddelkonvolutt; velgeren legger stemmeseddelen i den og lukker den.",
    "Legg stemmeseddelkonvolutten og valgkortet i en ORANSJE beredskapskonvolutt. Kontroller at "
    "valgkortets opplysninger vises i vinduet før den lukkes.",
    "Velgeren legger den oransje konvolutten i urnen merket «Beredskap».",
)


@dataclass(frozen=True, slots=True)
class Walk:
    """One voter through the six steps. ``step`` counts from 1; a voter with a valgkort
    skips step 2. The vote is counted when step 6 is confirmed, not before."""

    step: int = 1
    manntallsnummer: str | None = None
    manual_valgkort: bool = False

    @property
    def started(self) -> bool:
        return self.step > 1

    def with_valgkort(self, manntallsnummer: str) -> Walk:
        """Step 1 done with a scanned valgkort: on to stamping (step 3)."""
        return Walk(3, manntallsnummer, False)

    def without_valgkort(self) -> Walk:
        """Step 1 done without a valgkort: a manual one is written (step 2)."""
        return Walk(2, None, True)

    def next(self) -> Walk:
        """The current step is done."""
        return replace(self, step=min(self.step + 1, len(STEPS_NB)))

    @property
    def last_step(self) -> bool:
        return self.step == len(STEPS_NB)


def duration_nb(seconds: float) -> str:
    """``45 s``, ``3 min 20 s``, ``1 t 5 min``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} t {(s % 3600) // 60} min"


def checked_off_here_nb(checked_off_at: datetime) -> str:
    """The warning for a valgkort this kiosk had checked off electronically before the routine."""
    return (f"Denne velgeren ble krysset av elektronisk ved dette bordet {peopletime.clock(checked_off_at)}. "
            "Si fra til stemmestyrets leder. Fullføres stemmen, føres den i loggboken, og konvolutten "
            "legges til side for valgstyret (står på avslutningsrapporten).")


def already_recorded_nb(vote: EmergencyVote) -> str:
    """The message for a valgkort scanned twice during the emergency routine."""
    when = peopletime.clock(vote.recorded_at)
    return (f"Dette valgkortet er allerede registrert som beredskapsstemme ved dette bordet {when}. "
            "Velgeren skal ikke stemme på nytt her: kontakt stemmestyrets leder.")
