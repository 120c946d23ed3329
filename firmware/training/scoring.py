"""Scoring a drill: what the trainee did, against what the drill expects. Pure.

What the trainee did is a list of :class:`Step` (an action's name and when), recognised
from the kiosk core's own events and effects (:func:`actions_of`, called by the shell at
the one place events are fed to :func:`valgkiosk.core.kiosk.step`), from the loggbok's
entries (:func:`actions_of_entry`: the printer's faults and printouts are written there
by the shell) and from the drill panel (the trainee asks for ID, calls the chair: the
simulated people at the table, which the kiosk cannot see). Nothing is read off the
screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from valgkiosk.core import checkoff as co
from valgkiosk.core import emergency as em
from valgkiosk.core import kiosk
from valgkiosk.core.emergency import duration_nb as duration_nb  # the one wording of a duration

#: The trainee's actions at the table that the kiosk cannot see (the drill panel's keys).
PANEL_ACTIONS: dict[str, str] = {
    "ask_id": "Be om legitimasjon",
    "scan_card": "Ta imot valgkortet og skann det",
    "stamp": "Be medhjelperen stemple stemmeseddelen",
    "send_to_chair": "Send velgeren til stemmestyrets leder",
    "send_elsewhere": "Vis velgeren til riktig valglokale",
    "call_chair": "Varsle stemmestyrets leder",
    "refill_paper": "Legg i ny papirrull",
    "next_voter": "Neste velger",
    "finish": "Avslutt øvelsen",
}

#: The panel's short labels (the key line must fit the screen).
PANEL_SHORT: dict[str, str] = {
    "ask_id": "Legitimasjon", "scan_card": "Skann valgkortet", "stamp": "Stempel", "send_to_chair": "Til lederen",
    "send_elsewhere": "Annet valglokale", "call_chair": "Varsle leder", "refill_paper": "Nytt papir",
    "next_voter": "Neste velger", "finish": "Avslutt",
}

#: Every action a drill may name, with what it means (for drill authors: docs/training.md).
KIOSK_ACTIONS: dict[str, str] = {
    "scan": "a valgkort was scanned and looked up",
    "confirm": "the clerk confirmed a check-off (Enter on the confirm screen)",
    "cancel": "Esc on a voter",
    "search": "a search without valgkort was sent (F2)",
    "pick": "a voter was picked from the search's hits",
    "report_misregistration": "a misregistration was reported (F4, confirmed)",
    "manual_valgkort": "M: a manual valgkort was asked for",
    "print_manual_valgkort": "a manual valgkort was sent to the printer",
    "open_pin": "F5: the chair's PIN screen was opened",
    "wrong_pin": "a wrong PIN was typed",
    "alarm": "the alarm sounded (the register stopped answering)",
    "ack_alarm": "F3: the alarm was acknowledged",
    "start_routine": "the emergency routine was started (PIN)",
    "end_routine": "the emergency routine was ended (PIN)",
    "register_back": "the register answers again",
    "walk_scan": "in the routine: the voter's valgkort was scanned",
    "walk_without_valgkort": "in the routine: M, the voter has no valgkort",
    "emergency_manual_valgkort": "in the routine: the manual valgkort was typed and printed",
    "walk_next": "in the routine: Enter, a step done",
    "emergency_vote": "in the routine: an emergency vote was counted",
    "upload": "the emergency votes were uploaded to the register",
    "printer_fault": "the printer reported a fault",
    "printed": "a receipt came out of the printer",
    **{f"verdict:{o.value}": f"the kiosk showed the verdict {o.name}" for o in co.Outcome},
}


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the trainee did (or the kiosk showed), ``at`` seconds into the drill."""

    action: str
    at: float


@dataclass(frozen=True, slots=True)
class Expect:
    """An action the drill expects: ``count`` times, and (with ``before``) before the first
    ``before``. ``good`` is said when it was done right, ``missed`` when not."""

    do: str
    good: str
    missed: str
    before: str = ""
    count: int = 1


@dataclass(frozen=True, slots=True)
class Avoid:
    """An action that is a mistake in this drill, and what is said about it."""

    do: str
    mistake: str


@dataclass(frozen=True, slots=True)
class Score:
    """A drill's result: points of the expected actions, what went right, what was missed,
    the mistakes made, and the time taken."""

    points: int
    total: int
    good: tuple[str, ...]
    missed: tuple[str, ...]
    mistakes: tuple[str, ...]
    seconds: float
    finished: bool = True

    @property
    def full(self) -> bool:
        return self.points == self.total and not self.mistakes

    @property
    def earned(self) -> int:
        """The points, less one per mistake (never below zero)."""
        return max(0, self.points - len(self.mistakes))

    def lines(self) -> list[str]:
        """The feedback in plain Norwegian, one line each."""
        out = [f"Poeng: {self.earned} av {self.total}" + ("  –  full score!" if self.full else ""),
               f"Tid: {duration_nb(self.seconds)}"]
        out += [f"✔ {text}" for text in self.good]
        out += [f"✖ {text}" for text in self.missed]
        out += [f"✖ {text}" for text in self.mistakes]
        if not self.finished:
            out.append("! Øvelsen ble avbrutt før den var ferdig.")
        return out


