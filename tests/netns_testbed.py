"""A network-fault testbed: the register and the kiosk in two network namespaces joined by
a veth pair whose link can be cut and restored. Root only (``ip`` from iproute2).

Used by the tests and by ``bench/outage_detection.py``; run as a script (:data:`SCRIPT`), it is
the kiosk's side of the station tests inside the kiosk's namespace. Addresses are private and exist
only inside the namespaces made here: the register listens on 10.203.0.1 in one, the
kiosk uses 10.203.0.2 in the other with a default route through 10.203.0.1 (the
register's end plays the router). Nothing else is ever contacted; :meth:`close` deletes
both namespaces (and with them the veth pair).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

#: this file, run as a script inside the kiosk's namespace
SCRIPT = Path(__file__).resolve()

REGISTER_ADDR, KIOSK_ADDR, PREFIX = "10.203.0.1", "10.203.0.2", 30
REGISTER_PORT = 8470
REGISTER_IF, KIOSK_IF = "reg0", "uplink0"  # names inside the namespaces only


class JsonLines:
    """The JSON lines a child process writes, read by a thread; :meth:`until` waits for them."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.seen: list[dict[str, Any]] = []
        self._lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(json.loads(line))
        self._lines.put(None)

    def until(self, done: Callable[[list[dict[str, Any]]], bool], timeout: float, what: str) -> dict[str, Any]:
        """Collect lines until ``done(seen)`` holds and return the last; AssertionError naming
        ``what`` after ``timeout`` seconds or when the process ends."""
        deadline = time.monotonic() + timeout
        while not (self.seen and done(self.seen)):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{what}: not within {timeout} s; last: {self.seen[-3:]}")
            try:
                item = self._lines.get(timeout=left)
            except queue.Empty:
                continue
            if item is None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise AssertionError(f"{what}: the process ended: {err[-2000:]}")
            self.seen.append(item)
        return self.seen[-1]


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, timeout=10, capture_output=True)


