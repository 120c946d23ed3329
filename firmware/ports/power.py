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


class PowerSource(enum.Enum):
    """What is sensed. ``MAINS`` is the kiosk's own supply (present: not on battery)."""

    MAINS = "mains"
    ROUTER = "router"
    SIMULA = "simula"


#: The caretaker's words for each source, for screens and the loggbok.
SOURCE_NB: dict[PowerSource, str] = {
    PowerSource.MAINS: "Strøm til kiosken",
    PowerSource.ROUTER: "Strøm til ruteren",
    PowerSource.SIMULA: "Strøm til SIMULA-boksen",
}


@dataclass(frozen=True, slots=True)
class PowerChange:
    """A stable change of one source: ``present`` from ``previous`` (``None``: unknown).

    ``edge_at`` is when the input changed, ``at`` when it had held for the stable time
    (both on the shell's monotonic clock)."""

    source: PowerSource
    present: bool
    previous: bool | None
    edge_at: float
    at: float


class PowerSensors(Protocol):
    """A source of power-state changes. ``run`` is long-lived and returns only when
    cancelled; ``on_change`` is called on the event loop that runs ``run``."""

    def states(self) -> Mapping[PowerSource, bool | None]:
        """The stable state of every source now (``None``: unknown or not fitted)."""
        ...

    async def run(self, on_change: Callable[[PowerChange], None]) -> None: ...
