"""The whole kiosk at one table as one pure state machine.

``step(KioskState, Event) -> (KioskState, effects)`` composes the check-off flow
(:mod:`valgkiosk.core.checkoff`, whose transition table is kept as it is), the station's
mode (normal, alarm, acknowledged, emergency routine, register back: the
:class:`~valgkiosk.core.emergency.StationState` the shell folds from the loggbok), the
emergency walk of one voter, and the views that cover the clerk's screen (the caretaker's,
the chair's PIN and loggbok). Which screen shows is a table (:data:`ROUTES`), as
:data:`checkoff.TRANSITIONS` is.

The rules that make the bad day bearable live here, where a test can reach every
combination (tests/core/test_kiosk_stateful.py explores them with hypothesis):

- during an outage the chair's F5 and the caretaker's F6 work whatever the clerk is doing
  (except while the PIN is typed): the check-off flow is left first, an unanswered
  check-off goes on in the background (:class:`checkoff.Unresolved`), a voter in the
  routine waits under the chair's screen;
- Esc leaves every phase without losing anything confirmed;
- the search is offered only while the register answers.

No I/O, no clock reads: durable changes (starting the routine, counting a vote) are
effects the shell carries out loggbok-first; it feeds the station's new state back with
:class:`StationUpdated`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any, Union

from valgkiosk.core import checkoff as co
from valgkiosk.core import emergency as em
from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.core import sensing
from valgkiosk.core.values import AlarmMode, LedMode

P = co.Phase


class Overlay(enum.Enum):
    """What covers the clerk's screen."""

    NONE = "none"
    CARETAKER = "caretaker"  # F6: power and network for the vaktmester
    PIN = "pin"  # F5: the chair confirms starting or ending the routine
    LOG = "log"  # F11: the loggbok for the chair


class Screen(enum.Enum):
    """The screens the UI has; :func:`route` picks one for a state."""

    IDLE = "idle"
    BUSY = "busy"  # waiting for a lookup: shown in place on whatever screen is up
    CONFIRM = "confirm"
    CHECKING_OFF = "checking_off"
    OUTCOME = "outcome"
    SEARCH = "search"
    MISREGISTRATION = "misregistration"
    VALGKORT = "valgkort"
    EMERGENCY = "emergency"
    CARETAKER = "caretaker"
    PIN = "pin"
    LOG = "log"


#: The phases from which the caretaker's and the chair's screens open in normal times.
QUIET_PHASES = frozenset({P.IDLE, P.OUTCOME})

CARETAKER_REFUSED = "Vaktmestersiden (F6) kan åpnes når avkrysningen er ferdig."
CHAIR_REFUSED = "Fullfør eller avbryt (Esc) velgeren som er i gang først."
PIN_FIRST = "Valgkortet ble ikke lest: bekreft eller avbryt PIN-koden først."
WALK_CANCELLED = "Velgeren ble avbrutt: ingen stemme talt."
WALK_NEEDS_CARD = "Skann valgkortet, eller trykk M om velgeren ikke har valgkort."
#: In the routine, for a valgkort whose check-off at this kiosk the register has not answered.
UNCONFIRMED_VOTER = ("Avkrysningen av denne velgeren venter fortsatt på svar fra manntallet. Si fra til "
                     "stemmestyrets leder. Fullføres stemmen, føres den i loggboken, og konvolutten legges "
                     "til side for valgstyret (står på avslutningsrapporten).")
#: ... and the register answered it while the voter was in the routine, without a check-off.
UNCONFIRMED_ANSWERED = ("Manntallet har svart på avkrysningen av denne velgeren: velgeren ble ikke krysset "
                        "av. Si fra til stemmestyrets leder.")
OK, BAD, WARN = "ok", "bad", "warn"


