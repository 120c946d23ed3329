"""The kiosk's office link: the status reporter against the real register on loopback,
and the SMS sender against the fake modem on a pty (good, refusing, silent)."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "drivers"))

from fake_modem import SILENT, SMS_GOOD, FakeModem  # noqa: E402
from kiosk_servers import RegisterServer  # noqa: E402
from valgkiosk.core import entries as ent
from valgkiosk import office  # noqa: E402
from valgkiosk.core import outage, sms  # noqa: E402
from valgkiosk.drivers.modem import Modem  # noqa: E402
from valgkiosk.journal import MemoryJournal  # noqa: E402
from valgkiosk.ports.clock import ManualClock  # noqa: E402
from valgkiosk.register_client import HttpRegister  # noqa: E402
from valgkiosk.register_memory import MemoryRegister  # noqa: E402
from valgkiosk.station import Station  # noqa: E402

pytestmark = pytest.mark.timeout(60)
T0 = datetime(2025, 9, 8, 7, 2, tzinfo=timezone.utc)


def station(clock: ManualClock, register: object = None) -> Station:
    return Station(journal=MemoryJournal(), register=register or MemoryRegister(), now=clock.now,  # type: ignore[arg-type]
                   monotonic=clock.monotonic)


def outage_start(st: Station, layer: str = "GATEWAY") -> None:
    st.write(ent.parse("outage_start", {"layer": layer, "since": st.now().isoformat(), "diagnosis": "", "detail": "",
                              "power": {}}))


# -- status reports -----------------------------------------------------------------------------
def test_reports_reach_the_register_at_once_on_a_change_and_not_while_unreachable(register: RegisterServer) -> None:
    clock = ManualClock()

    async def main() -> None:
        client = HttpRegister(register.url, register.credential, timeout=3.0)
        st = station(clock, client)
        reporter = office.StatusReporter(st, client, lambda: office.Facts(mains=True, checkoffs=3),
                                         now=clock.now, monotonic=clock.monotonic, interval=5.0)
        assert await reporter.report_once() is not None  # the first one goes at once
        assert await reporter.report_once() is None  # nothing new, interval not passed
        clock.advance(5.0)
        assert await reporter.report_once() is not None
        st.write(ent.parse("emergency_start", {"reachable": True}))  # a change: at once
        receipt = await reporter.report_once()
        assert receipt is not None and receipt.office_acknowledged_at is None
        st.detector = outage.DetectorState(mode=outage.Mode.UNREACHABLE)
        clock.advance(60)
        assert await reporter.report_once() is None and reporter.sent == 3
        await client.aclose()

    asyncio.run(main())
    sent = reporter_state(register)
    assert sent["mode"] == "register_back" and sent["counts"]["checkoffs"] == 3 and sent["mains"] is True


def reporter_state(register: RegisterServer) -> dict[str, object]:
    """What the register stored for the kiosk (read as valgstyret would, with a fresh admin)."""
    from valgkiosk.register import credentials
    from valgkiosk.register.model import Kiosk, Role
    from valgkiosk.register.store import open_store

    store = open_store(register.db)
    try:
        token = credentials.issue(store, Kiosk("test-admin", Role.ADMIN))
    finally:
        store.close()
    kiosks = httpx.get(register.url + "/v1/office/overview", headers={"Authorization": f"Bearer {token}"},
                       timeout=10).json()["kiosks"]
    [k] = [k for k in kiosks if k["report"] is not None]
    return k["report"]  # type: ignore[no-any-return]


def test_the_report_carries_no_personal_data() -> None:
    clock = ManualClock()
    st = station(clock)
    st.write(ent.parse("emergency_start", {"reachable": False}))
    st.write(ent.parse("emergency_vote", {"vote_id": "v1", "manntallsnummer": "000001234582", "manual_valgkort": False}))
    report = office.status_report(st.state, office.Facts(), tally=office.LoggbokTally(st.journal).read(),
                                  now=clock.now(), interval=5)
    assert "000001234582" not in str(report)
    assert report["counts"]["emergency_votes"] == 1 and report["loggbok_entries"] == 2
    assert report["loggbok_head"] == list(st.journal.entries())[-1].hash


def test_the_report_carries_the_signed_chain_head_which_the_register_keeps(register: RegisterServer,
                                                                             tmp_path: Path) -> None:
    from valgkiosk import signing
    from valgkiosk.journal import Journal, chain_head
    from valgkiosk.register.store import open_store

    public = signing.generate(tmp_path / "loggbok.key")
    sign, _ = signing.load_signer(tmp_path / "loggbok.key")
    store = open_store(register.db)
    try:
        store.save_kiosk_key("test-bord1", public, T0)  # as at provisioning (register kiosk-key)
    finally:
        store.close()
    clock = ManualClock()

    async def main() -> None:
        client = HttpRegister(register.url, register.credential, timeout=3.0)
        journal = Journal(tmp_path / "loggbok.jsonl", sign=sign)
        st = Station(journal=journal, register=client, now=clock.now, monotonic=clock.monotonic)  # type: ignore[arg-type]
        reporter = office.StatusReporter(st, client, office.Facts, now=clock.now, monotonic=clock.monotonic)
        st.write(ent.parse("emergency_start", {"reachable": True}))
        assert await reporter.report_once() is not None
        head = chain_head(journal)
        assert reporter.last_sent is not None
        assert reporter.last_sent["chain_head"] == {"entries": head.count, "hash": head.hash, "sig": head.sig}
        await client.aclose()

    asyncio.run(main())
    store = open_store(register.db)
    try:
        kept = store.chain_heads("test-bord1")
    finally:
        store.close()
    assert [(h.source, h.signature_ok) for h in kept] == [("status", True)]


def test_an_empty_loggbok_sends_no_chain_head() -> None:
    st = station(ManualClock())
    report = office.status_report(st.state, office.Facts(), tally=office.LoggbokTally(st.journal).read(),
                                  now=T0, interval=5)
    assert report["chain_head"] is None


def test_the_office_counts_manual_valgkort_as_the_closing_report_does() -> None:
    """A manual valgkort line the typed reader cannot read (a key it always writes missing)
    is not counted as a valgkort; a readable one is (as valgkiosk.core.tally counts them)."""
    journal = MemoryJournal()
    journal.append("manual_valgkort", {"reason": "not_found", "manntallsnummer": False})
    journal.append("manual_valgkort", {"manntallsnummer": True})  # no reason: unreadable
    tally = office.LoggbokTally(journal).read()
    assert tally.entries == 2
    assert tally.manual_valgkort == 1


# -- texts --------------------------------------------------------------------------------------
SETTINGS = sms.Settings(numbers=("+4799887766",), station_name="Prøveskolen", krets="0101", bord=1,
                        unreachable_after_s=0, retry_delays_s=(0.5,), max_attempts=3)


async def wait(check: object, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def test_an_outage_is_texted_and_logged(tmp_path: Path) -> None:
    fake = FakeModem(tmp_path / "modem", SMS_GOOD)
    fake.plug()
    clock = ManualClock()

    async def main() -> office.SmsSender:
        st = station(clock)
        sender = office.SmsSender(st, Modem(str(tmp_path / "modem"), timeout=0.3), SETTINGS, now=clock.now,
                                  power_states=dict, send_timeout=1.0)
        outage_start(st)
        await wait(lambda: fake.sms)
        await wait(lambda: sender.last_result.startswith("SMS til valgorganisasjonen sendt"))
        return sender

    try:
        sender = asyncio.run(main())
    finally:
        fake.unplug()
    text = " ".join(part.split(" ", 1)[1] for _, part in fake.sms)
    assert "ruteren svarer ikke" in text
    [entry] = [e for e in sender.station.journal.entries() if e.kind == "sms_sent"]
    assert entry.data["to"] == "+4799887766" and entry.data["reason"] == "unreachable"
    assert office.office_note(None, sender).startswith("SMS er sendt til valgorganisasjonen kl. ")


def test_a_modem_that_stops_answering_is_shown_retried_and_logged(tmp_path: Path) -> None:
    fake = FakeModem(tmp_path / "modem", {**SMS_GOOD, "CMGS_BODY": SILENT})
    fake.plug()
    clock = ManualClock()

    async def main() -> office.SmsSender:
        st = station(clock)
        sender = office.SmsSender(st, Modem(str(tmp_path / "modem"), timeout=0.3), SETTINGS, now=clock.now,
                                  power_states=dict, send_timeout=0.5)
        outage_start(st)
        await wait(lambda: "ikke sendt" in sender.last_result)
        assert "svarer ikke" in sender.last_result
        fake.replies["CMGS_BODY"] = None  # it answers again
        clock.advance(1.0)
        sender.step_once()
        await wait(lambda: any(e.kind == "sms_sent" for e in st.journal.entries()))
        return sender

    try:
        sender = asyncio.run(main())
    finally:
        fake.unplug()
    kinds = [e.kind for e in sender.station.journal.entries()]
    assert kinds.index("sms_failed") < kinds.index("sms_sent")
    failed = next(e for e in sender.station.journal.entries() if e.kind == "sms_failed")
    assert failed.data["retry_in_s"] == 0.5 and "svarer ikke" in failed.data["detail"]


def test_no_sim_is_given_up_and_shown(tmp_path: Path) -> None:
    fake = FakeModem(tmp_path / "modem", {**SMS_GOOD, "AT+CPIN?": "\r\n+CME ERROR: 10\r\n"})
    fake.plug()
    clock = ManualClock()

    async def main() -> office.SmsSender:
        st = station(clock)
        sender = office.SmsSender(st, Modem(str(tmp_path / "modem"), timeout=0.3), SETTINGS, now=clock.now,
                                  power_states=dict, send_timeout=0.5)
        outage_start(st)
        await wait(lambda: any(e.kind == "sms_given_up" for e in st.journal.entries()))
        return sender

    try:
        sender = asyncio.run(main())
    finally:
        fake.unplug()
    assert "SIM-kortet" in sender.last_result


def test_mains_failure_is_texted_from_the_power_sensors() -> None:
    clock = ManualClock()
    modem = office.SimModem()
    power = {"mains": True}

    async def main() -> None:
        st = station(clock)
        sender = office.SmsSender(st, modem, SETTINGS, now=clock.now, power_states=lambda: power)
        sender.step_once()
        assert modem.sent == []
        power["mains"] = False
        sender.step_once()
        await wait(lambda: modem.sent)

    asyncio.run(main())
    assert "strømbrudd" in modem.sent[0][1] and "batteri" in modem.sent[0][1]