class NamespacePair:
    """Two namespaces, a veth pair, and (after :meth:`serve`) a register in the first."""

    def __init__(self, tag: str | None = None) -> None:
        tag = tag or str(os.getpid())
        self.register_ns, self.kiosk_ns = f"vk-reg-{tag}", f"vk-kiosk-{tag}"
        self.url = f"http://{REGISTER_ADDR}:{REGISTER_PORT}"
        self.register: subprocess.Popen[bytes] | None = None
        self._made: list[str] = []
        try:
            for ns in (self.register_ns, self.kiosk_ns):
                ip("netns", "add", ns)
                self._made.append(ns)
            ip("link", "add", REGISTER_IF, "netns", self.register_ns, "type", "veth",
               "peer", "name", KIOSK_IF, "netns", self.kiosk_ns)
            ip("-n", self.register_ns, "addr", "add", f"{REGISTER_ADDR}/{PREFIX}", "dev", REGISTER_IF)
            ip("-n", self.kiosk_ns, "addr", "add", f"{KIOSK_ADDR}/{PREFIX}", "dev", KIOSK_IF)
            for ns, dev in ((self.register_ns, REGISTER_IF), (self.kiosk_ns, KIOSK_IF)):
                ip("-n", ns, "link", "set", "lo", "up")
                ip("-n", ns, "link", "set", dev, "up")
            ip("-n", self.kiosk_ns, "route", "add", "default", "via", REGISTER_ADDR)
        except BaseException:
            self.close()
            raise

    def serve(self, db_url: str, log_path: Path) -> None:
        """Start ``valgkiosk register serve`` on ``db_url`` inside the register's namespace."""
        with open(log_path, "ab") as log:
            self.register = subprocess.Popen(
                ["ip", "netns", "exec", self.register_ns, sys.executable, "-m", "valgkiosk", "register", "serve",
                 "--db", db_url, "--host", REGISTER_ADDR, "--port", str(REGISTER_PORT), "--log-level", "warning"],
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    def in_kiosk(self, *command: str, **popen: object) -> subprocess.Popen[bytes]:
        """Run ``command`` inside the kiosk's namespace."""
        return subprocess.Popen(["ip", "netns", "exec", self.kiosk_ns, *command], **popen)  # type: ignore[call-overload,no-any-return]

    def cut(self) -> None:
        """The router's end of the cable goes dark (the kiosk sees NO-CARRIER)."""
        ip("-n", self.register_ns, "link", "set", REGISTER_IF, "down")

    def restore(self) -> None:
        ip("-n", self.register_ns, "link", "set", REGISTER_IF, "up")

    def close(self) -> None:
        if self.register is not None and self.register.poll() is None:
            self.register.terminate()
            try:
                self.register.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.register.kill()
                self.register.wait(timeout=10)
        for ns in reversed(self._made):
            subprocess.run(["ip", "netns", "del", ns], timeout=10, capture_output=True)
        self._made.clear()


# -- the kiosk's side: the station's watchdog in the kiosk's namespace ---------------------------

async def _kiosk(url: str, credential: str, loggbok: str, modem_port: str = "") -> None:
    """The station (watchdog, alarm, routine) with the real probes on the uplink, the alarm
    outputs on mock pins, the loggbok at ``loggbok``. One JSON line per change on stdout
    (with the system-wide monotonic time); commands on stdin: ``start``, ``vote NUMBER``,
    ``end``, ``quit`` (the chair's and the table's actions). With ``modem_port`` the table
    is also its station's messenger: status reports to the register while it is reachable,
    and texts to the office through the modem there (issue 15)."""
    import asyncio
    import json
    import time
    from datetime import datetime

    from valgkiosk.core import emergency as em
    from valgkiosk.drivers.gpio import SimulatedGpio
    from valgkiosk.drivers.network import NetworkProbes
    from valgkiosk.journal import Journal
    from valgkiosk.register_client import HttpRegister
    from valgkiosk.station import Station, StationRefused

    gpio = SimulatedGpio()
    probes = NetworkProbes(url, interface=KIOSK_IF, gateway_port=REGISTER_PORT)
    register = HttpRegister(url, credential, timeout=3.0)

    def report() -> None:
        s = station.state
        print(json.dumps({"t": time.monotonic(), "reachable": s.reachable, "network": station.network.value,
                          "alarm": em.alarm_output(s).value, "buzzer": gpio.indicators.modes[2].value,
                          "emergency": s.emergency, "votes": s.vote_count, "pending": len(s.pending),
                          "layer": s.outage.layer.name if s.outage else None}), flush=True)  # fmt: skip

    station = Station(journal=Journal(loggbok), register=register, now=lambda: datetime.now().astimezone(),
                      monotonic=time.monotonic, connectivity=probes, indicators=gpio.indicators,
                      on_change=report)  # fmt: skip
    report()
    watchdog = asyncio.create_task(station.run_watchdog())
    office = _office(station, register, modem_port) if modem_port else []
    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        command, _, arg = line.partition(" ")
        try:
            if command == "start":
                station.start_emergency()
            elif command == "vote":
                station.record_vote(arg, manual_valgkort=False)
            elif command == "end":
                station.end_emergency()
                while not await station.upload_pending():
                    await asyncio.sleep(0.5)
                print(json.dumps({"uploaded": True}), flush=True)
            elif command in ("quit", ""):
                break
        except StationRefused as exc:
            print(json.dumps({"refused": str(exc)}), flush=True)
    watchdog.cancel()
    for task in office:
        task.cancel()
    await probes.aclose()
    await register.aclose()
    gpio.close()


def _office(station: Any, register: Any, modem_port: str) -> list[Any]:
    """The status reporter and the SMS sender (texts at the alarm, no hourly limit to speak of)."""
    import asyncio
    import json
    import time
    from datetime import datetime

    from valgkiosk import office
    from valgkiosk.core import sms
    from valgkiosk.drivers.modem import Modem

    now = lambda: datetime.now().astimezone()  # noqa: E731
    reporter = office.StatusReporter(station, register, office.Facts, now=now, monotonic=time.monotonic,
                                     interval=1.0)
    settings = sms.Settings(numbers=("+4799887766",), station_name="Nettskolen", krets="0101", bord=1,
                            unreachable_after_s=0, max_per_hour=1000, retry_delays_s=(1.0,))
    sender = office.SmsSender(station, Modem(modem_port, timeout=1.0), settings, now=now,
                              power_states=dict, send_timeout=5.0, tick=0.2)

    def announce(kind: str, data: Any) -> None:
        print(json.dumps({"t": time.monotonic(), "sms": kind, "reason": data.get("reason"),
                          "reachable": station.state.reachable}), flush=True)

    sender.on_record = announce
    return [asyncio.create_task(reporter.run()), asyncio.create_task(sender.run())]


if __name__ == "__main__":
    import asyncio

    asyncio.run(_kiosk(*sys.argv[1:5]))