def _first(steps: Sequence[Step], action: str, nth: int = 1) -> int | None:
    """The index of the ``nth`` ``action`` in ``steps`` (None: not that many)."""
    seen = 0
    for index, step in enumerate(steps):
        if step.action == action:
            seen += 1
            if seen == nth:
                return index
    return None


def satisfied(expect: Expect, steps: Sequence[Step]) -> bool:
    """Whether ``steps`` fulfil ``expect`` (done often enough, and in order)."""
    done = _first(steps, expect.do, expect.count)
    if done is None:
        return False
    if expect.before:
        later = _first(steps, expect.before)
        if later is not None and _first(steps, expect.do) > later:  # type: ignore[operator]
            return False
    return True


def score(expects: Sequence[Expect], avoids: Sequence[Avoid], steps: Sequence[Step], seconds: float, *,
          finished: bool = True) -> Score:
    """The drill's score and feedback."""
    good: list[str] = []
    missed: list[str] = []
    for expect in expects:
        (good if satisfied(expect, steps) else missed).append(expect.good if satisfied(expect, steps)
                                                              else expect.missed)
    done = {step.action for step in steps}
    mistakes = [avoid.mistake for avoid in avoids if avoid.do in done]
    return Score(len(good), len(expects), tuple(good), tuple(missed), tuple(mistakes), seconds, finished)


def complete(expects: Sequence[Expect], steps: Sequence[Step]) -> bool:
    """Whether every expected action is done (the drill ends by itself then)."""
    return all(satisfied(e, steps) for e in expects)


# -- recognising actions from the kiosk core ---------------------------------------------------

_FLOW_ACTIONS: dict[type, str] = {
    co.Confirm: "confirm",
    co.SubmitSearch: "search",
    co.Pick: "pick",
    co.ConfirmMisregistration: "report_misregistration",
    co.StartManualValgkort: "manual_valgkort",
}


def actions_of(before: kiosk.KioskState, event: kiosk.Event, after: kiosk.KioskState,
               effects: Sequence[object]) -> list[str]:
    """The actions one step of the kiosk core shows: the trainee's keys that the core took,
    the verdicts it showed, and the changes of the station's mode."""
    out: list[str] = []
    taken = after != before or bool(effects)
    if isinstance(event, kiosk.Flow) and taken:
        inner = event.event
        if isinstance(inner, co.Scanned):
            if after.checkoff.phase is co.Phase.LOOKING_UP and before.checkoff.phase is not co.Phase.LOOKING_UP:
                out.append("scan")
            elif after.walk.manntallsnummer and not before.walk.manntallsnummer:
                out.append("walk_scan")
        elif isinstance(inner, co.Cancel):
            out.append("cancel")
        elif type(inner) in _FLOW_ACTIONS:
            out.append(_FLOW_ACTIONS[type(inner)])
    elif isinstance(event, kiosk.Back) and taken:
        out.append("cancel")
    elif isinstance(event, kiosk.OpenChair) and after.overlay is kiosk.Overlay.PIN and before.overlay is not kiosk.Overlay.PIN:
        out.append("open_pin")
    elif isinstance(event, kiosk.PinAnswered) and not event.ok and before.overlay is kiosk.Overlay.PIN:
        out.append("wrong_pin")
    elif isinstance(event, kiosk.WalkWithoutValgkort) and taken:
        out.append("walk_without_valgkort")
    elif isinstance(event, kiosk.WalkNext) and after.walk.step != before.walk.step:
        out.append("walk_next")
    elif isinstance(event, kiosk.StationUpdated):
        out += _station_actions(before.station, after.station)
    for effect in effects:
        if isinstance(effect, co.ShowVerdict):
            out.append(f"verdict:{effect.outcome.value}")
        elif isinstance(effect, co.PrintManualValgkort):
            out.append("print_manual_valgkort")
        elif isinstance(effect, kiosk.PrintEmergencyValgkort):
            out.append("emergency_manual_valgkort")
    return out


def _station_actions(before: em.StationState, after: em.StationState) -> list[str]:
    out: list[str] = []
    if before.alarm is em.Alarm.QUIET and after.alarm is not em.Alarm.QUIET and after.outage is not None:
        out.append("alarm")
    if before.alarm is not em.Alarm.ACKNOWLEDGED and after.alarm is em.Alarm.ACKNOWLEDGED:
        out.append("ack_alarm")
    if not before.emergency and after.emergency:
        out.append("start_routine")
    if before.emergency and not after.emergency:
        out.append("end_routine")
    if before.outage is not None and after.outage is None:
        out.append("register_back")
    out += ["emergency_vote"] * max(0, len(after.votes) - len(before.votes))
    if before.pending and not after.pending and len(after.uploaded) > len(before.uploaded):
        out.append("upload")
    return out


def actions_of_entry(kind: str, data: Mapping[str, Any]) -> list[str]:
    """The actions a loggbok entry written by the shell shows (the printer's)."""
    if kind == "printer_fault":
        return ["printer_fault"]
    if kind in ("manual_valgkort", "closing_report", "log_printed", "test_page", "station_report"):
        return ["printed"]
    return []


@dataclass
class Trace:
    """The steps of one drill as they happen (the shell appends; :func:`score` reads)."""

    started: float
    steps: list[Step] = field(default_factory=list)

    def add(self, action: str, now: float) -> None:
        self.steps.append(Step(action, now - self.started))

    def names(self) -> list[str]:
        return [s.action for s in self.steps]