@dataclass(frozen=True, slots=True)
class KioskState:
    """Everything that decides what the kiosk shows and does. Immutable."""

    checkoff: co.State
    station: em.StationState = field(default_factory=em.StationState)
    network: sensing.NetworkStatus = sensing.NetworkStatus.UNKNOWN
    overlay: Overlay = Overlay.NONE
    walk: em.Walk = field(default_factory=em.Walk)
    walk_message: tuple[str, str] = (OK, "")
    pin_error: str = ""
    #: This kiosk's electronic check-offs today (manntallsnummer, when), so that an emergency
    #: vote for one of them is flagged (issue 14). Memory only, never on screen.
    checked_off_here: tuple[tuple[str, datetime], ...] = ()

    def checked_off_at(self, manntallsnummer: str | None) -> datetime | None:
        """When this kiosk checked ``manntallsnummer`` off electronically today, if it did."""
        return next((at for number, at in self.checked_off_here if number == manntallsnummer), None)

    @property
    def outage(self) -> bool:
        return not self.station.reachable

    @property
    def register_answers(self) -> bool:
        """Whether what needs the register (the search) is offered."""
        return self.station.reachable and not self.station.emergency


def initial_state(settings: co.Settings, station: em.StationState | None = None) -> KioskState:
    return KioskState(co.initial_state(settings), station or em.StationState())


# -- events ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flow:
    """An event of the check-off flow (a scan, a register's answer, a tick, a clerk's key)."""

    event: co.Event


@dataclass(frozen=True, slots=True)
class StationUpdated:
    """The station's state changed (the shell wrote the loggbok first), or the probes spoke."""

    station: em.StationState
    network: sensing.NetworkStatus | None = None


@dataclass(frozen=True, slots=True)
class OpenCaretaker:
    """F6: open the caretaker's screen, or close it when it is up."""

    at: float


@dataclass(frozen=True, slots=True)
class OpenChair:
    """F5 (``Overlay.PIN``) or F11 (``Overlay.LOG``, which also closes it)."""

    view: Overlay
    at: float


@dataclass(frozen=True, slots=True)
class Back:
    """Esc."""

    at: float


@dataclass(frozen=True, slots=True)
class PinAnswered:
    """The shell checked the chair's PIN; ``ok``: the routine was started or ended (durably)."""

    ok: bool
    message: str = ""


@dataclass(frozen=True, slots=True)
class WalkWithoutValgkort:
    """M in the routine: the voter has no valgkort."""


@dataclass(frozen=True, slots=True)
class WalkNext:
    """Enter in the routine: the step at hand is done."""


@dataclass(frozen=True, slots=True)
class VoteAnswered:
    """The shell counted the vote (durably), or says why not."""

    ok: bool
    message: str = ""


@dataclass(frozen=True, slots=True)
class ManualValgkortTyped:
    """Step 2: the clerk typed the manual valgkort from the voter's ID; ``problem`` is what
    the form found wrong (Norwegian), "" when the card can be printed."""

    name: str
    born: date | None
    address: str
    problem: str = ""


Event = Union[Flow, StationUpdated, OpenCaretaker, OpenChair, Back, PinAnswered, WalkWithoutValgkort, WalkNext,
              VoteAnswered, ManualValgkortTyped]  # fmt: skip

# -- effects --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordVote:
    """Count one emergency vote (loggbok first), then answer with :class:`VoteAnswered`."""

    manntallsnummer: str | None
    manual_valgkort: bool
    checked_off_at: datetime | None = None  # this kiosk had checked the voter off electronically
    unconfirmed_checkoff: str | None = None  # request id of this kiosk's check-off of the voter still unanswered


@dataclass(frozen=True, slots=True)
class PrintEmergencyValgkort:
    """Print the manual valgkort typed at step 2."""

    name: str
    born: date
    address: str


Effect = Union[co.Effect, RecordVote, PrintEmergencyValgkort]
Result = tuple[KioskState, list[Effect]]

# -- the rules ------------------------------------------------------------------------------


