"""The PowerSensors port: whether mains, the router and the SIMULA box have power.

Each source is sensed on one input. A reading counts only once it has been stable for
the configured time (see :mod:`valgkiosk.core.sensing`); until then the state is
unknown (``None``). Sources that are not fitted stay unknown.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from valgkiosk.core.values import (
    PowerSource,
    SOURCE_NB,
    PowerChange,
)


class PowerSensors(Protocol):
    """A source of power-state changes. ``run`` is long-lived and returns only when
    cancelled; ``on_change`` is called on the event loop that runs ``run``."""

    def states(self) -> Mapping[PowerSource, bool | None]:
        """The stable state of every source now (``None``: unknown or not fitted)."""
        ...

    async def run(self, on_change: Callable[[PowerChange], None]) -> None: ...


__all__ = [
    "PowerSource",
    "SOURCE_NB",
    "PowerChange",
    "PowerSensors",
]
