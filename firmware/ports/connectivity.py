"""The Connectivity port: one round of layered probes from the cable up to the register.

Each round probes, in order, the uplink's carrier (LINK), the default gateway (GATEWAY),
the register's host name (DNS), a TCP connect to the register (TCP) and its health
endpoint (HEALTH). Every layer ends ``ok``, ``failed`` or ``skipped`` with a short
Norwegian detail for the screen and the loggbok. A layer above a failed one is not tried
(``skipped``): the first failing layer is what names the fault, and a round that stops
early keeps detection fast. :meth:`ProbeResult.to_round` gives the detector's input
(:class:`valgkiosk.core.outage.ProbeRound`).

``probe_round`` never raises (every error becomes a failed layer) and is bounded in time;
it may be cancelled.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from valgkiosk.core.outage import Layer, ProbeRound

__all__ = ["Connectivity", "LayerResult", "LayerStatus", "ProbeResult", "LAYER_NB"]


class LayerStatus(enum.Enum):
    """How one layer went in one round."""

    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # not applicable (an IP literal has no DNS) or not tried (a lower layer failed)


#: The layers' names for screens and the loggbok.
LAYER_NB: dict[Layer, str] = {
    Layer.LINK: "Nettverkskobling",
    Layer.GATEWAY: "Ruter",
    Layer.DNS: "Navneoppslag",
    Layer.TCP: "Forbindelse til manntallet",
    Layer.HEALTH: "Manntallets helsesjekk",
}


@dataclass(frozen=True, slots=True)
class LayerResult:
    """One layer in one round: its status, a short detail, and how long it took (s)."""

    layer: Layer
    status: LayerStatus
    detail: str = ""
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status is LayerStatus.OK

    @property
    def failed(self) -> bool:
        return self.status is LayerStatus.FAILED


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe round: when it finished, and one result per layer in :class:`Layer` order."""

    at: datetime
    layers: tuple[LayerResult, ...]

    @property
    def first_failed(self) -> Layer | None:
        """The lowest failing layer (``None``: every layer ok or skipped)."""
        return next((r.layer for r in self.layers if r.failed), None)

    @property
    def ok(self) -> bool:
        return self.first_failed is None

    def result(self, layer: Layer) -> LayerResult:
        """The result of ``layer`` (``skipped`` if the round has none)."""
        return next((r for r in self.layers if r.layer is layer), LayerResult(layer, LayerStatus.SKIPPED))

    def status(self, layer: Layer) -> LayerStatus:
        return self.result(layer).status

    @property
    def detail(self) -> str:
        """The first failing layer's detail, or empty when all is well."""
        first = self.first_failed
        return "" if first is None else self.result(first).detail

    def to_round(self) -> ProbeRound:
        """The detector's input for this round."""
        return ProbeRound(self.at, self.first_failed)

    def to_json(self) -> dict[str, object]:
        """A plain-data form, for logs, the dev dock and test subprocesses."""
        first = self.first_failed
        return {
            "at": self.at.isoformat(),
            "first_failed": None if first is None else first.name,
            "layers": {r.layer.name: {"status": r.status.value, "detail": r.detail,
                                      "elapsed": round(r.elapsed, 4)} for r in self.layers},
        }


class Connectivity(Protocol):
    """A source of probe rounds. The watchdog calls :meth:`probe_round` every
    ``Timings.probe_interval`` (one round at a time) and feeds ``to_round()`` to the
    detector. :meth:`aclose` releases sockets and clients when the kiosk stops."""

    async def probe_round(self) -> ProbeResult: ...

    async def aclose(self) -> None: ...
