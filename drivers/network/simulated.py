"""The simulated twin of the network probes, for sim mode, the dev dock and scenario
tests: no sockets, every layer ok until told otherwise.

In sim mode against a real register (the demo, `valgkiosk run --sim` with an http(s) URL),
the register's own layers can be probed for real as well (``register=``): the simulated
cable and router come first, and while they are "up" the DNS, TCP and health layers are
what the real probes found. A register that is really stopped or hung then sounds the
alarm in sim mode just as on a kiosk, instead of the simulation saying all is well.

The controls may be called from any thread; the next round sees them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from valgkiosk.core.outage import DIAGNOSIS_NB, Layer
from valgkiosk.ports.connectivity import Connectivity, LayerResult, LayerStatus, ProbeResult

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
    literal (DNS skipped). ``delay`` is how long a round takes (0: as fast as possible).
    ``register``, if given, is a real probe of the register (its LINK and GATEWAY layers
    are not used): the DNS, TCP and HEALTH layers come from it whenever the simulation
    fails none of them."""

    def __init__(
        self,
        *,
        named: bool = True,
        delay: float = 0.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        register: Connectivity | None = None,
    ) -> None:
        self.named = named
        self.register = register
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
        if not failing and self.register is not None:
            return await self._with_real_register()
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

    async def _with_real_register(self) -> ProbeResult:
        """A round with the simulated cable and router up and the register's layers probed for real."""
        assert self.register is not None
        real = await self.register.probe_round()
        results = [LayerResult(layer, LayerStatus.OK, "i orden (simulert)") for layer in (Layer.LINK, Layer.GATEWAY)]
        results += [r for r in real.layers if r.layer not in (Layer.LINK, Layer.GATEWAY)]
        self.rounds += 1
        return ProbeResult(self._now(), tuple(sorted(results, key=lambda r: r.layer)))

    async def aclose(self) -> None:
        if self.register is not None:
            await self.register.aclose()
