"""The check-off flow at one table, as a pure state machine.

``step(state, event) -> (state, effects)``: no I/O, no clock reads. Every event that
depends on time carries ``at`` (seconds on the shell's monotonic clock); the shell
sends :class:`Tick` events so that timeouts can fire, makes the request ids, carries out
the effects through the ports and feeds the answers back as events.

The flow: idle → scanned (validated here first: an invalid barcode or a card from
another election is answered at once, without the register) → looking up → confirming
(name and date of birth shown; one key confirms) → checking off → outcome shown →
personal data cleared after a timeout or at the next scan.

A check-off whose answer never came (unreachable, timeout, 5xx, nonsense) is *uncertain*:
the kiosk asks again with the same request id until the register answers, and shows
nothing final before that. The register makes a retry with the same id idempotent, so
a voter is never recorded twice. The clerk is never trapped by it: Esc leaves the screen
and the check-off goes on in the background (:class:`Unresolved`, same request id) until
the register answers, and the clerk is told then whether the voter was checked off.

Transitions are a table keyed by (phase, event type). An event with no entry is
illegal: :func:`step` raises :class:`IllegalTransition` and the state is unchanged
(states are immutable, so "unchanged" is free).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Union

from valgkiosk.core import entries
from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.core.receipts import ValgkortReason
from valgkiosk.core.values import (
    Misregistration,
    SearchQuery,
    SearchResult,
    Verdict,
    Voter,
    VoterStatus,
)

# -- settings ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timings:
    """Every delay the kiosk uses, in seconds, in one place."""

    personal_data: float = 15.0  # an outcome with a voter's details stays this long
    confirm: float = 60.0  # the confirm, search and report screens wait this long
    duplicate_window: float = 1.0  # the same card again within this is ignored
    retry_interval: float = 2.0  # wait before asking an unanswered check-off again
    register_timeout: float = 3.0  # the register adapter gives up on a call after this
    tick: float = 0.25  # how often the shell sends Tick


@dataclass(frozen=True, slots=True)
class Settings:
    """What the flow needs to know about its table."""

    election_year: int
    reported_by: str = "Avkrysser"
    timings: Timings = field(default_factory=Timings)


# -- states ------------------------------------------------------------------------------


class Phase(enum.Enum):
    """Where the flow is."""

    IDLE = "idle"
    LOOKING_UP = "looking_up"
    CONFIRMING = "confirming"
    CHECKING_OFF = "checking_off"
    UNCERTAIN = "uncertain"  # a check-off went unanswered; waiting to ask again
    OUTCOME = "outcome"
    SEARCH = "search"
    SEARCHING = "searching"
    CONFIRM_MISREGISTRATION = "confirm_misregistration"
    REPORTING_MISREGISTRATION = "reporting_misregistration"
    CHOOSING_VALGKORT = "choosing_valgkort"  # the clerk picks why a manual valgkort is printed


class Outcome(enum.Enum):
    """What the clerk is told at the end of a scan, a search or a report."""

    CHECKED_OFF = "checked_off"
    ALREADY_VOTED = "already_voted"
    NOT_IN_REGISTER = "not_in_register"
    OTHER_STATION = "other_station"
    OTHER_MUNICIPALITY = "other_municipality"
    INVALID_BARCODE = "invalid_barcode"
    OTHER_ELECTION = "other_election"
    LOOKUP_FAILED = "lookup_failed"
    CHECKOFF_REFUSED = "checkoff_refused"
    MISREGISTRATION_REPORTED = "misregistration_reported"
    MISREGISTRATION_FAILED = "misregistration_failed"


_VERDICT_OUTCOME = {
    Verdict.CHECKED_OFF: Outcome.CHECKED_OFF,
    Verdict.ALREADY_VOTED: Outcome.ALREADY_VOTED,
    Verdict.NOT_IN_REGISTER: Outcome.NOT_IN_REGISTER,
    Verdict.OTHER_STATION: Outcome.OTHER_STATION,
    Verdict.OTHER_MUNICIPALITY: Outcome.OTHER_MUNICIPALITY,
}

#: Phases in which a voter's personal data may be on screen.
PERSONAL_PHASES = frozenset(
    {
        Phase.CONFIRMING,
        Phase.CHECKING_OFF,
        Phase.UNCERTAIN,
        Phase.OUTCOME,
        Phase.SEARCH,
        Phase.SEARCHING,
        Phase.CONFIRM_MISREGISTRATION,
        Phase.CHOOSING_VALGKORT,
    }
)
#: Phases waiting for the register; a scan then is not used.
BUSY_PHASES = frozenset(
    {
        Phase.LOOKING_UP,
        Phase.CHECKING_OFF,
        Phase.UNCERTAIN,
        Phase.SEARCHING,
        Phase.REPORTING_MISREGISTRATION,
    }
)


@dataclass(frozen=True, slots=True)
class Failure:
    """A register failure as the core sees it: its kind and a Norwegian message.
    ``definite`` is True when nothing can have been recorded (a refusal)."""

    kind: str
    message: str
    definite: bool = False
    code: str = ""


@dataclass(frozen=True, slots=True)
class LastCheckoff:
    """The most recent check-off at this table, kept for a misregistration report.
    Holds no name: it is never shown after the outcome has been cleared."""

    manntallsnummer: str
    request_id: str
    checked_off_at: datetime | None
    misregistration_logged: bool = False  # a second report of it is not a second loggbok entry


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A check-off the clerk left before the register answered it (Esc, or the chair's F5
    during an outage). It is asked again in the background with the same request id until
    the register answers; until then the screen says it is not confirmed. Holds no name."""

    request_id: str
    manntallsnummer: str
    attempts: int  # unanswered attempts so far
    retry_at: float | None  # None while a request is on its way


