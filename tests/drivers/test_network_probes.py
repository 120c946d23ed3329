"""The network probes against a real register process on 127.0.0.1.

Traffic goes only to 127.0.0.1: the routing table and sysfs the probes read are files
written here (a default route through 127.0.0.1 on ``lo``), and every host name is
resolved by a fake resolver.
"""

from __future__ import annotations

import asyncio
import http.server
import signal
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.register.factory import fill
from tests.register.server import ProcessServer, free_port
from valgkiosk.core import outage
from valgkiosk.core.outage import Layer, Timings
from valgkiosk.drivers.network import NetworkProbes, SimulatedConnectivity, default_route, read_link
from valgkiosk.ports.connectivity import LayerStatus, ProbeResult
from valgkiosk.register.store import open_store

OK, FAILED, SKIPPED = LayerStatus.OK, LayerStatus.FAILED, LayerStatus.SKIPPED
# generous per-layer timeouts: the machine is shared and may be loaded
TIMINGS = Timings(link_timeout=1.0, gateway_timeout=1.0, dns_timeout=1.0, tcp_timeout=1.0, health_timeout=2.0)


def route_file(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "route"
    header = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"
    path.write_text("\n".join([header, *lines]) + "\n")
    return path


#: a default route through 127.0.0.1 on lo (the kernel prints addresses little-endian)
LO_DEFAULT = "lo\t00000000\t0100007F\t0003\t0\t0\t0\t00000000\t0\t0\t0"


@pytest.fixture
def routes(tmp_path: Path) -> Path:
    return route_file(tmp_path, [LO_DEFAULT])


def make_db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/register.db"
    store = open_store(url)
    store.migrate()
    fill(store)
    store.close()
    return url


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProcessServer]:
    """A healthy register process for the whole module."""
    tmp = tmp_path_factory.mktemp("register")
    server = ProcessServer(make_db(tmp), tmp / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def probe(url: str, routes: Path, **kwargs: object) -> ProbeResult:
    async def run() -> ProbeResult:
        kwargs.setdefault("interface", "lo")
        async with NetworkProbes(url, proc_net_route=routes, timings=TIMINGS, **kwargs) as probes:  # type: ignore[arg-type]
            return await probes.probe_round()
    return asyncio.run(run())


def statuses(result: ProbeResult) -> dict[str, str]:
    return {r.layer.name: r.status.value for r in result.layers}


# -- a healthy register -------------------------------------------------------------------


def test_healthy_register_all_layers_good_and_ip_literal_skips_dns(register: ProcessServer, routes: Path) -> None:
    result = probe(register.url, routes, gateway_port=register.port)
    assert statuses(result) == {"LINK": "ok", "GATEWAY": "ok", "DNS": "skipped", "TCP": "ok", "HEALTH": "ok"}
    assert result.first_failed is None and result.ok
    assert "IP-adresse" in result.result(Layer.DNS).detail
    assert result.to_round() == outage.ProbeRound(result.at, None)
    assert result.at.tzinfo is not None


def test_named_register_resolves_then_connects_to_the_address(register: ProcessServer, routes: Path) -> None:
    asked: list[str] = []

    async def resolver(host: str, port: int, **_: object) -> list[tuple]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    result = probe(f"http://register.valg.test:{register.port}", routes, resolver=resolver)
    assert asked == ["register.valg.test"]
    assert statuses(result) == {"LINK": "ok", "GATEWAY": "ok", "DNS": "ok", "TCP": "ok", "HEALTH": "ok"}
    assert "127.0.0.1" in result.result(Layer.DNS).detail


def test_gateway_that_refuses_the_port_is_alive(register: ProcessServer, routes: Path) -> None:
    result = probe(register.url, routes, gateway_port=free_port())
    assert result.status(Layer.GATEWAY) is OK
    assert "svarer" in result.result(Layer.GATEWAY).detail


def test_gateway_only_in_routing_table_without_a_port(register: ProcessServer, routes: Path) -> None:
    result = probe(register.url, routes)
    assert result.status(Layer.GATEWAY) is OK
    assert "rutetabellen" in result.result(Layer.GATEWAY).detail


# -- failures, one layer at a time --------------------------------------------------------


def test_missing_interface_fails_link(register: ProcessServer, routes: Path) -> None:
    result = probe(register.url, routes, interface="finnesikke0")
    assert result.first_failed is Layer.LINK
    assert "finnes ikke" in result.detail
    assert [result.status(layer) for layer in Layer] == [FAILED, SKIPPED, SKIPPED, SKIPPED, SKIPPED]
    assert result.to_round().failed is Layer.LINK


@pytest.mark.parametrize(("operstate", "carrier", "words"), [
    ("down", "0", "ingen kobling"),         # cable out: NO-CARRIER
    ("down", None, "slått av"),             # ip link set dev down: the kernel hides the carrier
    ("dormant", "1", "ikke klart"),
])
def test_link_down_states(register: ProcessServer, routes: Path, tmp_path: Path,
                          operstate: str, carrier: str | None, words: str) -> None:
    sysfs = tmp_path / "net"
    (sysfs / "eth9").mkdir(parents=True)
    (sysfs / "eth9" / "operstate").write_text(operstate + "\n")
    if carrier is not None:
        (sysfs / "eth9" / "carrier").write_text(carrier + "\n")
    else:
        (sysfs / "eth9" / "carrier").mkdir()  # unreadable, as the kernel's EINVAL for a downed interface
    result = probe(register.url, routes, interface="eth9", sys_class_net=sysfs)
    assert result.first_failed is Layer.LINK
    assert words in result.detail
    assert read_link("eth9", sysfs).up is False and read_link("lo").up is True


def test_no_default_route_fails_gateway(register: ProcessServer, tmp_path: Path) -> None:
    routes = route_file(tmp_path, ["lo\t0000007F\t00000000\t0001\t0\t0\t0\t000000FF\t0\t0\t0"])
    result = probe(register.url, routes)
    assert result.first_failed is Layer.GATEWAY
    assert "standardrute" in result.detail
    assert default_route(None, routes) is None


def test_default_route_on_another_interface_does_not_count(register: ProcessServer, tmp_path: Path) -> None:
    routes = route_file(tmp_path, ["wwan0\t00000000\t0100007F\t0003\t0\t0\t0\t00000000\t0\t0\t0"])
    assert probe(register.url, routes).first_failed is Layer.GATEWAY
    assert default_route(None, routes) is not None
    assert probe(register.url, routes, interface=None).status(Layer.LINK) is SKIPPED
    assert probe(register.url, routes, interface=None).first_failed is None


def test_dns_failure_and_unexpected_errors_become_failed_layers(register: ProcessServer, routes: Path) -> None:
    async def unknown(host: str, port: int, **_: object) -> list[tuple]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async def broken(host: str, port: int, **_: object) -> list[tuple]:
        raise RuntimeError("resolver exploded")

    result = probe(f"http://register.valg.test:{register.port}", routes, resolver=unknown)
    assert result.first_failed is Layer.DNS and "fant ikke register.valg.test" in result.detail
    result = probe(f"http://register.valg.test:{register.port}", routes, resolver=broken)
    assert result.first_failed is Layer.DNS and "uventet feil" in result.detail


def test_hung_resolver_times_out_and_is_not_piled_up(register: ProcessServer, routes: Path) -> None:
    release = asyncio.Event()
    calls = 0

    async def hung(host: str, port: int, **_: object) -> list[tuple]:
        nonlocal calls
        calls += 1
        await release.wait()
        return []

    async def run() -> list[ProbeResult]:
        timings = Timings(dns_timeout=0.1)
        async with NetworkProbes(f"http://register.valg.test:{register.port}", interface="lo",
                                 proc_net_route=routes, timings=timings, resolver=hung) as probes:
            results = []
            for _ in range(3):
                started = time.monotonic()
                results.append(await probes.probe_round())
                assert time.monotonic() - started < 1.0
            release.set()
            await asyncio.sleep(0.05)
            return results

    results = asyncio.run(run())
    assert [r.first_failed for r in results] == [Layer.DNS] * 3
    assert "innen 0,1 s" in results[0].detail
    assert "henger fortsatt" in results[2].detail
    assert calls == 2  # the third round did not start another look-up


def test_stopped_register_fails_tcp_and_restart_recovers(tmp_path: Path, routes: Path) -> None:
    server = ProcessServer(make_db(tmp_path), tmp_path / "server.log")
    server.start()
    try:
        assert probe(server.url, routes).first_failed is None
        server.stop()
        result = probe(server.url, routes)
        assert result.first_failed is Layer.TCP
        assert "avviser forbindelsen" in result.detail
        assert result.status(Layer.HEALTH) is SKIPPED
        server.start()
        assert probe(server.url, routes).first_failed is None
    finally:
        server.stop()


class _Answer(http.server.BaseHTTPRequestHandler):
    status = 500

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        body = b'{"status":"broken"}'
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_server() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that answers 500 to everything."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_server_answering_500_fails_health(failing_server: str, routes: Path) -> None:
    result = probe(failing_server, routes)
    assert statuses(result) == {"LINK": "ok", "GATEWAY": "ok", "DNS": "skipped", "TCP": "ok", "HEALTH": "failed"}
    assert result.first_failed is Layer.HEALTH
    assert "HTTP 500" in result.detail


def test_silent_server_times_out_health_within_its_timeout(routes: Path) -> None:
    """Accepts connections and never answers: HEALTH fails after health_timeout, not later."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"

        async def run() -> tuple[ProbeResult, float]:
            async with NetworkProbes(url, interface="lo", proc_net_route=routes,
                                     timings=Timings(health_timeout=0.3)) as probes:
                started = time.monotonic()
                result = await probes.probe_round()
                return result, time.monotonic() - started

        result, took = asyncio.run(run())
    assert result.first_failed is Layer.HEALTH
    assert "innen 0,3 s" in result.detail
    assert took < 1.5


def test_round_is_bounded_as_a_whole(register: ProcessServer, routes: Path) -> None:
    async def slow(host: str, port: int, **_: object) -> list[tuple]:
        await asyncio.sleep(5)
        return []

    async def run() -> tuple[ProbeResult, float]:
        async with NetworkProbes(f"http://register.valg.test:{register.port}", interface="lo",
                                 proc_net_route=routes, timings=Timings(dns_timeout=3.0),
                                 round_timeout=0.2, resolver=slow) as probes:
            started = time.monotonic()
            result = await probes.probe_round()
            return result, time.monotonic() - started

    result, took = asyncio.run(run())
    assert result.first_failed is Layer.DNS
    assert "runden brukte mer enn 0,2 s" in result.detail
    assert took < 1.0


def test_real_rounds_through_the_detector(tmp_path: Path, routes: Path) -> None:
    """Stop the register: the detector declares a TCP outage; start it: the outage ends."""
    timings = Timings(fail_after=3, recover_after=2)
    server = ProcessServer(make_db(tmp_path), tmp_path / "server.log")
    server.start()

    async def rounds(probes: NetworkProbes, n: int) -> list[ProbeResult]:
        return [await probes.probe_round() for _ in range(n)]

    async def run() -> list[ProbeResult]:
        async with NetworkProbes(server.url, interface="lo", proc_net_route=routes, timings=TIMINGS) as probes:
            seen = await rounds(probes, 2)
            server.stop()
            seen += await rounds(probes, 4)
            server.start()
            seen += await rounds(probes, 3)
            return seen

    try:
        seen = asyncio.run(run())
    finally:
        server.stop()
    effects = run_detector([r.to_round() for r in seen], timings)
    assert [type(e).__name__ for e in effects] == ["OutageStarted", "OutageEnded"]
    assert effects[0].layer is Layer.TCP  # type: ignore[union-attr]


def run_detector(rounds: list[outage.ProbeRound], timings: Timings) -> list[outage.Effect]:
    state, effects = outage.DetectorState(), []
    for event in rounds:
        state, new = outage.step(state, event, timings)
        effects += [e for e in new if not isinstance(e, outage.Probing)]
    return effects


# -- the simulated twin -------------------------------------------------------------------


def test_simulated_twin_controls_and_detector() -> None:
    clock = [datetime(2025, 9, 8, 9, 0, tzinfo=UTC)]

    def now() -> datetime:
        clock[0] += timedelta(seconds=0.25)
        return clock[0]

    sim = SimulatedConnectivity(named=False, now=now)
    timings = Timings()

    async def run() -> list[ProbeResult]:
        out = [await sim.probe_round()]
        sim.stop_register()
        sim.cut_link()
        out += [await sim.probe_round() for _ in range(timings.fail_after)]
        sim.restore_link()
        out.append(await sim.probe_round())
        sim.start_register()
        out += [await sim.probe_round() for _ in range(timings.recover_after)]
        return out

    results = asyncio.run(run())
    assert results[0].ok and results[0].status(Layer.DNS) is SKIPPED
    assert results[1].first_failed is Layer.LINK
    assert [results[1].status(layer) for layer in Layer] == [FAILED, SKIPPED, SKIPPED, SKIPPED, SKIPPED]
    assert results[timings.fail_after + 1].first_failed is Layer.TCP
    effects = run_detector([r.to_round() for r in results], timings)
    assert [type(e).__name__ for e in effects] == ["OutageStarted", "OutageEnded"]
    assert effects[0].layer is Layer.LINK  # type: ignore[union-attr]

    sim.fail_layer(Layer.HEALTH, "HTTP 503")
    assert asyncio.run(sim.probe_round()).detail == "HTTP 503"
    assert "valgtelefonen" in sim.diagnosis()
    sim.lose_internet()
    assert SimulatedConnectivity().failing() == {}
    assert min(sim.failing()) is Layer.DNS
    sim.restore_all()
    assert asyncio.run(sim.probe_round()).ok and sim.diagnosis() == ""


# -- several register API nodes -----------------------------------------------------------


def test_one_node_down_another_answering_is_no_outage(register: ProcessServer, failing_server: str,
                                                       routes: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    result = probe(dead, routes, other_urls=[failing_server, register.url])
    assert statuses(result) == {"LINK": "ok", "GATEWAY": "ok", "DNS": "skipped", "TCP": "ok", "HEALTH": "ok"}
    assert result.first_failed is None and result.ok
    assert str(register.port) in result.result(Layer.TCP).detail  # the node that answered


def test_every_node_down_reports_the_first_nodes_failure(failing_server: str, routes: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    result = probe(dead, routes, other_urls=[failing_server])
    assert result.first_failed is Layer.TCP and "avviser forbindelsen" in result.detail
    assert result.status(Layer.HEALTH) is SKIPPED


# -- sim mode against a real register: the dock's cable and router, the register for real --


def test_sim_network_probes_a_real_register_for_real(tmp_path: Path, routes: Path) -> None:
    """In sim mode the demo's register is a real process: stopping it (SIGSTOP: connected, never
    answering) must fail the health layer as on a kiosk, not be hidden by the simulation; the
    dock's cable cut still comes first and the real register is then not asked."""
    server = ProcessServer(make_db(tmp_path), tmp_path / "server.log")
    server.start()
    try:
        real = NetworkProbes(server.url, interface=None, check_gateway=False, proc_net_route=routes,
                             timings=Timings(health_timeout=0.5))
        sim = SimulatedConnectivity(named=False, register=real)

        async def rounds() -> list[ProbeResult]:
            found = [await sim.probe_round()]
            server.proc.send_signal(signal.SIGSTOP)
            try:
                found.append(await sim.probe_round())
                sim.cut_link()
                found.append(await sim.probe_round())
                sim.restore_link()
            finally:
                server.proc.send_signal(signal.SIGCONT)
            found.append(await sim.probe_round())
            await sim.aclose()
            return found

        healthy, hung, cut, back = asyncio.run(rounds())
    finally:
        server.stop()
    assert statuses(healthy) == {"LINK": "ok", "GATEWAY": "ok", "DNS": "skipped", "TCP": "ok", "HEALTH": "ok"}
    assert "manntallet svarer" in healthy.result(Layer.HEALTH).detail  # the real probe's words, not "(simulert)"
    assert hung.first_failed is Layer.HEALTH and "simulert" not in hung.detail
    assert cut.first_failed is Layer.LINK and statuses(cut)["HEALTH"] == "skipped"
    assert back.ok and back.first_failed is None
    assert sim.rounds == 4
