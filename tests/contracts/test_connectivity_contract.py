"""The Connectivity port's contract: the simulated probes (sim mode, the dev dock) against
the real layered probes, each fault made for real on loopback — a downed interface in a
sysfs tree, a routing table without a default route, a resolver that knows no such name,
a closed port, a register answering 500 — and told to the twin by its dev-dock control.

For the same fault both must name the same first failing layer, skip every layer above
it, give a detail the clerk can read, and hand the detector the same round."""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.register.factory import fill
from tests.register.server import ProcessServer, free_port
from valgkiosk.core.outage import Layer, Timings
from valgkiosk.drivers.network import NetworkProbes, SimulatedConnectivity
from valgkiosk.ports.connectivity import Connectivity, LayerStatus, ProbeResult
from valgkiosk.register.store import open_store

pytestmark = pytest.mark.timeout(60)
TIMINGS = Timings(link_timeout=1.0, gateway_timeout=1.0, dns_timeout=1.0, tcp_timeout=1.0, health_timeout=2.0)
DEFAULT_VIA_ETH9 = "eth9\t00000000\t0100007F\t0003\t0\t0\t0\t00000000\t0\t0\t0"
NO_DEFAULT_ROUTE = "lo\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0"
HEADER = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"
NAME = "register.valg.test"


class _Answer500(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessServer]:
    tmp = tmp_path_factory.mktemp("register")
    url = f"sqlite:///{tmp}/register.db"
    store = open_store(url)
    store.migrate()
    fill(store)
    store.close()
    server = ProcessServer(url, tmp / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def answering_500() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer500)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


FAULTS = ["none", "link", "gateway", "dns", "tcp", "health"]
#: the statuses every adapter must give for each fault (named register: DNS is probed)
EXPECTED = {
    "none": ["ok", "ok", "ok", "ok", "ok"],
    "link": ["failed", "skipped", "skipped", "skipped", "skipped"],
    "gateway": ["ok", "failed", "skipped", "skipped", "skipped"],
    "dns": ["ok", "ok", "failed", "skipped", "skipped"],
    "tcp": ["ok", "ok", "ok", "failed", "skipped"],
    "health": ["ok", "ok", "ok", "ok", "failed"],
}


def simulated(fault: str, *, named: bool) -> Connectivity:
    sim = SimulatedConnectivity(named=named)
    {"none": lambda: None, "link": sim.cut_link, "gateway": sim.cut_gateway, "dns": sim.lose_internet,
     "tcp": sim.stop_register, "health": sim.register_unhealthy}[fault]()
    return sim


def real(fault: str, *, named: bool, tmp: Path, register_port: int, port_500: int) -> Connectivity:
    routes = tmp / "route"
    routes.write_text("\n".join([HEADER, NO_DEFAULT_ROUTE if fault == "gateway" else DEFAULT_VIA_ETH9]) + "\n")
    sysfs = tmp / "net"
    (sysfs / "eth9").mkdir(parents=True)
    (sysfs / "eth9" / "operstate").write_text("down\n" if fault == "link" else "up\n")
    (sysfs / "eth9" / "carrier").write_text("0\n" if fault == "link" else "1\n")
    port = {"tcp": free_port(), "health": port_500}.get(fault, register_port)

    async def resolver(host: str, port: int, **_: object) -> list[tuple[Any, ...]]:
        if fault == "dns":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    host = NAME if named else "127.0.0.1"
    return NetworkProbes(f"http://{host}:{port}", interface="eth9", sys_class_net=sysfs, proc_net_route=routes,
                         timings=TIMINGS, resolver=resolver)


def one_round(probes: Connectivity) -> ProbeResult:
    async def main() -> ProbeResult:
        try:
            return await probes.probe_round()
        finally:
            await probes.aclose()

    return asyncio.run(main())


@pytest.mark.parametrize(("fault", "named"), [
    pytest.param(fault, named, id=f"{fault}-{'named' if named else 'ip-literal'}")
    for named in (True, False) for fault in FAULTS if named or fault != "dns"  # an IP literal has no name
])
def test_the_same_fault_gives_the_same_round(fault: str, named: bool, tmp_path: Path, register: ProcessServer,
                                             answering_500: int) -> None:
    rounds = {
        "simulated": one_round(simulated(fault, named=named)),
        "real": one_round(real(fault, named=named, tmp=tmp_path, register_port=register.port,
                               port_500=answering_500)),
    }
    want = list(EXPECTED[fault])
    if not named:
        want[2] = "skipped"  # an IP literal: nothing to resolve
    for kind, result in rounds.items():
        assert [r.layer for r in result.layers] == list(Layer), kind  # one result per layer, in order
        assert [r.status.value for r in result.layers] == want, (kind, result.to_json())
        first = None if fault == "none" else next(r.layer for r in result.layers if r.status is LayerStatus.FAILED)
        assert result.first_failed is first and result.ok is (first is None), kind
        assert result.to_round().failed is first and result.to_round().at == result.at, kind
        assert result.at.tzinfo is not None, kind
        if first is not None:
            assert result.detail and result.detail == result.result(first).detail, kind
        for r in result.layers:
            assert r.detail, (kind, r.layer)  # every layer says something, also when skipped
    assert rounds["simulated"].to_round().failed is rounds["real"].to_round().failed
