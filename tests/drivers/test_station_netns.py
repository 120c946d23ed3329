"""The whole outage story over a real cut link: the station (watchdog, alarm, routine) in
the kiosk's network namespace, the register in another, joined by a veth pair whose
router end is cut and restored. Root only (and needs ``ip``)."""

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
from pathlib import Path
from typing import Any

import pytest

from tests.register.factory import fill
from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.drivers.network.testbed import NamespacePair
from valgkiosk.journal import Journal
from valgkiosk.register import credentials
from valgkiosk.register.model import Kiosk, Role
from valgkiosk.register.store import open_store

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root: run the tests as root to cut a real link"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="the «ip» command (iproute2) is not installed"),
    pytest.mark.slow,
    pytest.mark.timeout(90),
]


class KioskProcess:
    """The station in the kiosk's namespace; its JSON lines read by a thread."""

    def __init__(self, bed: NamespacePair, credential: str, loggbok: Path) -> None:
        self.proc = bed.in_kiosk(sys.executable, "-m", "valgkiosk.drivers.network.testbed", bed.url, credential,
                                 str(loggbok), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)  # fmt: skip
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((command + "\n").encode())
        self.proc.stdin.flush()

    def until(self, done: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"{what}: not within {timeout} s; last: {self.seen[-3:]}")
            try:
                item = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if item is None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise AssertionError(f"{what}: the kiosk process ended: {err[-2000:]}")
            self.seen.append(item)
            if done(item):
                return item

    def close(self) -> None:
        if self.proc.poll() is None:
            self.send("quit")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[tuple[NamespacePair, str]]:
    db = f"sqlite:///{tmp_path}/register.db"
    store = open_store(db)
    store.migrate()
    fill(store)
    token = credentials.issue(store, Kiosk("netns-bord1", Role.KIOSK, "0301", "0101", 1))
    store.close()
    testbed = NamespacePair(f"st{os.getpid()}")
    try:
        testbed.serve(db, tmp_path / "register.log")
        yield testbed, token
    finally:
        testbed.close()


def test_cut_alarm_routine_restore_end(bed: tuple[NamespacePair, str], tmp_path: Path) -> None:
    testbed, token = bed
    loggbok = tmp_path / "loggbok.jsonl"
    kiosk = KioskProcess(testbed, token, loggbok)
    try:
        kiosk.until(lambda s: s.get("network") == "reachable", 30, "reachable before the cut")
        testbed.cut()
        down = kiosk.until(lambda s: s.get("alarm") == "alarm", 10, "the alarm after the cut")
        assert down["layer"] == "LINK" and down["buzzer"] == "alarm" and not down["reachable"]
        kiosk.send("start")
        kiosk.until(lambda s: s.get("emergency") is True, 5, "the routine started")
        kiosk.send(f"vote {mnr.make(4242, 2025).digits}")
        kiosk.until(lambda s: s.get("votes") == 1, 5, "the vote counted")
        testbed.restore()
        kiosk.until(lambda s: s.get("reachable") is True, 20, "reachable after the restore")
        kiosk.send("end")
        kiosk.until(lambda s: s.get("uploaded") is True, 20, "the votes uploaded")
    finally:
        kiosk.close()
    entries = list(Journal(loggbok).entries())
    kinds = [e.kind for e in entries]
    for kind in ("outage_start", "emergency_start", "emergency_vote", "outage_end", "emergency_end",
                 "emergency_upload"):
        assert kind in kinds, kind
    start = next(e for e in entries if e.kind == "outage_start")
    assert start.data["layer"] == "LINK" and "nettkabelen" in start.data["diagnosis"]
    assert Journal(loggbok).verify() == []
    store = open_store(f"sqlite:///{tmp_path}/register.db")
    try:
        [table] = [t for t in store.counts() if t.bord == 1 and t.krets == "0101"]
        assert table.emergency_votes == 1
    finally:
        store.close()