@dataclass(frozen=True, slots=True)
class State:
    """The whole flow's state. Immutable; :func:`step` returns a new one."""

    settings: Settings
    phase: Phase = Phase.IDLE
    # always kept
    scanner_connected: bool = True
    scanner_detail: str = ""
    count_today: int | None = None
    last_scan: tuple[str, float] | None = None
    ticket: int = 0
    last_checkoff: LastCheckoff | None = None
    unresolved: tuple[Unresolved, ...] = ()  # check-offs asked again in the background
    # the voter in hand (personal data)
    manntallsnummer: str | None = None
    status: VoterStatus | None = None
    outcome: Outcome | None = None
    problem: str = ""  # Norwegian text for an invalid card or a failure
    request_id: str | None = None
    attempts: int = 0  # unanswered check-off attempts so far
    failure: Failure | None = None
    deadline: float | None = None  # personal data leaves the screen at this time
    retry_at: float | None = None
    search_hits: tuple[Voter, ...] = ()
    search_truncated: bool = False
    search_done: bool = False
    search_error: str = ""
    misregistration: Misregistration | None = None
    valgkort_return: Phase | None = None  # where choosing a valgkort reason goes back to

    @property
    def shows_personal_data(self) -> bool:
        return self.phase in PERSONAL_PHASES


def initial_state(settings: Settings) -> State:
    """The state at start-up: idle, count unknown."""
    return State(settings=settings)


# -- events ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scanned:
    """The scanner (or the sim keyboard) delivered a complete scan."""

    text: str
    at: float


@dataclass(frozen=True, slots=True)
class Confirm:
    """The clerk confirmed the check-off; the shell made ``request_id``."""

    request_id: str
    at: float


@dataclass(frozen=True, slots=True)
class Cancel:
    """The clerk went back to idle (personal data leaves the screen)."""

    at: float


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passed."""

    at: float


@dataclass(frozen=True, slots=True)
class ScannerChanged:
    """The scanner was plugged in or pulled out."""

    connected: bool
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CountsAnswered:
    """The register's count of this table's check-offs."""

    checkoffs: int


@dataclass(frozen=True, slots=True)
class LookupAnswered:
    ticket: int
    status: VoterStatus
    at: float


@dataclass(frozen=True, slots=True)
class LookupFailed:
    ticket: int
    failure: Failure
    at: float


@dataclass(frozen=True, slots=True)
class CheckoffAnswered:
    request_id: str
    status: VoterStatus
    at: float


@dataclass(frozen=True, slots=True)
class CheckoffFailed:
    request_id: str
    failure: Failure
    at: float


@dataclass(frozen=True, slots=True)
class StartSearch:
    """The voter has no valgkort: open the search."""

    at: float


@dataclass(frozen=True, slots=True)
class SubmitSearch:
    query: SearchQuery
    at: float
    #: what the form found wrong with a typed date of birth (a date that does not exist,
    #: one in the future); the query then has no date
    born_problem: str = ""


@dataclass(frozen=True, slots=True)
class SearchAnswered:
    ticket: int
    result: SearchResult
    at: float


@dataclass(frozen=True, slots=True)
class SearchFailed:
    ticket: int
    failure: Failure
    at: float


@dataclass(frozen=True, slots=True)
class Pick:
    """The clerk picked hit number ``index`` of the search."""

    index: int
    at: float


@dataclass(frozen=True, slots=True)
class StartMisregistration:
    """The clerk wants to report that the last check-off was the wrong person."""

    at: float


@dataclass(frozen=True, slots=True)
class ConfirmMisregistration:
    at: float


@dataclass(frozen=True, slots=True)
class MisregistrationAnswered:
    ticket: int
    misregistration: Misregistration
    at: float


@dataclass(frozen=True, slots=True)
class MisregistrationFailed:
    ticket: int
    failure: Failure
    at: float


# the manual valgkort from the register (issue 5)


@dataclass(frozen=True, slots=True)
class StartManualValgkort:
    """The clerk wants a manual valgkort for the voter on screen."""

    at: float


@dataclass(frozen=True, slots=True)
class ChooseValgkortReason:
    """The clerk picked why the manual valgkort is printed."""

    reason: ValgkortReason
    at: float


Event = Union[
    Scanned, Confirm, Cancel, Tick, ScannerChanged, CountsAnswered,
    LookupAnswered, LookupFailed, CheckoffAnswered, CheckoffFailed,
    StartSearch, SubmitSearch, SearchAnswered, SearchFailed, Pick,
    StartMisregistration, ConfirmMisregistration, MisregistrationAnswered, MisregistrationFailed,
    StartManualValgkort, ChooseValgkortReason,
]  # fmt: skip

# -- effects -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AskLookup:
    ticket: int
    manntallsnummer: str


@dataclass(frozen=True, slots=True)
class AskCheckoff:
    request_id: str
    manntallsnummer: str
    attempt: int  # 1 for the first ask, 2 for the first retry...


@dataclass(frozen=True, slots=True)
class AskSearch:
    ticket: int
    query: SearchQuery


@dataclass(frozen=True, slots=True)
class AskMisregistration:
    ticket: int
    manntallsnummer: str
    reported_by: str
    note: str


@dataclass(frozen=True, slots=True)
class AskCounts:
    pass


@dataclass(frozen=True, slots=True)
class ShowVerdict:
    """An outcome is now on screen (the moment a scan-to-verdict time ends)."""

    outcome: Outcome


@dataclass(frozen=True, slots=True)
class ClearPersonalData:
    """A voter's details must leave the screen now."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    """A line for the log; never carries names or numbers of voters."""

    level: str  # "info" | "warning" | "error"
    message: str


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """An entry for the loggbok (durable, for the chair); never names, only ids and facts."""

    entry: entries.LoggbokEntry


