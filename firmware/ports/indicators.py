"""The Indicators port: the caretaker's status LEDs and the buzzer.

Modes, not pins: the shell says what to show (see :mod:`valgkiosk.core.sensing` for
which mode fits which state), the adapter turns modes into blink patterns.
"""

from __future__ import annotations

import enum
from typing import Protocol


class LedMode(enum.Enum):
    """What one LED shows."""

    OFF = "off"
    ON = "on"
    SLOW_BLINK = "slow_blink"
    FAST_BLINK = "fast_blink"


class AlarmMode(enum.Enum):
    """The emergency-routine alarm: ALARM LED and buzzer together."""

    QUIET = "quiet"  # no alarm: LED off, buzzer silent
    ALARM = "alarm"  # LED blinks fast, buzzer beeps
    ACKNOWLEDGED = "acknowledged"  # someone pressed acknowledge: buzzer silent, LED steady


class Output(enum.Enum):
    """The physical outputs, in lamp-test order."""

    POWER_LED = "power_led"
    NETWORK_LED = "network_led"
    ALARM_LED = "alarm_led"
    BUZZER = "buzzer"


#: The outputs' names on the caretaker box's label.
OUTPUT_NB: dict[Output, str] = {
    Output.POWER_LED: "STRØM-lampen",
    Output.NETWORK_LED: "NETT-lampen",
    Output.ALARM_LED: "ALARM-lampen",
    Output.BUZZER: "Summeren",
}


class Indicators(Protocol):
    """The LEDs and buzzer. Calls return at once; call them from the event loop's thread."""

    def set_power(self, mode: LedMode) -> None:
        """POWER LED: steady on mains, slow blink on battery."""
        ...

    def set_network(self, mode: LedMode) -> None:
        """NETWORK LED: steady when the register is reachable, fast blink while probes
        fail, off when it is down."""
        ...

    def set_alarm(self, mode: AlarmMode) -> None:
        """ALARM LED and buzzer."""
        ...

    async def lamp_test(self) -> tuple[Output, ...]:
        """Light and sound every fitted output in turn, then show the current modes again;
        return the outputs tested, so that the operator can be asked to confirm them."""
        ...

    def close(self) -> None: ...
