"""The PowerSensors and Indicators ports' contract over the GPIO twin (SimulatedGpio, the
dev dock's caretaker box) and the GPIO adapters on gpiozero's MockFactory pins driven
by hand, at the standard wiring and at an inverted one.

The twin's controls must mean what an electrician's wiring means: cutting the router's
power through the twin changes the same pin to the same level as the supply going away
at the input, is reported once after the same stable time, and every LED and buzzer mode
puts the same levels on the output pins."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from valgkiosk.core.sensing import Timings
from valgkiosk.drivers.gpio import DEFAULT_PINS, GpioIndicators, GpioPins, GpioPowerSensors, InputPin, OutputPin
from valgkiosk.drivers.gpio.simulated import SimulatedGpio
from valgkiosk.ports.clock import ManualClock
from valgkiosk.ports.indicators import AlarmMode, Indicators, LedMode, Output
from valgkiosk.ports.power import PowerSource

pytestmark = pytest.mark.timeout(10)
STABLE = 0.5
TIMINGS = Timings(stable=STABLE, tick=0.005, lamp_step=0.3)
INVERTED = GpioPins(
    mains=InputPin(17, active_high=True, pull="down"), router=InputPin(27, active_high=True, pull="down"),
    simula=InputPin(22, active_high=True, pull="down"), power_led=OutputPin(5, active_high=False),
    network_led=OutputPin(6, active_high=False), alarm_led=OutputPin(13, active_high=False),
    buzzer=OutputPin(19, active_high=False),
)


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


class Rig:
    """The sensors and indicators, the hand that switches each supply, and the pins."""

    def __init__(self, kind: str, pins: GpioPins) -> None:
        self.kind, self.pins, self.clock = kind, pins, ManualClock()
        if kind == "twin":
            self.twin = SimulatedGpio(pins, timings=TIMINGS, clock=self.clock, sleep=no_sleep)
            self.factory = self.twin.factory
            self.sensors: GpioPowerSensors = self.twin.sensors
            self.indicators: Indicators = self.twin.indicators
        else:
            self.factory = MockFactory()
            inputs = pins.inputs()
            self.sensors = GpioPowerSensors(inputs, pin_factory=self.factory, timings=TIMINGS, clock=self.clock)
            for source in inputs:
                self.set_power(source, True)
            self.indicators = GpioIndicators(pins.outputs(), pin_factory=self.factory, timings=TIMINGS,
                                             sleep=no_sleep)

    def set_power(self, source: PowerSource, present: bool) -> None:
        if self.kind == "twin":
            self.twin.set_power(source, present)
            return
        spec = self.pins.inputs()[source]
        pin: MockPin = self.factory.pin(spec.pin)
        pin.drive_high() if present == spec.active_high else pin.drive_low()

    def input_level(self, source: PowerSource) -> bool:
        return bool(self.factory.pin(self.pins.inputs()[source].pin).state)

    def output_level(self, output: Output) -> bool:
        return bool(self.factory.pin(self.pins.outputs()[output].pin).state)

    def close(self) -> None:
        self.indicators.close()
        self.sensors.close()


@pytest.fixture(params=[DEFAULT_PINS, INVERTED], ids=["standard", "inverted"])
def pins(request: pytest.FixtureRequest) -> GpioPins:
    return request.param  # type: ignore[no-any-return]


@pytest.fixture
def rigs(pins: GpioPins) -> Iterator[dict[str, Rig]]:
    made = {kind: Rig(kind, pins) for kind in ("twin", "pins")}
    yield made
    for rig in made.values():
        rig.close()


def both(rigs: dict[str, Rig], act: Callable[[Rig], Any]) -> dict[str, Any]:
    return {kind: act(rig) for kind, rig in rigs.items()}


@pytest.mark.parametrize("source", list(PowerSource))
def test_a_cut_and_a_restore_mean_the_same_on_both(rigs: dict[str, Rig], source: PowerSource) -> None:
    def day(rig: Rig) -> list[Any]:
        seen: list[Any] = [dict(rig.sensors.states())]  # unknown until stable
        rig.clock.advance(STABLE)
        seen.append(sorted((c.source.value, c.present, c.previous) for c in rig.sensors.poll()))
        for present in (False, True):
            rig.set_power(source, present)
            seen.append(rig.input_level(source))
            rig.clock.advance(STABLE - 0.01)
            seen.append(rig.sensors.poll())  # not yet: a dip this short would not count
            rig.clock.advance(0.01)
            seen.append([(c.source, c.present, c.previous, round(c.at - c.edge_at, 6)) for c in rig.sensors.poll()])
            seen.append(dict(rig.sensors.states()))
        return seen

    seen = both(rigs, day)
    assert seen["twin"] == seen["pins"]
    assert seen["twin"][0] == {s: None for s in PowerSource}
    assert seen["twin"][4] == [(source, False, True, STABLE)]


def test_a_blip_is_not_a_cut_on_either(rigs: dict[str, Rig]) -> None:
    def blip(rig: Rig) -> list[Any]:
        rig.clock.advance(STABLE)
        rig.sensors.poll()
        rig.set_power(PowerSource.ROUTER, False)
        rig.clock.advance(STABLE / 5)
        rig.set_power(PowerSource.ROUTER, True)
        rig.clock.advance(STABLE * 3)
        return [rig.sensors.poll(), dict(rig.sensors.states())]

    seen = both(rigs, blip)
    assert seen["twin"] == seen["pins"] == [[], {s: True for s in PowerSource}]


@pytest.mark.parametrize(("set_mode", "mode", "lit"), [
    ("power", LedMode.ON, {Output.POWER_LED}),
    ("network", LedMode.ON, {Output.NETWORK_LED}),
    ("alarm", AlarmMode.ACKNOWLEDGED, {Output.ALARM_LED}),
    ("network", LedMode.OFF, set()),
    ("alarm", AlarmMode.QUIET, set()),
])
def test_each_steady_mode_puts_the_same_levels_on_the_pins(rigs: dict[str, Rig], pins: GpioPins, set_mode: str,
                                                           mode: LedMode | AlarmMode, lit: set[Output]) -> None:
    def show(rig: Rig) -> dict[Output, bool]:
        getattr(rig.indicators, f"set_{set_mode}")(mode)
        return {o: rig.output_level(o) for o in Output}

    seen = both(rigs, show)
    assert seen["twin"] == seen["pins"]
    for output, level in seen["twin"].items():
        # lit means driven to the wiring's active level
        assert level is ((output in lit) == pins.outputs()[output].active_high), output


def test_the_lamp_test_tests_every_fitted_output_and_restores_the_modes(rigs: dict[str, Rig]) -> None:
    def lamp(rig: Rig) -> tuple[Any, dict[Output, bool]]:
        rig.indicators.set_power(LedMode.ON)
        tested = asyncio.run(asyncio.wait_for(rig.indicators.lamp_test(), 5))
        return tested, {o: rig.output_level(o) for o in Output}

    seen = both(rigs, lamp)
    assert seen["twin"] == seen["pins"]
    assert seen["twin"][0] == tuple(Output)
