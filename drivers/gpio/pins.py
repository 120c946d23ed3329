"""Which GPIO pins the caretaker box uses, and their polarity: a config-like object.

The station configuration's ``[gpio]`` section maps onto :class:`GpioPins`. Pin names
are whatever gpiozero accepts: ``17``, ``"GPIO17"``, ``"BOARD11"``. An input or output
that is ``None`` is not fitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from valgkiosk.ports.indicators import Output
from valgkiosk.ports.power import PowerSource

__all__ = ["DEFAULT_PINS", "GpioPins", "InputPin", "OutputPin", "Pull"]

#: The input's bias resistor: the Pi's internal pull-up or pull-down, or none (external).
Pull = Literal["up", "down", "none"]


@dataclass(frozen=True, slots=True)
class InputPin:
    """A power-sense input. ``active_high``: the pin is high when the power is present.

    The default fits the caretaker box's optocoupler, which pulls the pin to ground
    when the sensed supply is on: internal pull-up, present when low."""

    pin: int | str
    active_high: bool = False
    pull: Pull = "up"

    def __post_init__(self) -> None:
        if self.pull not in ("up", "down", "none"):
            raise ValueError(f"pull must be up, down or none, not {self.pull!r}")

    def device_kwargs(self) -> dict[str, Any]:
        """``pull_up``/``active_state`` for gpiozero's ``DigitalInputDevice``.

        gpiozero ties the active state to the pull (pull-up: active low); when the wiring
        says otherwise the adapter inverts the reading (:attr:`inverted`)."""
        if self.pull == "none":
            return {"pull_up": None, "active_state": self.active_high}
        return {"pull_up": self.pull == "up"}

    @property
    def inverted(self) -> bool:
        """Whether gpiozero's "active" means power absent with this wiring."""
        device_active_high = {"up": False, "down": True, "none": self.active_high}[self.pull]
        return device_active_high != self.active_high


@dataclass(frozen=True, slots=True)
class OutputPin:
    """An LED or buzzer output. ``active_high``: the pin is driven high to light or sound."""

    pin: int | str
    active_high: bool = True


@dataclass(frozen=True, slots=True)
class GpioPins:
    """Every pin of the caretaker box; ``None`` means not fitted."""

    mains: InputPin | None = None
    router: InputPin | None = None
    simula: InputPin | None = None
    power_led: OutputPin | None = None
    network_led: OutputPin | None = None
    alarm_led: OutputPin | None = None
    buzzer: OutputPin | None = None

    def inputs(self) -> dict[PowerSource, InputPin]:
        """The fitted inputs by what they sense."""
        pins = {PowerSource.MAINS: self.mains, PowerSource.ROUTER: self.router, PowerSource.SIMULA: self.simula}
        return {source: pin for source, pin in pins.items() if pin is not None}

    def outputs(self) -> dict[Output, OutputPin]:
        """The fitted outputs by role."""
        pins = {
            Output.POWER_LED: self.power_led,
            Output.NETWORK_LED: self.network_led,
            Output.ALARM_LED: self.alarm_led,
            Output.BUZZER: self.buzzer,
        }
        return {output: pin for output, pin in pins.items() if pin is not None}


#: The caretaker box's standard wiring (BCM numbers; see docs/gpio.md).
DEFAULT_PINS = GpioPins(
    mains=InputPin(17),
    router=InputPin(27),
    simula=InputPin(22),
    power_led=OutputPin(5),
    network_led=OutputPin(6),
    alarm_led=OutputPin(13),
    buzzer=OutputPin(19),
)
