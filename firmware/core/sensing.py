"""Power sensing and the caretaker's indicators, as pure functions.

- A debouncer per power input: raw edges in, stable changes out. A level counts only
  once it has held for ``Timings.stable`` seconds, so a glitch shorter than that
  produces nothing. ``step(state, event, timings) -> (state, changes)``; events carry
  ``at`` (the shell's monotonic clock), the shell sends :class:`Tick` so that a level
  can become stable without another edge. No I/O, no clock reads.
- Which LED mode and buzzer pattern fit which state, and the blink patterns behind the
  modes (every duration in :class:`Timings`).
- The one next thing the caretaker should check, in the routine's words.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from valgkiosk.core.outage import Layer
from valgkiosk.core.values import AlarmMode, LedMode, Output
from valgkiosk.core.values import PowerChange, PowerSource

#: Times closer than this count as equal (so that "exactly at the threshold" survives
#: float rounding, e.g. 1000.0 + 0.05 - 1000.0 < 0.05).
EPSILON = 1e-9

# -- settings ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Blink:
    """A repeating pattern: on for ``on_time`` seconds, then off for ``off_time``."""

    on_time: float
    off_time: float

    def __post_init__(self) -> None:
        if self.on_time <= 0 or self.off_time <= 0:
            raise ValueError("blink times must be positive")


@dataclass(frozen=True, slots=True)
class Steady:
    """A steady output: on or off."""

    on: bool


#: What an output does: steady or blinking.
Signal = Steady | Blink


@dataclass(frozen=True, slots=True)
class Timings:
    """Every duration of power sensing, the LEDs and the buzzer, in seconds."""

    stable: float = 0.5  # an input level counts once it has held this long
    tick: float = 0.05  # how often the shell sends Tick to the debouncer
    slow_blink: Blink = Blink(1.0, 1.0)  # POWER LED on battery
    fast_blink: Blink = Blink(0.2, 0.2)  # NETWORK LED while probes fail, ALARM LED
    alarm_beep: Blink = Blink(0.5, 0.5)  # the buzzer while the alarm sounds
    lamp_step: float = 1.0  # each output is on this long in the lamp test

    def __post_init__(self) -> None:
        if self.stable < 0:
            raise ValueError("stable must not be negative")
        if self.tick <= 0 or self.lamp_step <= 0:
            raise ValueError("tick and lamp_step must be positive")


# -- the debouncer -----------------------------------------------------------------------


class IllegalEvent(ValueError):
    """An event the sensing core refuses (time going backwards, an unknown input)."""


@dataclass(frozen=True, slots=True)
class InputState:
    """One input: its stable level (``None``: not yet known) and the latest raw level."""

    stable: bool | None
    raw: bool
    raw_since: float  # when the input took its raw level

    @property
    def pending(self) -> bool:
        """Whether the raw level differs from the stable one and may yet become stable."""
        return self.raw != self.stable


@dataclass(frozen=True, slots=True)
class SensingState:
    """Every sensed input, and the time of the latest event."""

    inputs: Mapping[PowerSource, InputState] = field(default_factory=dict)
    now: float | None = None

    def stable(self) -> dict[PowerSource, bool | None]:
        """The stable level of every sensed input."""
        return {source: s.stable for source, s in self.inputs.items()}


@dataclass(frozen=True, slots=True)
class Edge:
    """The raw level of ``source`` is ``level`` since ``at`` (repeats are harmless)."""

    source: PowerSource
    level: bool
    at: float


@dataclass(frozen=True, slots=True)
class Tick:
    """Time has passed: confirm any level that has now held long enough."""

    at: float


Event = Edge | Tick


def initial(readings: Mapping[PowerSource, bool], at: float) -> SensingState:
    """The state after reading every fitted input once at start-up. Nothing is stable
    yet: each reading must hold for the stable time like any other level."""
    inputs = {source: InputState(None, level, at) for source, level in readings.items()}
    return SensingState(inputs, at)


def step(state: SensingState, event: Event, timings: Timings) -> tuple[SensingState, list[PowerChange]]:
    """Feed one event; return the new state and the stable changes it reveals, in the
    order they became stable. Raises :class:`IllegalEvent` (state unchanged) if time goes
    backwards or an edge names an input that is not sensed."""
    if state.now is not None and event.at < state.now - EPSILON:
        raise IllegalEvent(f"event at {event.at} is before the last one at {state.now}")
    if isinstance(event, Edge) and event.source not in state.inputs:
        raise IllegalEvent(f"{event.source.value} is not a sensed input")
    inputs = dict(state.inputs)
    changes: list[PowerChange] = []
    for source, s in inputs.items():  # levels that became stable before this event
        inputs[source], change = _settle(source, s, event.at, timings.stable)
        changes += [change] if change else []
    if isinstance(event, Edge):
        s = inputs[event.source]
        if event.level != s.raw:
            s = replace(s, raw=event.level, raw_since=event.at)
        inputs[event.source], change = _settle(event.source, s, event.at, timings.stable)
        changes += [change] if change else []
    changes.sort(key=lambda c: (c.at, list(PowerSource).index(c.source)))
    return SensingState(inputs, max(event.at, state.now or event.at)), changes


def _settle(source: PowerSource, s: InputState, at: float, stable: float) -> tuple[InputState, PowerChange | None]:
    """Make a pending raw level stable if it has held for ``stable`` seconds by ``at``."""
    if not s.pending:
        return s, None
    due = s.raw_since + stable
    if at + EPSILON < due:
        return s, None
    return replace(s, stable=s.raw), PowerChange(source, s.raw, s.stable, s.raw_since, due)


# -- LEDs and buzzer ---------------------------------------------------------------------


class NetworkStatus(enum.Enum):
    """What the watchdog knows about the register, as the NETWORK LED shows it."""

    UNKNOWN = "unknown"  # not probed yet
    REACHABLE = "reachable"
    PROBING = "probing"  # probes fail, the outage is not declared yet
    DOWN = "down"  # the outage is declared


def power_led(mains: bool | None) -> LedMode:
    """POWER LED: steady on mains, slow blink on battery. Unknown (not fitted or not
    stable yet) shows steady: the kiosk runs, and nothing says it is on battery."""
    return LedMode.SLOW_BLINK if mains is False else LedMode.ON


def network_led(status: NetworkStatus) -> LedMode:
    """NETWORK LED: steady when reachable, fast blink while probes fail, off when down."""
    return {
        NetworkStatus.REACHABLE: LedMode.ON,
        NetworkStatus.PROBING: LedMode.FAST_BLINK,
        NetworkStatus.DOWN: LedMode.OFF,
        NetworkStatus.UNKNOWN: LedMode.OFF,
    }[status]


def alarm_led(mode: AlarmMode) -> LedMode:
    """ALARM LED: fast blink while the alarm sounds, steady once acknowledged."""
    return {AlarmMode.QUIET: LedMode.OFF, AlarmMode.ALARM: LedMode.FAST_BLINK, AlarmMode.ACKNOWLEDGED: LedMode.ON}[mode]


def led_signal(mode: LedMode, timings: Timings) -> Signal:
    """The pattern behind an LED mode."""
    patterns: dict[LedMode, Signal] = {
        LedMode.OFF: Steady(False),
        LedMode.ON: Steady(True),
        LedMode.SLOW_BLINK: timings.slow_blink,
        LedMode.FAST_BLINK: timings.fast_blink,
    }
    return patterns[mode]


def buzzer_signal(mode: AlarmMode, timings: Timings) -> Signal:
    """The buzzer: beeps only while the alarm sounds; acknowledging silences it."""
    return timings.alarm_beep if mode is AlarmMode.ALARM else Steady(False)


@dataclass(frozen=True, slots=True)
class LampStep:
    """One step of the lamp test: only ``output`` is on, for ``seconds``."""

    output: Output
    seconds: float


def lamp_test_plan(timings: Timings) -> tuple[LampStep, ...]:
    """Every output in turn (POWER, NETWORK, ALARM, buzzer), one lamp step each."""
    return tuple(LampStep(output, timings.lamp_step) for output in Output)


# -- the next thing to check -------------------------------------------------------------


class Check(enum.Enum):
    """The checks of the beredskapsrutine, in the caretaker's and IT lead's order."""

    FUSES = "fuses"
    ROUTER_POWER = "router_power"
    NETWORK_CABLE = "network_cable"
    SIMULA_POWER = "simula_power"
    CALL_ELECTION_PHONE = "call_election_phone"


#: Each check in the routine's words.
CHECK_NB: dict[Check, str] = {
    Check.FUSES: "Sjekk sikringene.",
    Check.ROUTER_POWER: "Sjekk strømmen til ruteren.",
    Check.NETWORK_CABLE: "Sjekk nettkabelen mellom kiosken og ruteren.",
    Check.SIMULA_POWER: "Sjekk strømmen til SIMULA-boksen.",
    Check.CALL_ELECTION_PHONE: "Ring valgtelefonen (tast 3 for IT).",
}


@dataclass(frozen=True, slots=True)
class NextCheck:
    """The one next thing to check, and why (both Norwegian)."""

    check: Check
    reason: str

    @property
    def text(self) -> str:
        return CHECK_NB[self.check]


def next_check(power: Mapping[PowerSource, bool | None], failed: Layer | None = None) -> NextCheck | None:
    """The one next thing to check, given the stable power states (missing or ``None``:
    unknown) and the lowest failing network layer (``None``: none failing or not probed).
    ``None`` when nothing calls for a check."""
    mains, router, simula = (power.get(s) for s in (PowerSource.MAINS, PowerSource.ROUTER, PowerSource.SIMULA))
    if mains is False:
        return NextCheck(Check.FUSES, "Kiosken går på batteri: strømmen er borte.")
    if router is False:
        return NextCheck(Check.ROUTER_POWER, "Ruteren har ikke strøm.")
    if failed is Layer.LINK:
        if router is None:
            return NextCheck(Check.ROUTER_POWER, "Kiosken har ingen nettverkskobling.")
        return NextCheck(Check.NETWORK_CABLE, "Kiosken har ingen nettverkskobling, men ruteren har strøm.")
    if failed is Layer.GATEWAY and router is None:
        return NextCheck(Check.ROUTER_POWER, "Ruteren svarer ikke.")
    if failed in (Layer.GATEWAY, Layer.DNS, Layer.TCP):
        why = "Ruteren svarer ikke" if failed is Layer.GATEWAY else "Ruteren har mistet internett"
        if simula is False:
            return NextCheck(Check.SIMULA_POWER, f"{why}, og SIMULA-boksen har ikke strøm.")
        return NextCheck(Check.CALL_ELECTION_PHONE, f"{why}, og strømmen er i orden.")
    if failed is Layer.HEALTH:
        return NextCheck(Check.CALL_ELECTION_PHONE, "Manntallet svarer ikke riktig (en feil, eller ikke noe svar).")
    if simula is False:
        return NextCheck(Check.SIMULA_POWER, "Nettet virker, men reserveløsningen (SIMULA-boksen) har ikke strøm.")
    return None