@dataclass(frozen=True, slots=True)
class Notice:
    """A short message for the clerk that does not change the screen."""

    text: str


@dataclass(frozen=True, slots=True)
class PrintManualValgkort:
    """Print a manual valgkort for ``voter`` (from the register) for ``reason``."""

    voter: Voter
    reason: ValgkortReason


Effect = Union[
    AskLookup, AskCheckoff, AskSearch, AskMisregistration, AskCounts,
    ShowVerdict, ClearPersonalData, LogEntry, JournalEntry, Notice, PrintManualValgkort,
]  # fmt: skip


class IllegalTransition(Exception):
    """An event that the current phase does not accept."""

    def __init__(self, phase: Phase, event: object) -> None:
        super().__init__(f"{type(event).__name__} is not allowed in phase {phase.value}")
        self.phase, self.event = phase, event


# -- helpers -----------------------------------------------------------------------------

Result = tuple[State, list[Effect]]
MISREGISTRATION_NOTE = "Feil person krysset av"
BUSY_NOTICE = "Skanningen ble ikke brukt: kiosken venter på manntallet. Skann på nytt etterpå."
#: A confirm screen whose time ran out: the clerk must not let the ballot into the urn.
CONFIRM_TIMED_OUT = ("✖ IKKE KRYSSET AV: tiden gikk ut før avkrysningen ble bekreftet. Ikke stemple. "
                     "Skann valgkortet på nytt.")
RESOLVED_CHECKED_OFF = ("✔ Den ubekreftede avkrysningen er nå bekreftet: velgeren ER krysset av i manntallet. "
                        "Varsle stemmestyrets leder.")
RESOLVED_NOT_CHECKED_OFF = ("! Den ubekreftede avkrysningen ble ikke registrert: velgeren er IKKE krysset av "
                            "({why}). Varsle stemmestyrets leder.")
MISREGISTRATION_LEFT = ("! Feilregistreringen ble ikke bekreftet av manntallet. Meld den på nytt (F4) når "
                        "manntallet svarer, og varsle stemmestyrets leder.")


_PERSONAL_DEFAULTS: dict[str, object] = dict(
    manntallsnummer=None,
    status=None,
    outcome=None,
    problem="",
    request_id=None,
    attempts=0,
    failure=None,
    deadline=None,
    retry_at=None,
    search_hits=(),
    search_truncated=False,
    search_done=False,
    search_error="",
    misregistration=None,
    valgkort_return=None,
)


def _cleared(s: State, phase: Phase, **changes: object) -> State:
    """``s`` in ``phase`` with every piece of personal data dropped."""
    return replace(s, phase=phase, **{**_PERSONAL_DEFAULTS, **changes})  # type: ignore[arg-type]


def _clear_effects(s: State) -> list[Effect]:
    return [ClearPersonalData()] if s.shows_personal_data else []


