"""The simulated twin of the network probes, for sim mode, the dev dock and scenario
tests: no sockets, every layer ok until told otherwise.

The controls may be called from any thread; the next round sees them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from valgkiosk.core.outage import DIAGNOSIS_NB, Layer
from valgkiosk.ports.connectivity import LayerResult, LayerStatus, ProbeResult

from .probes import layer_name

__all__ = ["SimulatedConnectivity"]

_FAIL_NB: dict[Layer, str] = {
    Layer.LINK: "Nettverkskortet har ingen kobling (simulert: nettkabelen er ute)",
    Layer.GATEWAY: "Ruteren svarer ikke (simulert)",
    Layer.DNS: "Navneoppslaget feiler (simulert)",
    Layer.TCP: "Manntallet avviser forbindelsen (simulert)",
    Layer.HEALTH: "Manntallet svarer, men melder feil (simulert: HTTP 503)",
}


class SimulatedConnectivity:
    """A :class:`~valgkiosk.ports.connectivity.Connectivity` driven by controls.

    ``named`` says whether the register is reached by name (DNS probed) or by an IP
    literal (DNS skipped). ``delay`` is how long a round takes (0: as fast as possible)."""

    def __init__(
        self,
        *,
        named: bool = True,
        delay: float = 0.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.named = named
        self.delay = delay
        self._now = now
        self._sleep = sleep
        self._failing: dict[Layer, str] = {}
        self.rounds = 0

    # -- the dev dock's controls ----------------------------------------------------------

    def fail_layer(self, layer: Layer, detail: str | None = None) -> None:
        """Make ``layer`` fail from the next round on (with ``detail``, or a standard one)."""
        self._failing[Layer(layer)] = detail or _FAIL_NB[Layer(layer)]

    def restore_layer(self, layer: Layer) -> None:
        self._failing.pop(Layer(layer), None)

    def restore_all(self) -> None:
        self._failing.clear()

    def cut_link(self) -> None:
        """The network cable is pulled (or the router loses power)."""
        self.fail_layer(Layer.LINK)

    def restore_link(self) -> None:
        self.restore_layer(Layer.LINK)

    def cut_gateway(self) -> None:
        """The router stops answering."""
        self.fail_layer(Layer.GATEWAY)

    def restore_gateway(self) -> None:
        self.restore_layer(Layer.GATEWAY)

    def lose_internet(self) -> None:
        """The router is up but has lost the internet: names no longer resolve."""
        self.fail_layer(Layer.DNS)

    def restore_internet(self) -> None:
        self.restore_layer(Layer.DNS)

    def stop_register(self) -> None:
        """The register's service is down: connections are refused."""
        self.fail_layer(Layer.TCP)

    def start_register(self) -> None:
        self.restore_layer(Layer.TCP)

    def register_unhealthy(self) -> None:
        """The register answers, but its health check reports an error."""
        self.fail_layer(Layer.HEALTH)

    def register_healthy(self) -> None:
        self.restore_layer(Layer.HEALTH)

    # -- what the dev dock shows ----------------------------------------------------------

    def failing(self) -> dict[Layer, str]:
        """The layers told to fail, with their details."""
        return dict(self._failing)

    def diagnosis(self) -> str:
        """The caretaker's words for the lowest failing layer (empty: all well)."""
        failing = self.failing()
        return DIAGNOSIS_NB[min(failing)] if failing else ""

    # -- the port -------------------------------------------------------------------------

    async def probe_round(self) -> ProbeResult:
        if self.delay:
            await self._sleep(self.delay)
        failing = self.failing()
        first = min(failing) if failing else None
        results = []
        for layer in Layer:
            if first is not None and layer > first:
                results.append(LayerResult(layer, LayerStatus.SKIPPED, f"ikke prøvd: {layer_name(first)} feilet"))
            elif layer is first:
                results.append(LayerResult(layer, LayerStatus.FAILED, failing[layer]))
            elif layer is Layer.DNS and not self.named:
                results.append(LayerResult(layer, LayerStatus.SKIPPED, "IP-adresse: ikke noe navneoppslag (simulert)"))
            else:
                results.append(LayerResult(layer, LayerStatus.OK, "i orden (simulert)"))
        self.rounds += 1
        return ProbeResult(self._now(), tuple(results))

    async def aclose(self) -> None:
        return None
