"""The text leaves through the modem while the register cannot be reached: the station
(watchdog, status reporter, SMS sender) in the kiosk's network namespace, the register in
another, the uplink between them cut; the modem is the fake one on a pty (a device file,
which namespaces do not hide). Root only (and needs ``ip``)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_modem import SMS_GOOD, FakeModem
from test_station_netns import KioskProcess, register_db
from tests.netns_testbed import NamespacePair
from valgkiosk.journal import Journal
from valgkiosk.register.store import open_store

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root: run the tests as root to cut a real link"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="the «ip» command (iproute2) is not installed"),
    pytest.mark.slow,
    pytest.mark.timeout(90),
]


class MessengerProcess(KioskProcess):
    """The testbed's station as its station's messenger, texting through ``modem``."""

    def __init__(self, bed: NamespacePair, credential: str, loggbok: Path, modem: Path) -> None:
        import subprocess
        import sys

        from tests.netns_testbed import SCRIPT as TESTBED
        from tests.netns_testbed import JsonLines

        JsonLines.__init__(self, bed.in_kiosk(
            sys.executable, str(TESTBED), bed.url, credential, str(loggbok),
            str(modem), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE))


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[tuple[NamespacePair, str, str]]:
    db, token = register_db(tmp_path)
    testbed = NamespacePair(f"sm{os.getpid()}")
    try:
        testbed.serve(db, tmp_path / "register.log")
        yield testbed, token, db
    finally:
        testbed.close()


def test_uplink_cut_the_text_leaves_through_the_modem(bed: tuple[NamespacePair, str, str], tmp_path: Path) -> None:
    testbed, token, db = bed
    modem = FakeModem(tmp_path / "modem", SMS_GOOD)
    modem.plug()
    loggbok = tmp_path / "loggbok.jsonl"
    kiosk = MessengerProcess(testbed, token, loggbok, tmp_path / "modem")
    try:
        kiosk.latest(lambda s: s.get("network") == "reachable", 30, "reachable before the cut")
        store = open_store(db)
        try:
            deadline = time.monotonic() + 10
            while not _reported(store):
                assert time.monotonic() < deadline, "no status report reached the register"
                time.sleep(0.1)
        finally:
            store.close()
        testbed.cut()
        kiosk.until(lambda seen: any(s.get("sms") == "sms_sent" for s in seen), 20, "the text")
        sent = next(s for s in kiosk.seen if s.get("sms") == "sms_sent")
        assert sent["reason"] == "unreachable" and sent["reachable"] is False
        assert {number for number, _ in modem.sms} == {"+4799887766"}
        text = " ".join(part.split(" ", 1)[1] for _, part in modem.sms)  # "1/2 …", "2/2 …"
        assert "Nettskolen (krets 0101) bord 1: manntallet kan ikke nås siden kl." in text
        assert "ingen nettverkskobling" in text
        testbed.restore()
        kiosk.until(lambda seen: sum(s.get("sms") == "sms_sent" for s in seen) == 2, 30, "the text: back")
        assert any("manntallet er tilbake" in part for _, part in modem.sms)
    finally:
        kiosk.close()
        modem.unplug()
    kinds = [e.kind for e in Journal(loggbok).entries()]
    assert kinds.count("sms_sent") == 2 and Journal(loggbok).verify() == []


def _reported(store: object) -> bool:
    with store.read() as cur:  # type: ignore[attr-defined]
        return store._q(cur, "SELECT count(*) FROM kiosk_status").fetchone()[0] > 0  # type: ignore[attr-defined]
