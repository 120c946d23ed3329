"""End to end: a kiosk (the real app under Textual's pilot, simulated hardware, talking
HTTP to a real register on loopback) loses its router; the office's dashboard in
Debian's headless Chromium shows the table in alarm within seconds without a reload; the
office acknowledges; when the register is back the kiosk's banner says the office knows.
The messenger table's text leaves through the (simulated) modem meanwhile.

The kiosk and the register share the rig's manual clock, so "silent for 17 s" is a step
of the clock, not a wait; the browser's own polling is real time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from register.factory import ADMIN, TABLE_1, fill
from register.server import ThreadServer
from valgkiosk import config as cfg
from valgkiosk.bootstrap import attach_office
from valgkiosk.register import credentials
from valgkiosk.register.store import SqlStore
from valgkiosk.register_client import HttpRegister
from valgkiosk.ui.testing import Rig, make_rig, probe, seen, settle, settle_power

from .chromium import chromium, screenshot_dir
from .test_dashboard import log_in, row_state, text, wait_for

pytestmark = [pytest.mark.timeout(180)]

DOCS = screenshot_dir("office")

CONFIG = """
[station]
kommune = "0301"
krets = "0101"
bord = 1
navn = "Prøveskolen"

[election]
year = 2025

[register]
url = "{url}"
credential = "{token}"

[scanner]
kind = "sim"

[office]
report_seconds = 5
sms_numbers = ["+4799887766"]
messenger_table = 1
sms_after_seconds = 0
"""


@pytest.fixture
def world(store: SqlStore, tmp_path: Path) -> Iterator[tuple[Rig, str, str]]:
    fill(store)
    kiosk_token = credentials.issue(store, TABLE_1)
    admin_token = credentials.issue(store, ADMIN)
    clock: list[Any] = []
    with ThreadServer(store, now=lambda: clock[0].now()) as server:
        register = HttpRegister(server.url, kiosk_token, timeout=3.0)
        rig = make_rig(register=register)
        clock.append(rig.clock)
        path = tmp_path / "station.toml"
        path.write_text(CONFIG.format(url=server.url, token=kiosk_token), encoding="utf-8")
        attach_office(rig.app, cfg.load(path), register=register, sim=True)
        yield rig, server.url, admin_token


async def until(pilot: Pilot[Any], check: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        await asyncio.sleep(0.1)
        await pilot.pause()


def test_router_cut_dashboard_alarm_acknowledged_banner_says_so(world: tuple[Rig, str, str]) -> None:
    rig, url, admin_token = world
    admin = {"Authorization": f"Bearer {admin_token}"}

    def office_sees() -> dict[str, Any]:
        kiosks = httpx.get(url + "/v1/office/overview", headers=admin, timeout=5).json()["kiosks"]
        return next(k for k in kiosks if k["kiosk_id"] == TABLE_1.kiosk_id)

    async def script(pilot: Pilot[Any]) -> None:
        station = rig.app.shell.station
        await probe(rig, pilot, 3)
        await until(pilot, lambda: office_sees()["report"] is not None, "the first status report")
        assert office_sees()["mode"] == "normal"
        with chromium(1280, 1000) as driver:
            log_in(driver, url, admin_token)
            assert "state-ok" in row_state(driver, TABLE_1)
            driver.execute_script("window.__same_page = true;")

            # the router loses power: the probes fail at the gateway, the caretaker box senses
            # it (in this order: a report about the router must not slip out over loopback)
            assert rig.gpio is not None and rig.network is not None
            rig.network.cut_gateway()
            await probe(rig, pilot, station.timings.fail_after)
            rig.gpio.cut_router()
            await settle_power(rig, pilot)
            assert "ALARM: MANNTALLET KAN IKKE NÅS" in seen(rig)
            # the messenger's text leaves through the modem at once (sms_after_seconds = 0)
            modem = rig.app.sms_modem
            await until(pilot, lambda: len(modem.sent) == 1, "the text to the office")
            number, sms = modem.sent[0]
            assert number == "+4799887766" and "Prøveskolen (krets 0101) bord 1" in sms
            assert "ruteren svarer ikke" in sms
            assert any(e.kind == "sms_sent" for e in rig.app.shell.journal.entries())
            dock = rig.app.dock_lines()  # the dev dock's lines, as the view carries them when it is open
            assert "SMS kl. " in dock and "til +4799887766" in dock
            # the kiosk cannot report; 20 s later the register counts it as silent
            rig.clock.advance(20)
            started = time.monotonic()
            await until(pilot, lambda: "state-silent" in row_state(driver, TABLE_1), "the dashboard's alarm",
                        timeout=8)
            shown_after = time.monotonic() - started
            assert driver.execute_script("return window.__same_page === true;"), "the page was reloaded"
            alerts = text(driver, "section.alerts")
            assert "Kiosken har ikke meldt seg siden" in alerts and "Ruter" not in alerts
            driver.save_screenshot(str(DOCS / "end-to-end-silent.png"))

            # the office acknowledges
            from selenium.webdriver.common.by import By

            silent = f"li.kind-silent[data-kiosk='{TABLE_1.kiosk_id}']"

            def press(d: Any) -> bool:
                d.find_element(By.CSS_SELECTOR, silent + " form.kvitter button").click()
                return True

            wait_for(driver, press, "the acknowledge button")
            wait_for(driver, lambda d: "Sett kl." in text(d, silent), "the acknowledgement")

            # the chair starts the routine; the router comes back
            from tests.ui.test_emergency import enter_pin

            await enter_pin(pilot)
            assert station.state.emergency
            rig.gpio.restore_router()
            await settle_power(rig, pilot)
            rig.network.restore_gateway()
            await probe(rig, pilot, station.timings.recover_after)
            assert "MANNTALLET ER TILBAKE" in seen(rig)
            await until(pilot, lambda: "Valgorganisasjonen er varslet kl." in seen(rig), "the banner's note")
            await until(pilot, lambda: office_sees()["mode"] == "register_back", "the register-back report")
            await until(pilot, lambda: len(modem.sent) == 2, "the text that the register is back")
            assert "manntallet er tilbake" in modem.sent[1][1]
            wait_for(driver, lambda d: "state-warn" in row_state(d, TABLE_1), "table 1 back, routine on")
            driver.save_screenshot(str(DOCS / "end-to-end-back.png"))
        assert shown_after < 8

    async def main() -> None:
        async with rig.app.run_test(size=(100, 32)) as pilot:
            await settle(pilot)
            await script(pilot)

    asyncio.run(main())
