"""The gpiozero adapters on a fresh ``MockFactory`` per test: power inputs with their
polarity and debouncing, the thread-safe hand-over, LED and buzzer patterns, the lamp test
and the simulated twin's controls."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPin, MockPWMPin

from valgkiosk.core.sensing import Blink, Timings
from valgkiosk.drivers.gpio import (
    DEFAULT_PINS,
    GpioIndicators,
    GpioPins,
    GpioPowerSensors,
    InputPin,
    OutputPin,
    SimulatedGpio,
)
from valgkiosk.ports.clock import ManualClock
from valgkiosk.ports.indicators import AlarmMode, LedMode, Output
from valgkiosk.ports.power import PowerChange, PowerSource

pytestmark = pytest.mark.timeout(10)

MAINS, ROUTER, SIMULA = PowerSource.MAINS, PowerSource.ROUTER, PowerSource.SIMULA
STABLE = 0.5
TIMINGS = Timings(stable=STABLE, tick=0.005, lamp_step=0.3)
# short enough for a fast test, long enough for assert_states_and_times's 50 ms tolerance
BLINKY = Timings(
    stable=STABLE, slow_blink=Blink(0.3, 0.2), fast_blink=Blink(0.15, 0.1), alarm_beep=Blink(0.2, 0.15)
)


def run(coro: Awaitable[Any], timeout: float = 5.0) -> Any:
    """Run a test coroutine with a hard time limit."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


def levels(pin: MockPin) -> list[bool]:
    """Every state the pin went through, the initial one first."""
    return [bool(s.state) for s in pin.states]


def assert_pattern(pin: MockPin, expected: list[tuple[float, bool]]) -> None:
    """The pin went through ``expected`` (time since the previous change, state) first.
    ``assert_states_and_times`` alone passes when the pin has fewer states: check that too."""
    assert len(pin.states) >= len(expected), levels(pin)
    pin.assert_states_and_times(expected)


# -- inputs ------------------------------------------------------------------------------

# (wiring, electrical level when the power is present)
WIRINGS = [
    pytest.param(InputPin(17), False, id="default: pull-up, present when low"),
    pytest.param(InputPin(17, active_high=True, pull="up"), True, id="pull-up, present when high (inverted)"),
    pytest.param(InputPin(17, active_high=True, pull="down"), True, id="pull-down, present when high"),
    pytest.param(InputPin(17, active_high=False, pull="down"), False, id="pull-down, present when low (inverted)"),
    pytest.param(InputPin(17, active_high=True, pull="none"), True, id="floating, present when high"),
    pytest.param(InputPin(17, active_high=False, pull="none"), False, id="floating, present when low"),
]


@pytest.mark.parametrize(("wiring", "high_when_present"), WIRINGS)
def test_polarity_and_pull(wiring: InputPin, high_when_present: bool) -> None:
    factory, clock = MockFactory(), ManualClock()
    sensors = GpioPowerSensors({ROUTER: wiring}, pin_factory=factory, timings=TIMINGS, clock=clock)
    pin = factory.pin(17)
    assert pin.function == "input"
    assert pin.pull == {"up": "up", "down": "down", "none": "floating"}[wiring.pull]
    try:
        for present in (True, False, True):
            pin.drive_high() if present == high_when_present else pin.drive_low()
            assert sensors.raw() == {ROUTER: present}
            clock.advance(STABLE)
            sensors.poll()
            assert sensors.states()[ROUTER] is present
    finally:
        sensors.close()


def test_bad_pull_is_refused() -> None:
    with pytest.raises(ValueError):
        InputPin(17, pull="sideways")  # type: ignore[arg-type]


def test_the_pin_factory_passed_in_is_used_and_the_global_default_is_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Device, "pin_factory", None)
    sim = SimulatedGpio(timings=TIMINGS, clock=ManualClock())
    try:
        assert Device.pin_factory is None
        assert sim.factory.pin(DEFAULT_PINS.router.pin).function == "input"  # type: ignore[union-attr]
        assert sim.factory.pin(DEFAULT_PINS.buzzer.pin).function == "output"  # type: ignore[union-attr]
    finally:
        sim.close()


