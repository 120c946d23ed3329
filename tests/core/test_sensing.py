"""Power sensing, LED/buzzer modes and the next thing to check: pure and table-driven."""

from __future__ import annotations

import pytest

from valgkiosk.core import sensing
from valgkiosk.core.outage import Layer
from valgkiosk.core.sensing import (
    Blink,
    Check,
    Edge,
    IllegalEvent,
    LampStep,
    NetworkStatus,
    Steady,
    Tick,
    Timings,
    initial,
    next_check,
    step,
)
from valgkiosk.ports.indicators import AlarmMode, LedMode, Output
from valgkiosk.ports.power import PowerChange, PowerSource

MAINS, ROUTER, SIMULA = PowerSource.MAINS, PowerSource.ROUTER, PowerSource.SIMULA
T0 = 1000.0
TIMINGS = Timings(stable=0.5)


def settled(levels: dict[PowerSource, bool], at: float = T0) -> sensing.SensingState:
    """A state where every input has held ``levels`` long enough to be stable."""
    state = initial(levels, at)
    state, changes = step(state, Tick(at + TIMINGS.stable), TIMINGS)
    assert len(changes) == len(levels)
    return state


def feed(state: sensing.SensingState, events: list[sensing.Event]) -> tuple[sensing.SensingState, list[PowerChange]]:
    out: list[PowerChange] = []
    for event in events:
        state, changes = step(state, event, TIMINGS)
        out += changes
    return state, out


# -- the debouncer -----------------------------------------------------------------------


def test_start_up_readings_are_unknown_until_stable() -> None:
    state = initial({MAINS: True, ROUTER: False}, T0)
    assert state.stable() == {MAINS: None, ROUTER: None}
    state, changes = step(state, Tick(T0 + 0.499), TIMINGS)
    assert changes == []
    state, changes = step(state, Tick(T0 + 0.5), TIMINGS)
    assert changes == [
        PowerChange(MAINS, True, None, T0, T0 + 0.5),
        PowerChange(ROUTER, False, None, T0, T0 + 0.5),
    ]
    assert state.stable() == {MAINS: True, ROUTER: False}


@pytest.mark.parametrize("source", list(PowerSource))
@pytest.mark.parametrize("before", [True, False])
def test_every_transition_of_every_input_becomes_stable_after_the_stable_time(source: PowerSource, before: bool) -> None:
    state = settled({s: before for s in PowerSource})
    edge_at = T0 + 2.0
    state, changes = feed(state, [Edge(source, not before, edge_at), Tick(edge_at + 0.3)])
    assert changes == [] and state.stable()[source] is before
    state, changes = feed(state, [Tick(edge_at + 0.6)])
    assert changes == [PowerChange(source, not before, before, edge_at, edge_at + 0.5)]
    assert state.stable() == {s: (not before if s is source else before) for s in PowerSource}


# (offsets after the edge at which events arrive, what each event is) -> changes expected
GLITCHES = [
    pytest.param([(0.0, False), (0.1, True), (1.0, None)], [], id="100 ms dip"),
    pytest.param([(0.0, False), (0.499, True), (1.0, None)], [], id="just under the stable time"),
    pytest.param([(0.0, False), (0.2, True), (0.3, False), (0.4, True), (2.0, None)], [], id="chatter"),
    pytest.param([(0.0, False), (0.0, True), (1.0, None)], [], id="zero-length blip"),
    pytest.param([(0.0, False), (0.3, True), (0.4, False), (0.8, None)], [], id="restart counts from the last edge"),
    pytest.param([(0.0, False), (0.3, True), (0.4, False), (0.9, None)], [(False, 0.4, 0.9)], id="then holds"),
    pytest.param([(0.0, False), (0.5, None)], [(False, 0.0, 0.5)], id="exactly at the threshold"),
    pytest.param([(0.0, False), (0.4999, None)], [], id="a hair before the threshold"),
    pytest.param([(0.0, False), (0.5, True)], [(False, 0.0, 0.5)], id="edge back exactly at the threshold"),
    pytest.param([(0.0, False), (0.7, True), (1.0, None)], [(False, 0.0, 0.5)], id="held, no tick, then back"),
    pytest.param(
        [(0.0, False), (0.7, True), (1.2, None)], [(False, 0.0, 0.5), (True, 0.7, 1.2)], id="held, back, held"
    ),
    pytest.param([(0.0, True), (1.0, None)], [], id="repeat of the stable level"),
    pytest.param([(0.0, False), (0.3, False), (0.5, None)], [(False, 0.0, 0.5)], id="repeated edge keeps its start"),
]