def _show(s: State, outcome: Outcome, at: float, **changes: Any) -> Result:
    """Show ``outcome``; personal data leaves the screen after the timeout."""
    new = replace(s, phase=Phase.OUTCOME, outcome=outcome, deadline=at + s.settings.timings.personal_data,
                  retry_at=None, **changes)  # fmt: skip
    return new, [ShowVerdict(outcome)]


# -- handlers ----------------------------------------------------------------------------


def _on_scan(s: State, e: Scanned) -> Result:
    text = e.text.strip()
    if s.last_scan is not None:
        last_text, last_at = s.last_scan
        if text == last_text and 0 <= e.at - last_at < s.settings.timings.duplicate_window:
            return replace(s, last_scan=(text, e.at)), [LogEntry("info", "Dobbel skanning ignorert.")]
    s = replace(s, last_scan=(text, e.at))
    if s.phase in BUSY_PHASES:
        return s, [Notice(BUSY_NOTICE), LogEntry("info", "Skanning ignorert: venter på manntallet.")]
    effects = _clear_effects(s)
    base = _cleared(s, Phase.IDLE)
    try:
        number = mnr.parse(text, election_year=s.settings.election_year)
    except mnr.InvalidManntallsnummer as exc:
        outcome = (
            Outcome.OTHER_ELECTION if exc.problem is mnr.Problem.OTHER_ELECTION else Outcome.INVALID_BARCODE
        )
        new, shown = _show(base, outcome, e.at, problem=str(exc))
        return new, effects + shown + [LogEntry("info", f"Skanning avvist på kiosken: {exc.problem.value}.")]
    ticket = s.ticket + 1
    new = replace(base, phase=Phase.LOOKING_UP, ticket=ticket, manntallsnummer=number.digits)
    return new, effects + [AskLookup(ticket, number.digits)]


def _on_lookup_answered(s: State, e: LookupAnswered) -> Result:
    _check_ticket(s, e, e.ticket)
    status = e.status
    if status.verdict is Verdict.READY and status.voter is not None:
        new = replace(s, phase=Phase.CONFIRMING, status=status,
                      deadline=e.at + s.settings.timings.confirm)  # fmt: skip
        return new, []
    outcome = _VERDICT_OUTCOME.get(status.verdict)
    if outcome is None or outcome is Outcome.CHECKED_OFF:
        # "ready" without a voter, or "checked_off" from a read-only lookup: nonsense.
        failure = Failure("nonsense", "Manntallet ga et svar kiosken ikke forstår.")
        return _on_lookup_failed(s, LookupFailed(e.ticket, failure, e.at))
    new, effects = _show(s, outcome, e.at, status=status)
    return new, effects + [LogEntry("info", f"Oppslag: {status.verdict.value}.")]


def _on_lookup_failed(s: State, e: LookupFailed) -> Result:
    _check_ticket(s, e, e.ticket)
    f = e.failure
    if f.code == "other_election":
        return _show(s, Outcome.OTHER_ELECTION, e.at, problem=f.message)
    if f.code == "invalid_manntallsnummer":
        return _show(s, Outcome.INVALID_BARCODE, e.at, problem=f.message)
    new, effects = _show(s, Outcome.LOOKUP_FAILED, e.at, failure=f, problem=f.message)
    return new, effects + [LogEntry("warning", f"Oppslag feilet ({f.kind}): {f.message}")]


def _on_confirm(s: State, e: Confirm) -> Result:
    assert s.manntallsnummer is not None
    new = replace(s, phase=Phase.CHECKING_OFF, request_id=e.request_id, attempts=0, failure=None,
                  deadline=None)  # fmt: skip
    return new, [
        AskCheckoff(e.request_id, s.manntallsnummer, 1),
        LogEntry("info", f"Avkrysning sendt (forespørsel {e.request_id})."),
    ]


def _on_checkoff_answered(s: State, e: CheckoffAnswered) -> Result:
    _check_request(s, e.request_id, e)
    status = e.status
    outcome = _VERDICT_OUTCOME.get(status.verdict)
    if outcome is None:  # "ready" is no answer to a check-off
        failure = Failure("nonsense", "Manntallet ga et svar kiosken ikke forstår.")
        return _on_checkoff_failed(s, CheckoffFailed(e.request_id, failure, e.at))
    assert s.request_id is not None and s.manntallsnummer is not None
    log = LogEntry("info", f"Avkrysning besvart: {status.verdict.value} (forespørsel {s.request_id}, "
                           f"forsøk {s.attempts + 1}).")  # fmt: skip
    if outcome is Outcome.CHECKED_OFF:
        last = LastCheckoff(
            s.manntallsnummer, s.request_id, status.checkoff.checked_off_at if status.checkoff else None
        )
        count = None if s.count_today is None else s.count_today + 1
        new, effects = _show(s, outcome, e.at, status=status, last_checkoff=last, count_today=count)
        return new, effects + [log, AskCounts()]
    new, effects = _show(s, outcome, e.at, status=status)
    return new, effects + [log]