@pytest.mark.parametrize("source", list(PowerSource))
def test_every_cut_and_restore_is_reported_once_after_the_stable_time(source: PowerSource) -> None:
    clock = ManualClock()
    sim = SimulatedGpio(timings=TIMINGS, clock=clock)
    try:
        clock.advance(STABLE)
        assert {c.source for c in sim.sensors.poll()} == set(PowerSource)
        assert sim.sensors.states() == {MAINS: True, ROUTER: True, SIMULA: True}
        for present in (False, True):
            sim.set_power(source, present)
            assert sim.powered(source) is present
            clock.advance(STABLE - 0.01)
            assert sim.sensors.poll() == []
            clock.advance(0.01)
            [change] = sim.sensors.poll()
            assert (change.source, change.present, change.previous) == (source, present, not present)
            assert change.at == pytest.approx(change.edge_at + STABLE)
            assert sim.sensors.states()[source] is present
            clock.advance(5)
            assert sim.sensors.poll() == []
    finally:
        sim.close()


def test_named_controls_cut_and_restore_the_right_supply() -> None:
    sim = SimulatedGpio(timings=TIMINGS, clock=ManualClock())
    try:
        for cut, restore, source in [
            (sim.cut_mains, sim.restore_mains, MAINS),
            (sim.cut_router, sim.restore_router, ROUTER),
            (sim.cut_simula, sim.restore_simula, SIMULA),
        ]:
            cut()
            assert {s: sim.powered(s) for s in PowerSource} == {s: s is not source for s in PowerSource}
            restore()
            assert all(sim.powered(s) for s in PowerSource)
    finally:
        sim.close()


@pytest.mark.parametrize(("dip", "reported"), [(0.0, False), (0.1, False), (STABLE - 0.001, False), (STABLE, True)])
def test_a_dip_shorter_than_the_stable_time_is_not_reported(dip: float, reported: bool) -> None:
    clock = ManualClock()
    sim = SimulatedGpio(timings=TIMINGS, clock=clock)
    try:
        clock.advance(STABLE)
        sim.sensors.poll()
        sim.cut_router()
        clock.advance(dip)
        changes = sim.sensors.poll()
        sim.restore_router()
        clock.advance(2 * STABLE)
        changes += sim.sensors.poll()
        assert [c.present for c in changes] == ([False, True] if reported else [])
        assert sim.sensors.states()[ROUTER] is True
    finally:
        sim.close()


def test_glitch_control_is_too_short_to_count() -> None:
    clock = ManualClock()
    sim = SimulatedGpio(timings=TIMINGS, clock=clock, power={SIMULA: False})
    try:
        clock.advance(STABLE)
        assert sim.sensors.poll() != []
        sim.glitch(SIMULA)
        sim.glitch(MAINS)
        clock.advance(1)
        assert sim.sensors.poll() == []
        assert sim.sensors.states() == {MAINS: True, ROUTER: True, SIMULA: False}
    finally:
        sim.close()


def test_a_bouncing_contact_counts_once_from_its_last_edge() -> None:
    """A plug wobbled in its socket: several edges, each shorter than the stable time;
    one change, stable time after the last edge."""
    clock = ManualClock()
    sim = SimulatedGpio(timings=TIMINGS, clock=clock)
    try:
        clock.advance(STABLE)
        sim.sensors.poll()
        for present in (False, True, False, True, False):
            sim.set_power(ROUTER, present)
            clock.advance(0.1)
            assert sim.sensors.poll() == []
        last_edge = clock.monotonic() - 0.1
        clock.advance(STABLE - 0.1)
        [change] = sim.sensors.poll()
        assert (change.source, change.present, change.previous) == (ROUTER, False, True)
        assert change.edge_at == pytest.approx(last_edge) and change.at == pytest.approx(last_edge + STABLE)
    finally:
        sim.close()


def test_a_change_before_the_first_stable_reading_is_reported_from_unknown() -> None:
    clock = ManualClock()
    sim = SimulatedGpio(timings=TIMINGS, clock=clock)
    try:
        clock.advance(STABLE / 2)
        sim.cut_mains()  # mains goes before the start-up reading has held
        clock.advance(STABLE / 2)
        changes = {c.source: c for c in sim.sensors.poll()}
        assert MAINS not in changes and sim.sensors.states()[MAINS] is None  # not held long enough yet
        clock.advance(STABLE / 2)
        [change] = sim.sensors.poll()
        assert (change.source, change.present, change.previous) == (MAINS, False, None)
    finally:
        sim.close()


