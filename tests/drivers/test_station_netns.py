"""The whole outage story over a real cut link: the station (watchdog, alarm, routine) in
the kiosk's network namespace, the register in another, joined by a veth pair whose
router end is cut and restored. Root only (and needs ``ip``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.register.factory import fill
from valgkiosk.core import manntallsnummer as mnr
from tests.netns_testbed import SCRIPT as TESTBED
from tests.netns_testbed import JsonLines, NamespacePair
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


class KioskProcess(JsonLines):
    """The station in the kiosk's namespace (tests/netns_testbed.py), driven over stdin."""

    def __init__(self, bed: NamespacePair, credential: str, loggbok: Path) -> None:
        super().__init__(bed.in_kiosk(sys.executable, str(TESTBED), bed.url, credential,
                                      str(loggbok), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE))  # fmt: skip

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((command + "\n").encode())
        self.proc.stdin.flush()

    def latest(self, done: Callable[[dict[str, Any]], bool], timeout: float, what: str) -> dict[str, Any]:
        """Wait until the latest line satisfies ``done``."""
        return self.until(lambda seen: done(seen[-1]), timeout, what)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.send("quit")
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def register_db(folder: Path) -> tuple[str, str]:
    """A register database with the standard test voters, and a credential for table 1."""
    db = f"sqlite:///{folder}/register.db"
    store = open_store(db)
    store.migrate()
    fill(store)
    token = credentials.issue(store, Kiosk("netns-bord1", Role.KIOSK, "0301", "0101", 1))
    store.close()
    return db, token


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[tuple[NamespacePair, str]]:
    db, token = register_db(tmp_path)
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
        kiosk.latest(lambda s: s.get("network") == "reachable", 30, "reachable before the cut")
        testbed.cut()
        down = kiosk.latest(lambda s: s.get("alarm") == "alarm", 10, "the alarm after the cut")
        assert down["layer"] == "LINK" and down["buzzer"] == "alarm" and not down["reachable"]
        kiosk.send("start")
        kiosk.latest(lambda s: s.get("emergency") is True, 5, "the routine started")
        kiosk.send(f"vote {mnr.make(4242, 2025).digits}")
        kiosk.latest(lambda s: s.get("votes") == 1, 5, "the vote counted")
        testbed.restore()
        kiosk.latest(lambda s: s.get("reachable") is True, 20, "reachable after the restore")
        kiosk.send("end")
        kiosk.latest(lambda s: s.get("uploaded") is True, 20, "the votes uploaded")
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