def _on_checkoff_failed(s: State, e: CheckoffFailed) -> Result:
    _check_request(s, e.request_id, e)
    f = e.failure
    if f.definite:
        new, effects = _show(s, Outcome.CHECKOFF_REFUSED, e.at, failure=f, problem=f.message)
        return new, effects + [LogEntry("error", f"Avkrysning avvist ({f.code or f.kind}): {f.message}")]
    attempts = s.attempts + 1
    new = replace(s, phase=Phase.UNCERTAIN, attempts=attempts, failure=f,
                  retry_at=e.at + s.settings.timings.retry_interval)  # fmt: skip
    return new, [
        LogEntry("warning", f"Avkrysning ubesvart ({f.kind}, forsøk {attempts}, forespørsel {s.request_id}): "
                            f"{f.message}")  # fmt: skip
    ]


def _on_tick(s: State, e: Tick) -> Result:
    s, background = _retry_unresolved(s, e.at)
    if s.phase is Phase.UNCERTAIN and s.retry_at is not None and e.at >= s.retry_at:
        assert s.request_id is not None and s.manntallsnummer is not None
        new = replace(s, phase=Phase.CHECKING_OFF, retry_at=None)
        return new, background + [AskCheckoff(s.request_id, s.manntallsnummer, s.attempts + 1)]
    if s.deadline is not None and e.at >= s.deadline and s.phase not in BUSY_PHASES:
        effects: list[Effect] = [ClearPersonalData()]
        if s.phase is Phase.CONFIRMING or (s.phase is Phase.CHOOSING_VALGKORT
                                          and s.valgkort_return is Phase.CONFIRMING):
            effects += [Notice(CONFIRM_TIMED_OUT), LogEntry("info", "Bekreftelsen gikk ut på tid: ikke krysset av.")]
        return _cleared(s, Phase.IDLE), background + effects
    return s, background


def _retry_unresolved(s: State, at: float) -> Result:
    """Ask again every background check-off whose retry time has come."""
    if not any(u.retry_at is not None and at >= u.retry_at for u in s.unresolved):
        return s, []
    effects: list[Effect] = []
    kept = []
    for u in s.unresolved:
        if u.retry_at is not None and at >= u.retry_at:
            effects.append(AskCheckoff(u.request_id, u.manntallsnummer, u.attempts + 1))
            u = replace(u, retry_at=None)
        kept.append(u)
    return replace(s, unresolved=tuple(kept)), effects


def _unresolved(s: State, request_id: str) -> Unresolved | None:
    return next((u for u in s.unresolved if u.request_id == request_id), None)


def _without(s: State, request_id: str) -> tuple[Unresolved, ...]:
    return tuple(u for u in s.unresolved if u.request_id != request_id)


def _on_leave_checkoff(s: State, e: Cancel) -> Result:
    """The clerk leaves a check-off the register has not answered: it goes on in the
    background with the same request id, and nothing is shown as done."""
    assert s.request_id is not None and s.manntallsnummer is not None
    in_flight = s.phase is Phase.CHECKING_OFF
    left = Unresolved(s.request_id, s.manntallsnummer, s.attempts, None if in_flight else (s.retry_at or e.at))
    new = _cleared(s, Phase.IDLE, unresolved=s.unresolved + (left,))
    return new, [
        ClearPersonalData(),  # (no notice: every screen's unresolved line says it until the answer comes)
        LogEntry("warning", f"Avkrysning ikke bekreftet, spørres videre i bakgrunnen (forespørsel {s.request_id})."),
        JournalEntry(entries.CheckoffUnresolved(s.request_id, s.attempts)),
    ]