def _walk_after_answer(old: KioskState, new: KioskState) -> KioskState:
    """The routine's voter had a check-off here the register had not answered, and now it
    has: the warning at the walk says what it came to (checked off after all: as for a voter
    checked off here before the routine)."""
    number = new.walk.manntallsnummer
    if not number or not any(u.manntallsnummer == number for u in old.checkoff.unresolved) \
            or any(u.manntallsnummer == number for u in new.checkoff.unresolved):
        return new
    at = new.checked_off_at(number)
    if at is not None:
        return replace(new, walk_message=(WARN, "! " + em.checked_off_here_nb(at)))
    return replace(new, walk_message=(WARN, "! " + UNCONFIRMED_ANSWERED))


def _flow(s: KioskState, event: co.Event) -> Result:
    """Step the check-off flow; an event it does not take leaves everything as it is."""
    try:
        flow, effects = co.step(s.checkoff, event)
    except co.IllegalTransition:
        return s, []
    new = replace(s, checkoff=flow)
    last = flow.last_checkoff
    if last is not None and last is not s.checkoff.last_checkoff and last.checked_off_at is not None \
            and new.checked_off_at(last.manntallsnummer) is None:
        new = replace(new, checked_off_here=new.checked_off_here + ((last.manntallsnummer, last.checked_off_at),))
    new = _walk_after_answer(s, new)
    if new.overlay is Overlay.CARETAKER and flow.phase not in QUIET_PHASES and flow.phase is not P.LOOKING_UP:
        new = replace(new, overlay=Overlay.NONE)  # a scan took the kiosk back to the check-off
    return new, list(effects)


def leave_flow(s: KioskState, at: float) -> Result:
    """Back to idle from whatever the flow is doing, losing nothing confirmed: Esc in every
    phase (a reason list goes back to its confirm screen first, so this may take three)."""
    effects: list[Effect] = []
    for _ in range(3):
        if s.checkoff.phase is P.IDLE or not co.accepts(s.checkoff, co.Cancel):
            break
        s, more = _flow(s, co.Cancel(at))
        effects += more
    return s, effects


def _notice(text: str) -> list[Effect]:
    return [co.Notice(text)]


def _on_scan(s: KioskState, e: co.Scanned) -> Result:
    if s.overlay is Overlay.PIN:
        return s, _notice(PIN_FIRST)
    if s.overlay is Overlay.LOG:
        s = replace(s, overlay=Overlay.NONE)  # the voter comes first
    if s.station.emergency and s.checkoff.phase is P.IDLE:
        return _walk_scan(replace(s, overlay=Overlay.NONE), e.text), []
    return _flow(s, e)


def _walk_scan(s: KioskState, text: str) -> KioskState:
    walk = s.walk
    if walk.started:
        if walk.manntallsnummer != text.strip():
            return replace(s, walk_message=(WARN, CHAIR_REFUSED))
        return s
    try:
        number = mnr.parse(text, election_year=s.checkoff.settings.election_year)
    except mnr.InvalidManntallsnummer as exc:
        return replace(s, walk_message=(BAD, f"✖ {exc} Skann på nytt, eller M for manuelt valgkort."))
    earlier = s.station.recorded(number.digits)
    if earlier is not None:
        return replace(s, walk_message=(BAD, "✖ " + em.already_recorded_nb(earlier)))
    message = (OK, "")
    checked_off = s.checked_off_at(number.digits)
    if checked_off is not None:
        message = (WARN, "! " + em.checked_off_here_nb(checked_off))
    if any(u.manntallsnummer == number.digits for u in s.checkoff.unresolved):
        message = (WARN, "! " + UNCONFIRMED_VOTER)
    return replace(s, walk=walk.with_valgkort(number.digits), walk_message=message)


#: The flow's events that come from the clerk's keys (not from the register, time or the scanner).
CLERK_EVENTS = (co.Confirm, co.Cancel, co.StartSearch, co.SubmitSearch, co.Pick, co.StartMisregistration,
                co.ConfirmMisregistration, co.StartManualValgkort, co.ChooseValgkortReason)


