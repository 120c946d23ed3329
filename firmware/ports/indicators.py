"""The Indicators port: the caretaker's status LEDs and the buzzer.

Modes, not pins: the shell says what to show (see :mod:`valgkiosk.core.sensing` for
which mode fits which state), the adapter turns modes into blink patterns.
"""

from __future__ import annotations

import enum
from typing import Protocol

from valgkiosk.core.values import (
    LedMode,
    AlarmMode,
    Output,
    OUTPUT_NB,
)


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


__all__ = [
    "LedMode",
    "AlarmMode",
    "Output",
    "OUTPUT_NB",
    "Indicators",
]