def _on_checkoff_answer(s: State, e: CheckoffAnswered) -> Result:
    """An answer to the check-off on screen, or to one left in the background."""
    if s.phase is Phase.CHECKING_OFF and e.request_id == s.request_id:
        return _on_checkoff_answered(s, e)
    u = _unresolved(s, e.request_id)
    if u is None or u.retry_at is not None:
        raise IllegalTransition(s.phase, e)
    status = e.status
    outcome = _VERDICT_OUTCOME.get(status.verdict)
    if outcome is None:  # "ready" is no answer to a check-off
        failure = Failure("nonsense", "Manntallet ga et svar kiosken ikke forstår.")
        return _on_checkoff_failure(s, CheckoffFailed(e.request_id, failure, e.at))
    rest = _without(s, e.request_id)
    resolved = JournalEntry(entries.CheckoffResolved(u.request_id, status.verdict.value))
    log = LogEntry("info", f"Avkrysning i bakgrunnen besvart: {status.verdict.value} (forespørsel {u.request_id}).")
    if outcome is Outcome.CHECKED_OFF:
        when = status.checkoff.checked_off_at if status.checkoff else None
        last = s.last_checkoff
        if last is None or (when is not None and last.checked_off_at is not None and when > last.checked_off_at):
            last = LastCheckoff(u.manntallsnummer, u.request_id, when)
        count = None if s.count_today is None else s.count_today + 1
        new = replace(s, unresolved=rest, last_checkoff=last, count_today=count)
        return new, [Notice(RESOLVED_CHECKED_OFF), log, resolved, AskCounts()]
    why = {Outcome.ALREADY_VOTED: "velgeren har stemt før", Outcome.NOT_IN_REGISTER: "ikke i manntallet",
           Outcome.OTHER_STATION: "velgeren hører til et annet valglokale",
           Outcome.OTHER_MUNICIPALITY: "velgeren hører til en annen kommune"}.get(outcome, status.verdict.value)
    return replace(s, unresolved=rest), [Notice(RESOLVED_NOT_CHECKED_OFF.format(why=why)), log, resolved]


def _on_checkoff_failure(s: State, e: CheckoffFailed) -> Result:
    """A failure of the check-off on screen, or of one left in the background."""
    if s.phase is Phase.CHECKING_OFF and e.request_id == s.request_id:
        return _on_checkoff_failed(s, e)
    u = _unresolved(s, e.request_id)
    if u is None or u.retry_at is not None:
        raise IllegalTransition(s.phase, e)
    f = e.failure
    if f.definite:
        resolved = JournalEntry(entries.CheckoffResolved(u.request_id, "refused"))
        return replace(s, unresolved=_without(s, e.request_id)), [
            Notice(RESOLVED_NOT_CHECKED_OFF.format(why=f"manntallet avviste den: {f.message}")),
            LogEntry("error", f"Avkrysning i bakgrunnen avvist ({f.code or f.kind}): {f.message}"), resolved]
    again = replace(u, attempts=u.attempts + 1, retry_at=e.at + s.settings.timings.retry_interval)
    kept = tuple(again if x.request_id == u.request_id else x for x in s.unresolved)
    return replace(s, unresolved=kept), [
        LogEntry("warning", f"Avkrysning i bakgrunnen ubesvart ({f.kind}, forsøk {again.attempts}, "
                            f"forespørsel {u.request_id}).")]  # fmt: skip


def _on_leave_misregistration(s: State, e: Cancel) -> Result:
    """The clerk leaves a misregistration report the register has not answered."""
    return _cleared(s, Phase.IDLE), [Notice(MISREGISTRATION_LEFT),
                                     LogEntry("warning", "Feilregistrering forlatt uten svar fra manntallet.")]


def _on_cancel(s: State, e: Cancel) -> Result:
    return _cleared(s, Phase.IDLE), _clear_effects(s)


def _on_scanner(s: State, e: ScannerChanged) -> Result:
    if e.connected == s.scanner_connected and e.detail == s.scanner_detail:
        return s, []
    new = replace(s, scanner_connected=e.connected, scanner_detail=e.detail)
    if e.connected == s.scanner_connected:
        return new, []
    text = "Skanneren er tilkoblet." if e.connected else "Skanneren er frakoblet."
    return new, [
        LogEntry("info" if e.connected else "warning", f"{text} {e.detail}".strip()),
        JournalEntry(entries.ScannerConnected(e.detail or None) if e.connected
                     else entries.ScannerFault(False, e.detail)),  # a replug is a reconnect, not a fault
    ]


def _on_counts(s: State, e: CountsAnswered) -> Result:
    return replace(s, count_today=e.checkoffs), []


def _on_start_search(s: State, e: StartSearch) -> Result:
    new = _cleared(s, Phase.SEARCH, deadline=e.at + s.settings.timings.confirm)
    return new, _clear_effects(s)


def search_problem(q: SearchQuery, *, born_problem: str = "") -> str:
    """Why a search cannot be sent (Norwegian), or "" when it can. ``born_problem``: what
    the form found wrong with the date of birth typed in."""
    if q.fodselsnummer is not None:
        if q.navn or q.fodselsdato:
            return "Søk enten på fødselsnummer, eller på navn og fødselsdato."
        digits = q.fodselsnummer.replace(" ", "")
        if not (digits.isascii() and digits.isdigit() and len(digits) == 11):
            return "Fødselsnummeret må ha 11 sifre."
        return ""
    if not q.navn or len(q.navn.strip()) < 2:
        return "Skriv navnet (minst to bokstaver) og fødselsdatoen, eller fødselsnummeret."
    if q.fodselsdato is None:
        return born_problem or "Skriv fødselsdatoen (DD.MM.ÅÅÅÅ)."
    return ""


