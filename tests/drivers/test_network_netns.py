"""Real link cuts: the register and the probes in two network namespaces joined by a veth
pair, whose link is cut and restored. Root only (and needs ``ip``).

Addresses are private and exist only inside the namespaces made here: the register
listens on 10.203.0.1 in one, the probes run from 10.203.0.2 in the other, with a
default route through 10.203.0.1. Nothing else is ever contacted. The namespaces carry
this process's pid in their names and are always deleted in the fixture's teardown.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from tests.register.factory import fill
from valgkiosk.core import outage
from valgkiosk.core.outage import Layer, Timings
from tests.netns_testbed import (
    KIOSK_IF,
    REGISTER_ADDR,
    REGISTER_IF,
    REGISTER_PORT,
    JsonLines,
    NamespacePair,
    ip,
)
from valgkiosk.register.store import open_store

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root: run the tests as root to cut a real link"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="the «ip» command (iproute2) is not installed"),
    pytest.mark.slow,
    pytest.mark.timeout(60),
]

DETECTOR = Timings()  # the detector's defaults: 8 failed rounds to declare, 12 good to recover

PROBE_SCRIPT = """
import asyncio, json, sys
from valgkiosk.core.outage import Timings
from valgkiosk.drivers.network import NetworkProbes

async def main():
    url, interface, gateway_port, duration = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    timings = Timings(gateway_timeout=0.5, tcp_timeout=0.5, health_timeout=1.0)
    loop = asyncio.get_running_loop()
    end = loop.time() + duration
    async with NetworkProbes(url, interface=interface, gateway_port=gateway_port, timings=timings) as probes:
        while loop.time() < end:
            result = await probes.probe_round()
            print(json.dumps(result.to_json()), flush=True)
            await asyncio.sleep(timings.probe_interval)

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NamespacePair]:
    """Two namespaces, a veth pair, and a register serving in the first one."""
    tmp = tmp_path_factory.mktemp("netns")
    db = f"sqlite:///{tmp}/register.db"
    store = open_store(db)
    store.migrate()
    fill(store)
    store.close()
    pair = NamespacePair()
    try:
        pair.serve(db, tmp / "register.log")
        yield pair
    finally:
        pair.close()


class ProbeRun(JsonLines):
    """The probes in the kiosk's namespace, one JSON line per round."""

    def __init__(self, n: NamespacePair, duration: float = 45.0) -> None:
        super().__init__(n.in_kiosk(sys.executable, "-c", PROBE_SCRIPT, f"http://{REGISTER_ADDR}:{REGISTER_PORT}",
                                    KIOSK_IF, str(REGISTER_PORT), str(duration),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE))  # fmt: skip
        self.rounds = self.seen

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


def run_of(rounds: list[dict], good: bool) -> int:
    """How many rounds at the end are all good (``good``) or failing."""
    n = 0
    for r in reversed(rounds):
        if (r["first_failed"] is None) != good:
            break
        n += 1
    return n


@pytest.mark.parametrize("side", ["router", "kiosk"])
def test_link_cut_and_restore(net: NamespacePair, side: str) -> None:
    """``router``: the register's end goes down, the kiosk sees NO-CARRIER (cable out,
    router without power). ``kiosk``: the kiosk's own interface is set down."""
    ns, dev = (net.register_ns, REGISTER_IF) if side == "router" else (net.kiosk_ns, KIOSK_IF)
    probes = ProbeRun(net)
    cut_at = restored_at = 0.0
    try:
        probes.until(lambda rs: run_of(rs, good=True) >= 4, 30, "all layers good before the cut")
        first_good = len(probes.rounds) - 4
        good = probes.rounds[-1]["layers"]
        assert {k: v["status"] for k, v in good.items()} == {
            "LINK": "ok", "GATEWAY": "ok", "DNS": "skipped", "TCP": "ok", "HEALTH": "ok"}

        ip("-n", ns, "link", "set", dev, "down")
        cut_at = time.monotonic()
        probes.until(lambda rs: rs[-1]["first_failed"] == "LINK", 5, "LINK fails after the cut")
        detected = time.monotonic() - cut_at
        probes.until(lambda rs: run_of(rs, good=False) >= DETECTOR.fail_after, 10, "a run of failed rounds")
        assert all(r["first_failed"] == "LINK" for r in probes.rounds[-DETECTOR.fail_after:])

        ip("-n", ns, "link", "set", dev, "up")
        if side == "kiosk":  # setting the interface down dropped its routes: the DHCP client's job
            ip("-n", net.kiosk_ns, "route", "replace", "default", "via", REGISTER_ADDR)
        restored_at = time.monotonic()
        probes.until(lambda rs: run_of(rs, good=True) >= DETECTOR.recover_after, 20, "all good after the restore")
        print(f"{side}: LINK seen {detected:.2f} s after the cut, "
              f"{DETECTOR.recover_after} good rounds {time.monotonic() - restored_at:.2f} s after the restore")
    finally:
        if cut_at and not restored_at:  # leave the link up for the next test
            subprocess.run(["ip", "-n", ns, "link", "set", dev, "up"], timeout=10, capture_output=True)
            subprocess.run(["ip", "-n", net.kiosk_ns, "route", "replace", "default", "via", REGISTER_ADDR],
                           timeout=10, capture_output=True)
        probes.close()

    state, effects = outage.DetectorState(), []
    for r in probes.rounds[first_good:]:
        failed = None if r["first_failed"] is None else Layer[r["first_failed"]]
        state, new = outage.step(state, outage.ProbeRound(datetime.fromisoformat(r["at"]), failed), DETECTOR)
        effects += [e for e in new if not isinstance(e, outage.Probing)]
    assert [type(e) for e in effects] == [outage.OutageStarted, outage.OutageEnded]
    started, ended = effects
    assert isinstance(started, outage.OutageStarted) and isinstance(ended, outage.OutageEnded)
    assert started.layer is Layer.LINK and ended.layer is Layer.LINK
    assert "nettkabelen" in started.diagnosis
    assert 0 < ended.duration_s < 30
    assert state == outage.DetectorState()