def _on_flow(s: KioskState, e: Flow) -> Result:
    if isinstance(e.event, co.Scanned):
        return _on_scan(s, e.event)
    if isinstance(e.event, CLERK_EVENTS) and s.overlay is not Overlay.NONE:
        return s, []  # the clerk's keys go to the screen that covers the flow
    if isinstance(e.event, co.StartSearch) and not s.register_answers:
        return s, []  # offered only while the register answers
    return _flow(s, e.event)


def _on_station(s: KioskState, e: StationUpdated) -> Result:
    new = replace(s, station=e.station, network=e.network or s.network)
    if s.station.emergency and not e.station.emergency:
        new = replace(new, walk=em.Walk(), walk_message=(OK, ""))
    return new, []


def _on_caretaker(s: KioskState, e: OpenCaretaker) -> Result:
    if s.overlay is Overlay.PIN:
        return s, []
    if s.overlay is Overlay.CARETAKER:
        return replace(s, overlay=Overlay.NONE), []
    effects: list[Effect] = []
    if s.outage:
        s, effects = leave_flow(s, e.at)
    if s.checkoff.phase not in QUIET_PHASES:
        return s, effects + _notice(CARETAKER_REFUSED)
    return replace(s, overlay=Overlay.CARETAKER), effects


def _on_chair(s: KioskState, e: OpenChair) -> Result:
    if s.overlay is Overlay.PIN:
        return s, []
    if e.view is Overlay.LOG and s.overlay is Overlay.LOG:
        return replace(s, overlay=Overlay.NONE), []
    effects: list[Effect] = []
    if s.outage:
        s, effects = leave_flow(s, e.at)
    elif s.walk.started or s.checkoff.phase not in QUIET_PHASES:
        return s, _notice(CHAIR_REFUSED)
    if s.checkoff.phase is P.OUTCOME:
        s, more = _flow(s, co.Cancel(e.at))  # the last voter's details leave the screen first
        effects += more
    if s.checkoff.phase is not P.IDLE:
        return s, effects + _notice(CHAIR_REFUSED)
    return replace(s, overlay=e.view, pin_error=""), effects


def _on_back(s: KioskState, e: Back) -> Result:
    if s.overlay is not Overlay.NONE:
        return replace(s, overlay=Overlay.NONE, pin_error=""), []
    if s.station.emergency and s.checkoff.phase is P.IDLE:
        if s.walk.started:
            return replace(s, walk=em.Walk(), walk_message=(WARN, WALK_CANCELLED)), []
        return s, []
    return _flow(s, co.Cancel(e.at))


def _on_pin(s: KioskState, e: PinAnswered) -> Result:
    if s.overlay is not Overlay.PIN:
        return s, []
    if not e.ok:
        return replace(s, pin_error=e.message), []
    return replace(s, overlay=Overlay.NONE, pin_error="", walk=em.Walk(), walk_message=(OK, "")), []


def _on_walk_without(s: KioskState, e: WalkWithoutValgkort) -> Result:
    if not s.station.emergency or s.walk.step != 1 or s.overlay is not Overlay.NONE:
        return s, []
    return replace(s, walk=s.walk.without_valgkort(), walk_message=(OK, "")), []


def _on_walk_next(s: KioskState, e: WalkNext) -> Result:
    walk = s.walk
    if not s.station.emergency or s.overlay is not Overlay.NONE or walk.step == 2:
        return s, []
    if walk.step == 1:
        return replace(s, walk_message=(WARN, WALK_NEEDS_CARD)), []
    if walk.last_step:
        pending = next((u.request_id for u in s.checkoff.unresolved if u.manntallsnummer == walk.manntallsnummer), None)
        return s, [RecordVote(walk.manntallsnummer, walk.manual_valgkort, s.checked_off_at(walk.manntallsnummer),
                              pending if walk.manntallsnummer else None)]
    return replace(s, walk=walk.next(), walk_message=(OK, "")), []