def _on_submit_search(s: State, e: SubmitSearch) -> Result:
    problem = search_problem(e.query, born_problem=e.born_problem)
    if problem:
        return replace(s, search_error=problem, deadline=e.at + s.settings.timings.confirm), []
    ticket = s.ticket + 1
    new = replace(s, phase=Phase.SEARCHING, ticket=ticket, search_error="", search_hits=(),
                  search_done=False, deadline=None)  # fmt: skip
    return new, [AskSearch(ticket, e.query)]


def _on_search_answered(s: State, e: SearchAnswered) -> Result:
    _check_ticket(s, e, e.ticket)
    hits = e.result.hits
    new = replace(s, phase=Phase.SEARCH, search_hits=hits, search_truncated=e.result.truncated,
                  search_done=True, search_error="" if hits else "Ingen treff i manntallet.",
                  deadline=e.at + s.settings.timings.confirm)  # fmt: skip
    return new, []


def _on_search_failed(s: State, e: SearchFailed) -> Result:
    _check_ticket(s, e, e.ticket)
    new = replace(s, phase=Phase.SEARCH, search_error=e.failure.message,
                  deadline=e.at + s.settings.timings.confirm)  # fmt: skip
    return new, [LogEntry("warning", f"Søk feilet ({e.failure.kind}): {e.failure.message}")]


def _on_pick(s: State, e: Pick) -> Result:
    if not 0 <= e.index < len(s.search_hits):
        raise IllegalTransition(s.phase, e)
    voter = s.search_hits[e.index]
    ticket = s.ticket + 1
    new = _cleared(s, Phase.LOOKING_UP, ticket=ticket, manntallsnummer=voter.manntallsnummer)
    return new, [AskLookup(ticket, voter.manntallsnummer)]


def _on_start_misregistration(s: State, e: StartMisregistration) -> Result:
    if s.last_checkoff is None:
        raise IllegalTransition(s.phase, e)
    new = _cleared(s, Phase.CONFIRM_MISREGISTRATION, deadline=e.at + s.settings.timings.confirm)
    return new, _clear_effects(s)


def _on_confirm_misregistration(s: State, e: ConfirmMisregistration) -> Result:
    assert s.last_checkoff is not None
    ticket = s.ticket + 1
    new = replace(s, phase=Phase.REPORTING_MISREGISTRATION, ticket=ticket, deadline=None)
    return new, [
        AskMisregistration(ticket, s.last_checkoff.manntallsnummer, s.settings.reported_by, MISREGISTRATION_NOTE)
    ]


def _on_misregistration_answered(s: State, e: MisregistrationAnswered) -> Result:
    _check_ticket(s, e, e.ticket)
    new, effects = _show(s, Outcome.MISREGISTRATION_REPORTED, e.at, misregistration=e.misregistration)
    last = s.last_checkoff
    assert last is not None
    m = e.misregistration
    if last.misregistration_logged:  # reported again: one misregistration, one loggbok entry
        return new, effects + [LogEntry("info", f"Feilregistrering for avkrysning {last.request_id} meldt på nytt; "
                                                "allerede ført i loggboken.")]  # fmt: skip
    new = replace(new, last_checkoff=replace(last, misregistration_logged=True))
    return new, effects + [
        LogEntry("warning", f"Feilregistrering meldt for avkrysning {last.request_id}."),
        JournalEntry(entries.MisregistrationReported(last.request_id, m.reported_at.isoformat(), m.reported_by)),
    ]


def _on_misregistration_failed(s: State, e: MisregistrationFailed) -> Result:
    _check_ticket(s, e, e.ticket)
    new, effects = _show(s, Outcome.MISREGISTRATION_FAILED, e.at, failure=e.failure, problem=e.failure.message)
    return new, effects + [LogEntry("error", f"Feilregistrering ikke meldt ({e.failure.kind}): {e.failure.message}")]


# -- the manual valgkort from the register (issue 5) ---------------------------------------

#: The reasons a clerk can pick when the register found the voter (the emergency
#: routine's typed valgkort is the emergency screen's).
REGISTER_VALGKORT_REASONS = (ValgkortReason.NO_VALGKORT, ValgkortReason.SPECIAL_VOTE, ValgkortReason.SAMI)


def _valgkort_deadline(s: State, phase: Phase, at: float) -> float:
    t = s.settings.timings
    return at + (t.personal_data if phase is Phase.OUTCOME else t.confirm)


def _on_start_valgkort(s: State, e: StartManualValgkort) -> Result:
    if s.status is None or s.status.voter is None:
        raise IllegalTransition(s.phase, e)  # nobody from the register on screen
    new = replace(s, phase=Phase.CHOOSING_VALGKORT, valgkort_return=s.phase,
                  deadline=e.at + s.settings.timings.confirm)  # fmt: skip
    return new, []


