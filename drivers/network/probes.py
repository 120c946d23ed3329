"""The real Connectivity adapter: layered probes from the uplink's carrier to the
register's ``/healthz``.

- LINK: carrier and operstate of the configured uplink (sysfs). An interface that does
  not exist fails; with no interface configured the layer is skipped.
- GATEWAY: the IPv4 default route (on the uplink, if configured) from the kernel over
  rtnetlink (``/proc/net`` is hidden in the kiosk's sandbox). With ``gateway_port`` the gateway must also answer a TCP connect
  on that port (an accepted or a refused connection both prove it is alive); without
  it, being in the routing table is enough. No ICMP: unprivileged ping needs sysctls.
- DNS: the register's host name through ``loop.getaddrinfo``; skipped for an IP literal.
  At most two look-ups are left running in the background (a hung resolver must not
  fill the event loop's default executor); beyond that the layer fails at once.
- TCP: a connect to the register's address and port (each resolved address in turn,
  within one timeout).
- HEALTH: ``GET /healthz`` on the address the TCP layer reached (Host header and TLS
  server name stay the register's name), which must answer 200.

With several register API nodes (``other_urls``), DNS, TCP and HEALTH are tried for
each node in turn until one passes all three: one node down while another answers is
no outage (the kiosk's register client fails over the same way). Only when every node
fails does the round report the first node's failure.

Each layer has its own timeout from :class:`valgkiosk.core.outage.Timings`, the whole
round is bounded by ``round_timeout``, a layer above a failed one is skipped, and no
exception escapes (cancellation apart): each becomes a failed layer with a Norwegian
detail.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from valgkiosk.core.outage import Layer, Timings
from valgkiosk.ports.clock import Clock, SystemClock
from valgkiosk.ports.connectivity import LAYER_NB, LayerResult, LayerStatus, ProbeResult

from .routes import SYS_CLASS_NET, default_route, read_link

__all__ = ["NetworkProbes", "Resolver"]

#: ``getaddrinfo(host, port, *, type=...)`` as on the event loop.
Resolver = Callable[..., Awaitable[list[tuple[Any, ...]]]]

_MAX_PENDING_LOOKUPS = 2


def _s(seconds: float) -> str:
    """Seconds the Norwegian way: 0,25 s."""
    return f"{seconds:g} s".replace(".", ",")


class _Failed(Exception):
    """A layer failed; ``args[0]`` is the Norwegian detail."""


def _os_error_nb(exc: OSError, what: str) -> str:
    """A short Norwegian sentence for a socket error while reaching ``what``."""
    if isinstance(exc, ConnectionRefusedError):
        return f"{what} avviser forbindelsen (tjenesten kjører ikke?)"
    code = exc.errno
    if code in (errno.ENETUNREACH, errno.ENETDOWN):
        return f"{what}: nettet kan ikke nås (ingen rute)"
    if code == errno.EHOSTUNREACH:
        return f"{what}: maskinen kan ikke nås"
    if code == errno.ECONNRESET:
        return f"{what} brøt forbindelsen"
    if isinstance(exc, ssl.SSLError):
        return f"{what}: TLS-feil ({exc.reason or type(exc).__name__})"
    return f"{what}: nettverksfeil ({exc.strerror or type(exc).__name__})"


class NetworkProbes:
    """Probes the way to the register at ``register_url`` (``http(s)://host[:port][/base]``).

    ``interface`` is the uplink (e.g. ``"eth0"``; ``None`` skips LINK and takes any
    default route), ``gateway_port`` a TCP port the router answers on (``None``: the
    route's presence is enough; ``check_gateway=False`` skips the layer, for a register
    on the kiosk's own subnet). ``verify`` is httpx's TLS setting (the register's CA
    file). ``now`` stamps rounds (the detector's time), ``clock`` measures each layer.
    The remaining parameters are for tests."""

    def __init__(
        self,
        register_url: str,
        *,
        interface: str | None = None,
        gateway_port: int | None = None,
        check_gateway: bool = True,
        timings: Timings = Timings(),
        round_timeout: float | None = None,
        verify: ssl.SSLContext | str | bool = True,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Clock | None = None,
        resolver: Resolver | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sys_class_net: Path = SYS_CLASS_NET,
        proc_net_route: Path | None = None,
        other_urls: tuple[str, ...] | list[str] = (),
    ) -> None:
        self._targets = [_target(u) for u in (register_url, *other_urls)]
        self._aim(0)
        self.interface = interface
        self.gateway_port = gateway_port
        self.check_gateway = check_gateway
        self.timings = timings
        self.round_timeout = round_timeout if round_timeout is not None else (
            timings.link_timeout + timings.gateway_timeout + len(self._targets) * (
                timings.dns_timeout + timings.tcp_timeout + timings.health_timeout) + 0.25)
        self._now = now
        self._clock = clock or SystemClock()
        self._resolver = resolver
        self._sys_class_net = sys_class_net
        self._proc_net_route = proc_net_route
        self._pending_lookups: set[asyncio.Future[Any]] = set()
        self._client_args: dict[str, Any] = dict(
            verify=verify, transport=transport, follow_redirects=False, trust_env=False,
            # a fresh connection every round: a pooled one would hide a dead path
            limits=httpx.Limits(max_keepalive_connections=0),
            timeout=httpx.Timeout(timings.health_timeout),
        )
        self._http: httpx.AsyncClient | None = None

    @property
    def _client(self) -> httpx.AsyncClient:
        """The HTTP client, made at the first health probe (after the kiosk's first screen:
        making it imports httpcore and loads the CA bundle; docs/benchmarks.md)."""
        if self._http is None:
            self._http = httpx.AsyncClient(**self._client_args)
        return self._http

    # -- the port ---------------------------------------------------------------------

    async def probe_round(self) -> ProbeResult:
        """One round of probes (see the module docstring). Never raises."""
        results: list[LayerResult] = []
        current: list[tuple[Layer, float]] = []  # the layer running now, and since when
        addresses: list[str] = []

        async def run(layer: Layer, probe: Callable[[], Awaitable[tuple[LayerStatus, str]]],
                      timeout: float) -> bool:
            started = self._clock.monotonic()
            current[:] = [(layer, started)]
            try:
                async with asyncio.timeout(timeout):
                    status, detail = await probe()
            except TimeoutError:
                status, detail = LayerStatus.FAILED, self._timeout_detail(layer, timeout)
            except _Failed as exc:
                status, detail = LayerStatus.FAILED, str(exc.args[0])
            except Exception as exc:  # noqa: BLE001 - the round must never raise
                status, detail = LayerStatus.FAILED, f"uventet feil: {type(exc).__name__}: {exc}"[:200]
            current.clear()
            results.append(LayerResult(layer, status, detail, self._clock.monotonic() - started))
            return status is not LayerStatus.FAILED

        async def layers() -> None:
            t = self.timings
            if not await run(Layer.LINK, self._link, t.link_timeout):
                return
            if not await run(Layer.GATEWAY, self._gateway, t.gateway_timeout):
                return
            first_failure: list[LayerResult] = []
            for index in range(len(self._targets)):
                self._aim(index)
                mark = len(results)
                addresses.clear()
                if (await run(Layer.DNS, lambda: self._dns(addresses), t.dns_timeout)
                        and await run(Layer.TCP, lambda: self._tcp(addresses), t.tcp_timeout)
                        and await run(Layer.HEALTH, lambda: self._health(addresses), t.health_timeout)):
                    return  # this node answers: no outage, whichever node it is
                if index == 0:
                    first_failure = results[mark:]
                if index < len(self._targets) - 1:
                    del results[mark:]  # another node may still answer
            if len(self._targets) > 1:  # every node failed: report the first one's failure
                results[:] = [r for r in results if r.layer in (Layer.LINK, Layer.GATEWAY)] + first_failure

        try:
            async with asyncio.timeout(self.round_timeout):
                await layers()
        except TimeoutError:
            if current:
                layer, started = current[0]
                results.append(LayerResult(layer, LayerStatus.FAILED,
                                           f"runden brukte mer enn {_s(self.round_timeout)}",
                                           self._clock.monotonic() - started))
        done = {r.layer for r in results}
        failed = next((r.layer for r in results if r.failed), None)
        for layer in Layer:
            if layer not in done:
                why = f"ikke prøvd: {layer_name(failed)} feilet" if failed is not None else "ikke prøvd"
                results.append(LayerResult(layer, LayerStatus.SKIPPED, why))
        results.sort(key=lambda r: r.layer)
        self._aim(0)
        return ProbeResult(self._now(), tuple(results))

    def _aim(self, index: int) -> None:
        """Point the DNS, TCP and HEALTH layers at register node ``index``."""
        self.url, self.host, self.port, self.is_literal = self._targets[index]

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def __aenter__(self) -> "NetworkProbes":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the layers -------------------------------------------------------------------

    def _timeout_detail(self, layer: Layer, timeout: float) -> str:
        what = {
            Layer.LINK: "nettverkskortet",
            Layer.GATEWAY: "ruteren",
            Layer.DNS: f"navneoppslaget for {self.host}",
            Layer.TCP: f"manntallet ({self.host}:{self.port})",
            Layer.HEALTH: "manntallets helsesjekk",
        }[layer]
        return f"ingen svar fra {what} innen {_s(timeout)}"

    async def _link(self) -> tuple[LayerStatus, str]:
        if self.interface is None:
            return LayerStatus.SKIPPED, "ingen nettverkskort er satt opp for overvåking"
        state = read_link(self.interface, self._sys_class_net)
        name = f"Nettverkskortet «{self.interface}»"
        if not state.exists:
            raise _Failed(f"{name} finnes ikke")
        if state.carrier is None:
            raise _Failed(f"{name} er slått av")
        if not state.carrier:
            raise _Failed(f"{name} har ingen kobling: nettkabelen er ute, eller ruteren er uten strøm")
        if not state.up:
            raise _Failed(f"{name} er ikke klart (tilstand «{state.operstate}»)")
        return LayerStatus.OK, f"{name} har kobling"

    async def _gateway(self) -> tuple[LayerStatus, str]:
        if not self.check_gateway:
            return LayerStatus.SKIPPED, "ruteren overvåkes ikke (manntallet er på samme nett)"
        try:
            route = default_route(self.interface, self._proc_net_route)
        except OSError as exc:
            raise _Failed(f"rutetabellen kan ikke leses ({exc.strerror or exc})") from None
        if route is None:
            where = f" via «{self.interface}»" if self.interface else ""
            raise _Failed(f"ingen standardrute{where}: kiosken har ikke fått adresse fra ruteren")
        if self.gateway_port is None:
            return LayerStatus.OK, f"standardrute via {route.gateway} (bare sjekket i rutetabellen)"
        what = f"Ruteren ({route.gateway}:{self.gateway_port})"
        try:
            _, writer = await asyncio.open_connection(route.gateway, self.gateway_port)
        except ConnectionRefusedError:
            return LayerStatus.OK, f"ruteren {route.gateway} svarer (porten er lukket)"
        except OSError as exc:
            raise _Failed(_os_error_nb(exc, what)) from None
        await _close(writer)
        return LayerStatus.OK, f"ruteren {route.gateway} svarer"

    async def _dns(self, addresses: list[str]) -> tuple[LayerStatus, str]:
        if self.is_literal:
            addresses[:] = [self.host]
            return LayerStatus.SKIPPED, f"{self.host} er en IP-adresse: ikke noe navneoppslag"
        if len(self._pending_lookups) >= _MAX_PENDING_LOOKUPS:
            raise _Failed(f"navneoppslaget for {self.host} henger fortsatt fra forrige runde")
        resolver = self._resolver or asyncio.get_running_loop().getaddrinfo
        lookup = asyncio.ensure_future(resolver(self.host, self.port, type=socket.SOCK_STREAM))
        self._pending_lookups.add(lookup)
        lookup.add_done_callback(self._lookup_done)
        try:
            infos = await asyncio.shield(lookup)  # a timed-out look-up finishes in the background
        except socket.gaierror as exc:
            raise _Failed(f"fant ikke {self.host} i navneoppslaget ({exc.strerror or exc})") from None
        found = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not found:
            raise _Failed(f"navneoppslaget for {self.host} ga ingen adresser")
        addresses[:] = found
        return LayerStatus.OK, f"{self.host} er {', '.join(found[:3])}"

    def _lookup_done(self, lookup: asyncio.Future[Any]) -> None:
        self._pending_lookups.discard(lookup)
        if not lookup.cancelled():
            lookup.exception()  # retrieved: a late failure is not an "unhandled" one

    async def _tcp(self, addresses: list[str]) -> tuple[LayerStatus, str]:
        errors: list[str] = []
        for address in addresses or [self.host]:
            what = f"Manntallet ({_hostport(address, self.port)})"
            try:
                _, writer = await asyncio.open_connection(address, self.port)
            except OSError as exc:
                errors.append(_os_error_nb(exc, what))
                continue
            await _close(writer)
            addresses[:] = [address]  # HEALTH asks the address that answered
            return LayerStatus.OK, f"forbindelse til {_hostport(address, self.port)}"
        raise _Failed("; ".join(errors))

    async def _health(self, addresses: list[str]) -> tuple[LayerStatus, str]:
        address = addresses[0] if addresses else self.host
        url = self.url.copy_with(host=address, path=self.url.path.rstrip("/") + "/healthz",
                                 query=None, fragment=None)
        extensions = {"sni_hostname": self.host} if self.url.scheme == "https" and not self.is_literal else {}
        try:
            response = await self._client.get(url, headers={"Host": self.url.netloc.decode("ascii")},
                                              extensions=extensions)
        except httpx.TimeoutException:
            raise _Failed(self._timeout_detail(Layer.HEALTH, self.timings.health_timeout)) from None
        except httpx.HTTPError as exc:
            cause = _os_cause(exc)
            if cause is not None:
                raise _Failed(_os_error_nb(cause, "Manntallets helsesjekk")) from None
            raise _Failed(f"manntallets helsesjekk feilet: {type(exc).__name__}: {exc}"[:200]) from None
        if response.status_code != 200:
            raise _Failed(f"manntallet svarer, men melder feil (HTTP {response.status_code})")
        return LayerStatus.OK, "manntallet svarer at alt er i orden"


def _target(register_url: str) -> tuple[httpx.URL, str, int, bool]:
    """A register node's URL, host, port and whether the host is an IP literal."""
    url = httpx.URL(register_url)
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"ikke en http(s)-adresse: {register_url!r}")
    try:
        ipaddress.ip_address(url.host)
        literal = True
    except ValueError:
        literal = False
    return url, url.host, url.port or (443 if url.scheme == "https" else 80), literal


def layer_name(layer: Layer | None) -> str:
    return "ingen" if layer is None else LAYER_NB[layer].lower()


def _os_cause(exc: BaseException) -> OSError | None:
    """The socket error under an httpx error (httpx wraps httpcore, which wraps it)."""
    found: OSError | None = None
    seen: BaseException | None = exc
    for _ in range(8):
        seen = (seen.__cause__ or seen.__context__) if seen is not None else None
        if isinstance(seen, OSError) and (found is None or seen.errno is not None):
            found = seen  # the deepest one with an errno says most
    return found


def _hostport(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    try:
        await asyncio.wait_for(writer.wait_closed(), 0.05)
    except (OSError, TimeoutError):
        pass
