"""The caretaker's LEDs and buzzer through gpiozero: the Indicators port.

Modes become patterns through :mod:`valgkiosk.core.sensing`; a blinking pattern runs
on gpiozero's own blink thread (``blink``/``beep`` in the background). Setting the mode
an output already shows does nothing, so a blink keeps its rhythm.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from gpiozero import LED, Buzzer, DigitalOutputDevice
from gpiozero.pins import Factory

from valgkiosk.core import sensing
from valgkiosk.ports.indicators import AlarmMode, LedMode, Output

from .pins import OutputPin

__all__ = ["GpioIndicators"]

log = logging.getLogger(__name__)


class GpioIndicators:
    """An :class:`~valgkiosk.ports.indicators.Indicators` on gpiozero output devices made by
    ``pin_factory``. Outputs missing from ``outputs`` are not fitted and are skipped.

    ``sleep`` is what the lamp test waits with (tests pass one that records)."""

    def __init__(
        self,
        outputs: Mapping[Output, OutputPin],
        *,
        pin_factory: Factory,
        timings: sensing.Timings = sensing.Timings(),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.timings = timings
        self._sleep = sleep
        self._devices: dict[Output, DigitalOutputDevice] = {}
        self._modes: dict[Output, sensing.Signal] = {}  # what each output should show
        self._shown: dict[Output, sensing.Signal] = {}  # what each output shows now
        self._power = LedMode.OFF
        self._network = LedMode.OFF
        self._alarm = AlarmMode.QUIET
        self._testing = False
        try:
            for output, spec in outputs.items():
                kind = Buzzer if output is Output.BUZZER else LED
                self._devices[output] = kind(
                    spec.pin, active_high=spec.active_high, initial_value=False, pin_factory=pin_factory
                )
                self._shown[output] = sensing.Steady(False)
        except BaseException:
            self.close()
            raise
        for output in Output:
            self._modes[output] = sensing.Steady(False)

    @property
    def fitted(self) -> tuple[Output, ...]:
        """The outputs that are wired, in lamp-test order."""
        return tuple(o for o in Output if o in self._devices)

    @property
    def modes(self) -> tuple[LedMode, LedMode, AlarmMode]:
        """The POWER and NETWORK LED modes and the alarm mode last set."""
        return self._power, self._network, self._alarm

    def set_power(self, mode: LedMode) -> None:
        """POWER LED: steady on mains, slow blink on battery."""
        self._power = mode
        self._set(Output.POWER_LED, sensing.led_signal(mode, self.timings))

    def set_network(self, mode: LedMode) -> None:
        """NETWORK LED: steady when reachable, fast blink while probes fail, off when down."""
        self._network = mode
        self._set(Output.NETWORK_LED, sensing.led_signal(mode, self.timings))

    def set_alarm(self, mode: AlarmMode) -> None:
        """ALARM LED and buzzer: alarm blinks and beeps; acknowledged keeps the LED on, silent."""
        self._alarm = mode
        self._set(Output.ALARM_LED, sensing.led_signal(sensing.alarm_led(mode), self.timings))
        self._set(Output.BUZZER, sensing.buzzer_signal(mode, self.timings))

    def _set(self, output: Output, signal: sensing.Signal) -> None:
        self._modes[output] = signal
        if not self._testing:
            self._show(output, signal)

    def _show(self, output: Output, signal: sensing.Signal) -> None:
        device = self._devices.get(output)
        if device is None or self._shown.get(output) == signal:
            return
        if isinstance(signal, sensing.Blink):
            device.blink(on_time=signal.on_time, off_time=signal.off_time, n=None, background=True)
        elif signal.on:
            device.on()
        else:
            device.off()
        self._shown[output] = signal
        log.debug("%s: %s", output.value, signal)

    async def lamp_test(self) -> tuple[Output, ...]:
        """Light and sound every fitted output in turn, each alone for ``lamp_step``; then
        show the current modes again (also if cancelled). Returns the outputs tested, in
        order; returns ``()`` at once if a lamp test is already running."""
        if self._testing:
            return ()
        self._testing = True
        tested: list[Output] = []
        try:
            for output in self._devices:
                self._show(output, sensing.Steady(False))
            for step in sensing.lamp_test_plan(self.timings):
                if step.output not in self._devices:
                    continue
                self._show(step.output, sensing.Steady(True))
                tested.append(step.output)
                await self._sleep(step.seconds)
                self._show(step.output, sensing.Steady(False))
        finally:
            self._testing = False
            for output in self._devices:
                self._show(output, self._modes[output])
        log.info("lamp test done: %s", ", ".join(o.value for o in tested))
        return tuple(tested)

    def is_on(self, output: Output) -> bool:
        """Whether ``output`` is lit or sounding this instant (``False`` if not fitted)."""
        device = self._devices.get(output)
        return bool(device is not None and device.is_active)

    def close(self) -> None:
        """Stop every pattern, turn everything off and release the pins."""
        for device in self._devices.values():
            device.close()
        self._devices.clear()