def _back_from_valgkort(s: State, at: float) -> State:
    back = s.valgkort_return or Phase.IDLE
    return replace(s, phase=back, valgkort_return=None, deadline=_valgkort_deadline(s, back, at))


def _on_choose_valgkort_reason(s: State, e: ChooseValgkortReason) -> Result:
    if e.reason not in REGISTER_VALGKORT_REASONS:
        raise IllegalTransition(s.phase, e)
    assert s.status is not None and s.status.voter is not None
    return _back_from_valgkort(s, e.at), [
        PrintManualValgkort(s.status.voter, e.reason),
        LogEntry("info", f"Manuelt valgkort bestilt ({e.reason.name})."),
    ]


def _on_cancel_valgkort(s: State, e: Cancel) -> Result:
    return _back_from_valgkort(s, e.at), []


def _check_ticket(s: State, e: object, ticket: int) -> None:
    if ticket != s.ticket:
        raise IllegalTransition(s.phase, e)


def _check_request(s: State, request_id: str, e: object) -> None:
    if request_id != s.request_id:
        raise IllegalTransition(s.phase, e)


# -- the table ---------------------------------------------------------------------------

P = Phase
_ALL = tuple(Phase)
_SCAN_PHASES = _ALL  # busy phases answer a scan with a notice
#: Esc leaves every phase but idle; a lookup or search is read-only, so leaving it loses nothing.
_CANCEL_PHASES = (P.CONFIRMING, P.OUTCOME, P.SEARCH, P.CONFIRM_MISREGISTRATION, P.LOOKING_UP, P.SEARCHING)
_SEARCH_FROM = (P.IDLE, P.OUTCOME)
_MISREG_FROM = (P.IDLE, P.OUTCOME)
_VALGKORT_FROM = (P.CONFIRMING, P.OUTCOME)

#: the table's key says which event type each handler takes
Handler = Callable[[State, Any], Result]

TRANSITIONS: dict[tuple[Phase, type], Handler] = {
    **{(p, Scanned): _on_scan for p in _SCAN_PHASES},
    **{(p, Tick): _on_tick for p in _ALL},
    **{(p, ScannerChanged): _on_scanner for p in _ALL},
    **{(p, CountsAnswered): _on_counts for p in _ALL},
    **{(p, Cancel): _on_cancel for p in _CANCEL_PHASES},
    **{(p, Cancel): _on_leave_checkoff for p in (P.CHECKING_OFF, P.UNCERTAIN)},
    (P.REPORTING_MISREGISTRATION, Cancel): _on_leave_misregistration,
    **{(p, CheckoffAnswered): _on_checkoff_answer for p in _ALL},
    **{(p, CheckoffFailed): _on_checkoff_failure for p in _ALL},
    **{(p, StartSearch): _on_start_search for p in _SEARCH_FROM},
    **{(p, StartMisregistration): _on_start_misregistration for p in _MISREG_FROM},
    (P.LOOKING_UP, LookupAnswered): _on_lookup_answered,
    (P.LOOKING_UP, LookupFailed): _on_lookup_failed,
    (P.CONFIRMING, Confirm): _on_confirm,
    (P.SEARCH, SubmitSearch): _on_submit_search,
    (P.SEARCH, Pick): _on_pick,
    (P.SEARCHING, SearchAnswered): _on_search_answered,
    (P.SEARCHING, SearchFailed): _on_search_failed,
    (P.CONFIRM_MISREGISTRATION, ConfirmMisregistration): _on_confirm_misregistration,
    (P.REPORTING_MISREGISTRATION, MisregistrationAnswered): _on_misregistration_answered,
    (P.REPORTING_MISREGISTRATION, MisregistrationFailed): _on_misregistration_failed,
    **{(p, StartManualValgkort): _on_start_valgkort for p in _VALGKORT_FROM},
    (P.CHOOSING_VALGKORT, ChooseValgkortReason): _on_choose_valgkort_reason,
    (P.CHOOSING_VALGKORT, Cancel): _on_cancel_valgkort,
}


def step(state: State, event: Event) -> Result:
    """Apply ``event`` to ``state``: the new state and the effects for the shell to carry out.

    Raises :class:`IllegalTransition` (state unchanged) when the phase does not accept it.
    """
    handler = TRANSITIONS.get((state.phase, type(event)))
    if handler is None:
        raise IllegalTransition(state.phase, event)
    return handler(state, event)


def accepts(state: State, event_type: type) -> bool:
    """Whether the current phase has a transition for ``event_type`` at all."""
    return (state.phase, event_type) in TRANSITIONS


def birth_date_text(d: date) -> str:
    """A date of birth as Norwegians write it: ``01.04.1980``."""
    return f"{d.day:02d}.{d.month:02d}.{d.year:04d}"
