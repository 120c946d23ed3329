"""Real link cuts: the register and the probes in two network namespaces joined by a veth
pair, whose link is cut and restored. Root only (and needs ``ip``).

Addresses are private and exist only inside the namespaces made here: the register
listens on 10.203.0.1 in one, the probes run from 10.203.0.2 in the other, with a
default route through 10.203.0.1. Nothing else is ever contacted. The namespaces carry
this process's pid in their names and are always deleted in the fixture's teardown.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest

from tests.register.factory import fill
from valgkiosk.core import outage
from valgkiosk.core.outage import Layer, Timings
from valgkiosk.register.store import open_store

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root: run the tests as root to cut a real link"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="the «ip» command (iproute2) is not installed"),
    pytest.mark.slow,
    pytest.mark.timeout(60),
]

REGISTER_ADDR, KIOSK_ADDR, PREFIX = "10.203.0.1", "10.203.0.2", 30
REGISTER_PORT = 8470
REGISTER_IF, KIOSK_IF = "reg0", "uplink0"  # names inside the namespaces only
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


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, timeout=10, capture_output=True)


@dataclass
class Net:
    register_ns: str
    kiosk_ns: str


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Net]:
    """Two namespaces, a veth pair, and a register serving in the first one."""
    tmp = tmp_path_factory.mktemp("netns")
    pid = os.getpid()
    n = Net(f"vk-reg-{pid}", f"vk-kiosk-{pid}")
    register: subprocess.Popen[bytes] | None = None
    made: list[str] = []
    try:
        for ns in (n.register_ns, n.kiosk_ns):
            ip("netns", "add", ns)
            made.append(ns)
        ip("link", "add", REGISTER_IF, "netns", n.register_ns, "type", "veth",
           "peer", "name", KIOSK_IF, "netns", n.kiosk_ns)
        ip("-n", n.register_ns, "addr", "add", f"{REGISTER_ADDR}/{PREFIX}", "dev", REGISTER_IF)
        ip("-n", n.kiosk_ns, "addr", "add", f"{KIOSK_ADDR}/{PREFIX}", "dev", KIOSK_IF)
        for ns, dev in ((n.register_ns, REGISTER_IF), (n.kiosk_ns, KIOSK_IF)):
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "set", dev, "up")
        ip("-n", n.kiosk_ns, "route", "add", "default", "via", REGISTER_ADDR)

        db = f"sqlite:///{tmp}/register.db"
        store = open_store(db)
        store.migrate()
        fill(store)
        store.close()
        log = open(tmp / "register.log", "ab")  # noqa: SIM115 - closed right after the start
        register = subprocess.Popen(
            ["ip", "netns", "exec", n.register_ns, sys.executable, "-m", "valgkiosk", "register", "serve",
             "--db", db, "--host", REGISTER_ADDR, "--port", str(REGISTER_PORT), "--log-level", "warning"],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        yield n
    finally:
        if register is not None and register.poll() is None:
            register.terminate()
            try:
                register.wait(timeout=10)
            except subprocess.TimeoutExpired:
                register.kill()
                register.wait(timeout=10)
        for ns in reversed(made):  # deleting a namespace deletes its end of the veth pair
            subprocess.run(["ip", "netns", "del", ns], timeout=10, capture_output=True)


class ProbeRun:
    """The probes in the kiosk's namespace, one JSON line per round, read by a thread."""

    def __init__(self, n: Net, duration: float = 45.0) -> None:
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", n.kiosk_ns, sys.executable, "-c", PROBE_SCRIPT,
             f"http://{REGISTER_ADDR}:{REGISTER_PORT}", KIOSK_IF, str(REGISTER_PORT), str(duration)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue[dict | None] = queue.Queue()
        self.rounds: list[dict] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def until(self, done: Callable[[list[dict]], bool], timeout: float, what: str) -> None:
        """Collect rounds until ``done(rounds)`` holds; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while not done(self.rounds):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{what}: not within {timeout} s; last rounds: {self.rounds[-3:]}")
            try:
                item = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if item is None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise AssertionError(f"{what}: the probe process ended: {err[-2000:]}")
            self.rounds.append(item)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.reader.join(timeout=5)


def run_of(rounds: list[dict], good: bool) -> int:
    """How many rounds at the end are all good (``good``) or failing."""
    n = 0
    for r in reversed(rounds):
        if (r["first_failed"] is None) != good:
            break
        n += 1
    return n


@pytest.mark.parametrize("side", ["router", "kiosk"])
def test_link_cut_and_restore(net: Net, side: str) -> None:
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
