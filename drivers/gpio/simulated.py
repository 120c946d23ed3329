"""The simulated twin of the caretaker box: the real GPIO adapters on gpiozero's
``MockFactory``, plus controls to cut and restore mains, router and SIMULA power.

Sim mode and the dev dock use it; so do scenario tests. Everything above the pins is
the production code path. The controls may be called from any thread (the input
callbacks they trigger are handed to the event loop like real ones).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from gpiozero.pins.mock import MockFactory, MockPin

from valgkiosk.core import sensing
from valgkiosk.ports.clock import Clock
from valgkiosk.ports.indicators import Output
from valgkiosk.ports.power import PowerSource

from .indicators import GpioIndicators
from .pins import DEFAULT_PINS, GpioPins
from .power import GpioPowerSensors

__all__ = ["SimulatedGpio"]


class SimulatedGpio:
    """A caretaker box on mock pins: :attr:`sensors` and :attr:`indicators` are the real
    adapters; ``power`` gives each fitted source's supply at start (default: all on)."""

    def __init__(
        self,
        pins: GpioPins = DEFAULT_PINS,
        *,
        timings: sensing.Timings = sensing.Timings(),
        clock: Clock | None = None,
        power: Mapping[PowerSource, bool] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        factory: MockFactory | None = None,
    ) -> None:
        self.pins = pins
        self.factory = factory or MockFactory()
        self._inputs = pins.inputs()
        self._outputs = pins.outputs()
        initial = {source: True for source in self._inputs} | dict(power or {})
        self.sensors = GpioPowerSensors(self._inputs, pin_factory=self.factory, timings=timings, clock=clock)
        try:
            for source, present in initial.items():
                self.set_power(source, present)
            self.indicators = GpioIndicators(self._outputs, pin_factory=self.factory, timings=timings, sleep=sleep)
        except BaseException:
            self.sensors.close()
            raise

    # -- the dev dock's controls ----------------------------------------------------------

    def set_power(self, source: PowerSource, present: bool) -> None:
        """Switch the simulated supply of ``source`` on or off (drives its input pin)."""
        spec = self._inputs.get(source)
        if spec is None:
            raise ValueError(f"{source.value} is not fitted")
        pin = self.input_pin(source)
        if present == spec.active_high:
            pin.drive_high()
        else:
            pin.drive_low()

    def cut_mains(self) -> None:
        self.set_power(PowerSource.MAINS, False)

    def restore_mains(self) -> None:
        self.set_power(PowerSource.MAINS, True)

    def cut_router(self) -> None:
        self.set_power(PowerSource.ROUTER, False)

    def restore_router(self) -> None:
        self.set_power(PowerSource.ROUTER, True)

    def cut_simula(self) -> None:
        self.set_power(PowerSource.SIMULA, False)

    def restore_simula(self) -> None:
        self.set_power(PowerSource.SIMULA, True)

    def glitch(self, source: PowerSource) -> None:
        """A blip: the supply of ``source`` drops and returns at once (too short to count)."""
        present = self.powered(source)
        self.set_power(source, not present)
        self.set_power(source, present)

    # -- what the dev dock shows ----------------------------------------------------------

    def powered(self, source: PowerSource) -> bool:
        """Whether the simulated supply of ``source`` is on (the pin's level, not debounced)."""
        spec = self._inputs[source]
        return bool(self.input_pin(source).state) == spec.active_high

    def lit(self, output: Output) -> bool:
        """Whether ``output`` is lit or sounding this instant."""
        return self.indicators.is_on(output)

    def input_pin(self, source: PowerSource) -> MockPin:
        """The mock pin behind ``source`` (tests drive it directly)."""
        return self.factory.pin(self._inputs[source].pin)

    def output_pin(self, output: Output) -> MockPin:
        """The mock pin behind ``output`` (tests assert its states)."""
        return self.factory.pin(self._outputs[output].pin)

    def close(self) -> None:
        self.indicators.close()
        self.sensors.close()