@pytest.mark.parametrize(("events", "expected"), GLITCHES)
def test_glitches_and_thresholds(events: list[tuple[float, bool | None]], expected: list[tuple[bool, float, float]]) -> None:
    start = T0 + 2.0
    state = settled({ROUTER: True, MAINS: True})
    stream = [Tick(start + dt) if level is None else Edge(ROUTER, level, start + dt) for dt, level in events]
    state, changes = feed(state, stream)
    assert [(c.present, round(c.edge_at - start, 6), round(c.at - start, 6)) for c in changes] == expected
    assert all(c.source is ROUTER for c in changes)
    assert state.stable()[MAINS] is True


def test_exactly_at_threshold_survives_float_rounding() -> None:
    # 1000.0 + 0.002 + 0.098 == 1000.0999999999999 < 1000.0 + 0.1: a clock advanced in
    # steps lands a hair short of the threshold it reached
    timings = Timings(stable=0.1)
    at = 1000.0
    state = initial({MAINS: True}, at)
    at += 0.002
    state, changes = step(state, Tick(at), timings)
    assert changes == []
    at += 0.098
    assert at < 1000.0 + 0.1
    state, changes = step(state, Tick(at), timings)
    assert [c.present for c in changes] == [True]


def test_zero_stable_time_reports_at_once() -> None:
    timings = Timings(stable=0.0)
    state, changes = step(initial({MAINS: True}, T0), Edge(MAINS, False, T0 + 1), timings)
    assert [(c.present, c.previous, c.at) for c in changes] == [(True, None, T0), (False, True, T0 + 1)]


def test_changes_of_several_inputs_come_in_the_order_they_became_stable() -> None:
    state = settled({MAINS: True, ROUTER: True, SIMULA: True})
    state, changes = feed(state, [Edge(SIMULA, False, T0 + 2.0), Edge(MAINS, False, T0 + 2.1), Tick(T0 + 5)])
    assert [(c.source, c.at) for c in changes] == [(SIMULA, T0 + 2.5), (MAINS, T0 + 2.6)]


def test_time_going_backwards_is_refused_and_leaves_the_state() -> None:
    state = settled({MAINS: True})
    state, _ = step(state, Tick(T0 + 3), TIMINGS)
    with pytest.raises(IllegalEvent):
        step(state, Edge(MAINS, False, T0 + 2), TIMINGS)
    assert state.inputs[MAINS].raw is True and state.now == T0 + 3


def test_an_edge_for_an_input_that_is_not_sensed_is_refused() -> None:
    with pytest.raises(IllegalEvent):
        step(settled({MAINS: True}), Edge(SIMULA, False, T0 + 1), TIMINGS)


@pytest.mark.parametrize(
    "kwargs", [{"stable": -0.1}, {"tick": 0}, {"lamp_step": 0}], ids=["stable", "tick", "lamp_step"]
)
def test_timings_are_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        Timings(**kwargs)


def test_blink_times_are_validated() -> None:
    with pytest.raises(ValueError):
        Blink(0, 1)


# -- LEDs and buzzer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mains", "mode"), [(True, LedMode.ON), (False, LedMode.SLOW_BLINK), (None, LedMode.ON)]
)
def test_power_led(mains: bool | None, mode: LedMode) -> None:
    assert sensing.power_led(mains) is mode


@pytest.mark.parametrize(
    ("status", "mode"),
    [
        (NetworkStatus.REACHABLE, LedMode.ON),
        (NetworkStatus.PROBING, LedMode.FAST_BLINK),
        (NetworkStatus.DOWN, LedMode.OFF),
        (NetworkStatus.UNKNOWN, LedMode.OFF),
    ],
)
def test_network_led(status: NetworkStatus, mode: LedMode) -> None:
    assert sensing.network_led(status) is mode


T = Timings(slow_blink=Blink(1.0, 1.0), fast_blink=Blink(0.2, 0.2), alarm_beep=Blink(0.5, 0.25))


@pytest.mark.parametrize(
    ("mode", "signal"),
    [
        (LedMode.OFF, Steady(False)),
        (LedMode.ON, Steady(True)),
        (LedMode.SLOW_BLINK, Blink(1.0, 1.0)),
        (LedMode.FAST_BLINK, Blink(0.2, 0.2)),
    ],
)
def test_led_patterns(mode: LedMode, signal: sensing.Signal) -> None:
    assert sensing.led_signal(mode, T) == signal