def _on_vote(s: KioskState, e: VoteAnswered) -> Result:
    if not e.ok:
        return replace(s, walk_message=(BAD, f"✖ {e.message}")), []
    return replace(s, walk=em.Walk(), walk_message=(OK, e.message)), []


def _on_manual(s: KioskState, e: ManualValgkortTyped) -> Result:
    if not s.station.emergency or s.walk.step != 2:
        return s, []
    if e.problem or e.born is None:
        return replace(s, walk_message=(BAD, f"✖ {e.problem}")), []
    message = ("✔ Manuelt valgkort sendt til skriveren: kontroller det mot legitimasjonen når det kommer ut "
               "(feil på skriveren vises med F1).")  # fmt: skip
    return (replace(s, walk=s.walk.next(), walk_message=(OK, message)),
            [PrintEmergencyValgkort(e.name.strip(), e.born, e.address.strip())])


#: the table's key says which event type each handler takes
Handler = Callable[[KioskState, Any], Result]

TRANSITIONS: dict[type, Handler] = {
    Flow: _on_flow,
    StationUpdated: _on_station,
    OpenCaretaker: _on_caretaker,
    OpenChair: _on_chair,
    Back: _on_back,
    PinAnswered: _on_pin,
    WalkWithoutValgkort: _on_walk_without,
    WalkNext: _on_walk_next,
    VoteAnswered: _on_vote,
    ManualValgkortTyped: _on_manual,
}


def step(state: KioskState, event: Event) -> Result:
    """The kiosk after ``event``, and what the shell must do. Never raises for an event the
    moment does not take: it is ignored (keys the footer does not show do nothing)."""
    return TRANSITIONS[type(event)](state, event)


# -- the routing table ----------------------------------------------------------------------

_PHASE_SCREENS: dict[co.Phase, Screen] = {
    P.IDLE: Screen.IDLE,
    P.LOOKING_UP: Screen.BUSY,
    P.CONFIRMING: Screen.CONFIRM,
    P.CHECKING_OFF: Screen.CHECKING_OFF,
    P.UNCERTAIN: Screen.CHECKING_OFF,
    P.OUTCOME: Screen.OUTCOME,
    P.SEARCH: Screen.SEARCH,
    P.SEARCHING: Screen.SEARCH,
    P.CONFIRM_MISREGISTRATION: Screen.MISREGISTRATION,
    P.REPORTING_MISREGISTRATION: Screen.MISREGISTRATION,
    P.CHOOSING_VALGKORT: Screen.VALGKORT,
}

#: First match wins: (rule, screen).
ROUTES: tuple[tuple[Callable[[KioskState], bool], Screen | None], ...] = (
    (lambda s: s.overlay is Overlay.PIN, Screen.PIN),
    (lambda s: s.overlay is Overlay.LOG, Screen.LOG),
    (lambda s: s.checkoff.phase is P.LOOKING_UP, Screen.BUSY),
    (lambda s: s.overlay is Overlay.CARETAKER, Screen.CARETAKER),
    (lambda s: s.station.emergency and s.checkoff.phase is P.IDLE, Screen.EMERGENCY),
    (lambda s: True, None),  # the check-off flow's own screen
)


def route(s: KioskState) -> Screen:
    """The screen for ``s``."""
    for rule, screen in ROUTES:
        if rule(s):
            return screen if screen is not None else _PHASE_SCREENS[s.checkoff.phase]
    raise AssertionError("the last route matches every state")


# -- the outputs ----------------------------------------------------------------------------


def network_led(s: KioskState) -> LedMode:
    """The caretaker box's NETWORK LED."""
    return sensing.network_led(s.network)


def alarm_output(s: KioskState) -> AlarmMode:
    """The ALARM LED and buzzer."""
    return em.alarm_output(s.station)


def shows_voter(s: KioskState) -> bool:
    """Whether a voter's personal data may be on screen now (never under an overlay but the
    caretaker's, which opens only from idle and outcome)."""
    return s.checkoff.shows_personal_data and s.overlay in (Overlay.NONE, Overlay.CARETAKER)
