"""The caretaker box on GPIO through gpiozero: power-sense inputs, status LEDs and the
buzzer, and the simulated twin on ``MockFactory``.

The pin factory is always passed in by the composition root: lgpio on a Pi (Pi 5
included), ``MockFactory`` in sim mode and tests.
"""

from __future__ import annotations

from .indicators import GpioIndicators
from .pins import DEFAULT_PINS, GpioPins, InputPin, OutputPin, Pull
from .power import GpioPowerSensors
from .simulated import SimulatedGpio

__all__ = [
    "DEFAULT_PINS",
    "GpioIndicators",
    "GpioPins",
    "GpioPowerSensors",
    "InputPin",
    "OutputPin",
    "Pull",
    "SimulatedGpio",
]