@pytest.mark.parametrize(
    ("mode", "led", "buzzer"),
    [
        (AlarmMode.QUIET, Steady(False), Steady(False)),
        (AlarmMode.ALARM, Blink(0.2, 0.2), Blink(0.5, 0.25)),
        (AlarmMode.ACKNOWLEDGED, Steady(True), Steady(False)),  # silenced, the LED keeps showing
    ],
)
def test_alarm_patterns(mode: AlarmMode, led: sensing.Signal, buzzer: sensing.Signal) -> None:
    assert sensing.led_signal(sensing.alarm_led(mode), T) == led
    assert sensing.buzzer_signal(mode, T) == buzzer


def test_lamp_test_plan_is_every_output_in_turn() -> None:
    assert sensing.lamp_test_plan(Timings(lamp_step=0.7)) == (
        LampStep(Output.POWER_LED, 0.7),
        LampStep(Output.NETWORK_LED, 0.7),
        LampStep(Output.ALARM_LED, 0.7),
        LampStep(Output.BUZZER, 0.7),
    )


# -- the next thing to check -------------------------------------------------------------

OK = {MAINS: True, ROUTER: True, SIMULA: True}

NEXT = [
    pytest.param(OK, None, None, id="all well"),
    pytest.param({}, None, None, id="nothing sensed, nothing failing"),
    pytest.param(OK | {MAINS: False}, None, Check.FUSES, id="on battery"),
    pytest.param({MAINS: False, ROUTER: False, SIMULA: False}, Layer.LINK, Check.FUSES, id="power failure: fuses first"),
    pytest.param(OK | {ROUTER: False}, None, Check.ROUTER_POWER, id="router without power"),
    pytest.param(OK | {ROUTER: False}, Layer.GATEWAY, Check.ROUTER_POWER, id="router without power, probes fail"),
    pytest.param(OK | {ROUTER: False, SIMULA: False}, Layer.DNS, Check.ROUTER_POWER, id="router before SIMULA"),
    pytest.param(OK, Layer.LINK, Check.NETWORK_CABLE, id="no link, router powered"),
    pytest.param({MAINS: True}, Layer.LINK, Check.ROUTER_POWER, id="no link, router not sensed"),
    pytest.param({MAINS: True}, Layer.GATEWAY, Check.ROUTER_POWER, id="no gateway, router not sensed"),
    pytest.param(OK | {SIMULA: False}, Layer.GATEWAY, Check.SIMULA_POWER, id="no gateway, SIMULA off"),
    pytest.param(OK, Layer.GATEWAY, Check.CALL_ELECTION_PHONE, id="no gateway, power fine"),
    pytest.param(OK | {SIMULA: False}, Layer.DNS, Check.SIMULA_POWER, id="no internet, SIMULA off"),
    pytest.param(OK | {SIMULA: False}, Layer.TCP, Check.SIMULA_POWER, id="register unreachable, SIMULA off"),
    pytest.param(OK, Layer.DNS, Check.CALL_ELECTION_PHONE, id="no internet, power fine"),
    pytest.param(OK | {SIMULA: None}, Layer.TCP, Check.CALL_ELECTION_PHONE, id="no internet, SIMULA not sensed"),
    pytest.param(OK | {SIMULA: False}, Layer.HEALTH, Check.CALL_ELECTION_PHONE, id="register reports errors"),
    pytest.param(OK | {SIMULA: False}, None, Check.SIMULA_POWER, id="fallback without power"),
    pytest.param(OK | {ROUTER: None}, None, None, id="unknown is not a fault"),
]


@pytest.mark.parametrize(("power", "failed", "expected"), NEXT)
def test_next_check(power: dict[PowerSource, bool | None], failed: Layer | None, expected: Check | None) -> None:
    advice = next_check(power, failed)
    assert (advice.check if advice else None) is expected
    if advice is not None:
        assert advice.reason and advice.text == sensing.CHECK_NB[expected]  # type: ignore[index]


@pytest.mark.parametrize(
    ("check", "words"),
    [
        (Check.ROUTER_POWER, "strømmen til ruteren"),
        (Check.FUSES, "sikringene"),
        (Check.SIMULA_POWER, "SIMULA-boksen"),
        (Check.NETWORK_CABLE, "nettkabelen"),
        (Check.CALL_ELECTION_PHONE, "valgtelefonen"),
    ],
)
def test_checks_are_in_the_routines_words(check: Check, words: str) -> None:
    assert words in sensing.CHECK_NB[check]