def test_unfitted_inputs_stay_unknown_and_cannot_be_cut() -> None:
    clock = ManualClock()
    sim = SimulatedGpio(GpioPins(mains=InputPin(17)), timings=TIMINGS, clock=clock)
    try:
        clock.advance(STABLE)
        sim.sensors.poll()
        assert sim.sensors.states() == {MAINS: True, ROUTER: None, SIMULA: None}
        with pytest.raises(ValueError):
            sim.cut_router()
    finally:
        sim.close()


async def _until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.002)


def test_callbacks_from_another_thread_reach_on_change_on_the_loop_thread() -> None:
    # stable=0 and a long tick: only the hand-over of the edge itself can deliver the change
    clock = ManualClock()
    sim = SimulatedGpio(timings=Timings(stable=0.0, tick=60), clock=clock)
    seen: list[tuple[PowerChange, int]] = []

    async def scenario() -> None:
        sim.sensors.poll()  # the start-up readings, before run
        task = asyncio.create_task(sim.sensors.run(lambda c: seen.append((c, threading.get_ident()))))
        await asyncio.sleep(0.01)
        worker = threading.Thread(target=sim.cut_router)  # gpiozero calls back on this thread
        worker.start()
        await asyncio.to_thread(worker.join, 2)
        await _until(lambda: len(seen) == 1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        [(change, thread)] = seen
        assert (change.source, change.present) == (ROUTER, False)
        assert thread == threading.get_ident() != worker.ident

    try:
        run(scenario())
    finally:
        sim.close()


def test_edges_wait_for_the_stable_time_while_running() -> None:
    clock = ManualClock()
    sim = SimulatedGpio(timings=TIMINGS, clock=clock)
    seen: list[PowerChange] = []

    async def scenario() -> None:
        task = asyncio.create_task(sim.sensors.run(seen.append))
        clock.advance(STABLE)
        await _until(lambda: len(seen) == 3)
        seen.clear()
        await asyncio.to_thread(sim.cut_router)
        await asyncio.sleep(0.05)
        assert seen == []  # not stable yet
        clock.advance(STABLE)
        await _until(lambda: len(seen) == 1)
        assert (seen[0].source, seen[0].present) == (ROUTER, False)
        task.cancel()

    try:
        run(scenario())
    finally:
        sim.close()


def test_a_failing_on_change_does_not_stop_sensing() -> None:
    clock = ManualClock()
    sim = SimulatedGpio(timings=TIMINGS, clock=clock)
    calls: list[PowerChange] = []

    def on_change(change: PowerChange) -> None:
        calls.append(change)
        raise RuntimeError("boom")

    async def scenario() -> None:
        task = asyncio.create_task(sim.sensors.run(on_change))
        clock.advance(STABLE)
        await _until(lambda: len(calls) == 3)
        sim.cut_mains()
        clock.advance(STABLE)
        await _until(lambda: len(calls) == 4)
        assert not task.done()
        task.cancel()

    try:
        run(scenario())
    finally:
        sim.close()


# -- outputs -----------------------------------------------------------------------------


def indicators(factory: MockFactory, timings: Timings = BLINKY, **kwargs: Any) -> GpioIndicators:
    return GpioIndicators(DEFAULT_PINS.outputs(), pin_factory=factory, timings=timings, **kwargs)


def out_pin(factory: MockFactory, output: Output) -> MockPin:
    return factory.pin(DEFAULT_PINS.outputs()[output].pin)


@pytest.mark.parametrize(
    ("set_mode", "output"),
    [("set_power", Output.POWER_LED), ("set_network", Output.NETWORK_LED)],
)
def test_steady_and_off(set_mode: str, output: Output) -> None:
    factory = MockFactory()
    ind = indicators(factory)
    pin = out_pin(factory, output)
    try:
        getattr(ind, set_mode)(LedMode.ON)
        getattr(ind, set_mode)(LedMode.ON)  # the same mode again changes nothing
        getattr(ind, set_mode)(LedMode.OFF)
        assert levels(pin) == [False, True, False]
        assert all(levels(out_pin(factory, o)) == [False] for o in Output if o is not output)
    finally:
        ind.close()


def test_active_low_output_is_high_when_off() -> None:
    factory = MockFactory()
    ind = GpioIndicators({Output.POWER_LED: OutputPin(5, active_high=False)}, pin_factory=factory, timings=BLINKY)
    try:
        assert factory.pin(5).state is True
        ind.set_power(LedMode.ON)
        assert factory.pin(5).state is False and ind.is_on(Output.POWER_LED)
    finally:
        ind.close()


@pytest.mark.parametrize(
    ("set_mode", "mode", "output", "on", "off"),
    [
        ("set_power", LedMode.SLOW_BLINK, Output.POWER_LED, 0.3, 0.2),
        ("set_network", LedMode.FAST_BLINK, Output.NETWORK_LED, 0.15, 0.1),
    ],
    ids=["power on battery", "network probing"],
)
def test_blink_patterns(set_mode: str, mode: LedMode, output: Output, on: float, off: float) -> None:
    factory = MockFactory()
    ind = indicators(factory)
    pin = out_pin(factory, output)
    try:
        getattr(ind, set_mode)(mode)
        run(asyncio.sleep(2 * on + off + 0.05))
        getattr(ind, set_mode)(mode)  # the same mode again keeps the rhythm
        getattr(ind, set_mode)(LedMode.ON)
        assert_pattern(pin, [(0, False), (0, True), (on, False), (off, True)])
        assert pin.state is True
    finally:
        ind.close()


@pytest.mark.parametrize(
    ("set_mode", "blink", "output"),
    [("set_power", LedMode.SLOW_BLINK, Output.POWER_LED), ("set_network", LedMode.FAST_BLINK, Output.NETWORK_LED)],
)
def test_a_blink_stops_dark_when_the_led_goes_off(set_mode: str, blink: LedMode, output: Output) -> None:
    factory = MockFactory()
    ind = indicators(factory)
    pin = out_pin(factory, output)
    try:
        getattr(ind, set_mode)(blink)
        run(asyncio.sleep(0.05))
        getattr(ind, set_mode)(LedMode.OFF)
        after = len(pin.states)
        run(asyncio.sleep(0.6))  # longer than a whole blink cycle
        assert pin.state is False and len(pin.states) == after and not ind.is_on(output)
    finally:
        ind.close()


def test_alarm_blinks_and_beeps_then_acknowledge_silences_the_buzzer_only() -> None:
    factory = MockFactory()
    ind = indicators(factory)
    led, buzzer = out_pin(factory, Output.ALARM_LED), out_pin(factory, Output.BUZZER)
    try:
        ind.set_alarm(AlarmMode.ALARM)
        run(asyncio.sleep(0.42))
        assert_pattern(led, [(0, False), (0, True), (0.15, False), (0.1, True)])
        assert_pattern(buzzer, [(0, False), (0, True), (0.2, False), (0.15, True)])
        ind.set_alarm(AlarmMode.ACKNOWLEDGED)
        led.clear_states()
        buzzer.clear_states()
        run(asyncio.sleep(0.3))
        assert buzzer.state is False and levels(buzzer)[-1] is False and len(levels(buzzer)) <= 2
        assert led.state is True and levels(led)[-1] is True and len(levels(led)) <= 2
        ind.set_alarm(AlarmMode.QUIET)
        assert (led.state, buzzer.state) == (False, False)
        assert ind.modes == (LedMode.OFF, LedMode.OFF, AlarmMode.QUIET)
    finally:
        ind.close()


def test_outputs_work_on_a_pwm_capable_factory_too() -> None:
    factory = MockFactory(pin_class=MockPWMPin)
    ind = indicators(factory)
    try:
        ind.set_alarm(AlarmMode.ACKNOWLEDGED)
        assert ind.is_on(Output.ALARM_LED) and not ind.is_on(Output.BUZZER)
    finally:
        ind.close()


# -- the lamp test -----------------------------------------------------------------------


class Recorder:
    """A lamp-test ``sleep`` that notes, at each step, which outputs are on and for how long."""

    def __init__(self, factory: MockFactory, outputs: list[Output]) -> None:
        self.factory = factory
        self.outputs = outputs
        self.steps: list[tuple[float, set[Output]]] = []

    async def __call__(self, seconds: float) -> None:
        on = {o for o in self.outputs if out_pin(self.factory, o).state}
        self.steps.append((seconds, on))
        await asyncio.sleep(0)


def test_lamp_test_lights_and_sounds_everything_in_turn_then_restores_the_modes() -> None:
    factory = MockFactory()
    recorder = Recorder(factory, list(Output))
    ind = indicators(factory, Timings(lamp_step=0.7), sleep=recorder)
    try:
        ind.set_power(LedMode.ON)
        ind.set_network(LedMode.ON)
        tested = run(ind.lamp_test())
        assert tested == tuple(Output)
        assert recorder.steps == [
            (0.7, {Output.POWER_LED}),
            (0.7, {Output.NETWORK_LED}),
            (0.7, {Output.ALARM_LED}),
            (0.7, {Output.BUZZER}),
        ]
        assert [ind.is_on(o) for o in Output] == [True, True, False, False]
        assert levels(out_pin(factory, Output.BUZZER)) == [False, True, False]
    finally:
        ind.close()


def test_lamp_test_in_real_time_on_the_pins() -> None:
    factory = MockFactory()
    ind = indicators(factory, Timings(lamp_step=0.1))
    try:
        ind.set_alarm(AlarmMode.ACKNOWLEDGED)  # the ALARM LED is on before and after
        run(ind.lamp_test())
        assert_pattern(out_pin(factory, Output.POWER_LED), [(0, False), (0, True), (0.1, False)])
        assert_pattern(out_pin(factory, Output.NETWORK_LED), [(0, False), (0.1, True), (0.1, False)])
        assert_pattern(out_pin(factory, Output.ALARM_LED), [(0, False), (0, True), (0, False), (0.2, True), (0.1, False), (0.1, True)])
        assert_pattern(out_pin(factory, Output.BUZZER), [(0, False), (0.3, True), (0.1, False)])
    finally:
        ind.close()


def test_mode_changes_during_the_lamp_test_show_after_it() -> None:
    factory = MockFactory()

    async def scenario() -> None:
        gate = asyncio.Event()

        async def sleep(_: float) -> None:
            await gate.wait()

        ind = indicators(factory, sleep=sleep)
        try:
            test = asyncio.create_task(ind.lamp_test())
            await asyncio.sleep(0)
            assert await ind.lamp_test() == ()  # one at a time
            ind.set_alarm(AlarmMode.ALARM)
            assert not ind.is_on(Output.BUZZER)  # held back during the test
            assert ind.is_on(Output.POWER_LED)
            gate.set()
            await test
            assert ind.modes[2] is AlarmMode.ALARM
            await asyncio.sleep(0.05)
            assert len(levels(out_pin(factory, Output.BUZZER))) >= 3  # beeping after the test
        finally:
            ind.close()

    run(scenario())


def test_a_cancelled_lamp_test_restores_the_modes() -> None:
    factory = MockFactory()

    async def scenario() -> None:
        ind = indicators(factory, Timings(lamp_step=10))
        try:
            ind.set_network(LedMode.ON)
            test = asyncio.create_task(ind.lamp_test())
            await asyncio.sleep(0.01)
            assert ind.is_on(Output.POWER_LED) and not ind.is_on(Output.NETWORK_LED)
            test.cancel()
            with pytest.raises(asyncio.CancelledError):
                await test
            assert not ind.is_on(Output.POWER_LED) and ind.is_on(Output.NETWORK_LED)
        finally:
            ind.close()

    run(scenario())


def test_lamp_test_skips_outputs_that_are_not_fitted() -> None:
    factory = MockFactory()
    recorder = Recorder(factory, [Output.POWER_LED, Output.BUZZER])
    pins = GpioPins(power_led=OutputPin(5), buzzer=OutputPin(19))
    ind = GpioIndicators(pins.outputs(), pin_factory=factory, timings=TIMINGS, sleep=recorder)
    try:
        assert ind.fitted == (Output.POWER_LED, Output.BUZZER)
        assert run(ind.lamp_test()) == (Output.POWER_LED, Output.BUZZER)
        assert [on for _, on in recorder.steps] == [{Output.POWER_LED}, {Output.BUZZER}]
        ind.set_network(LedMode.ON)  # not fitted: nothing to do, nothing breaks
        assert not ind.is_on(Output.NETWORK_LED)
    finally:
        ind.close()


def test_simulated_twin_shows_the_outputs() -> None:
    sim = SimulatedGpio(timings=TIMINGS, clock=ManualClock())
    try:
        sim.indicators.set_alarm(AlarmMode.ACKNOWLEDGED)
        assert [sim.lit(o) for o in Output] == [False, False, True, False]
        assert sim.output_pin(Output.ALARM_LED).state is True
    finally:
        sim.close()
