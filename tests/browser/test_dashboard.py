"""The election office's dashboard in a real browser (Debian's headless Chromium).

A real register on loopback (SQLite and PostgreSQL); kiosks' status reports are sent
over HTTP as the kiosks send them. The page must show a router cut within seconds
without being reloaded, and the office's acknowledgement must reach the kiosk.
Screenshots go to build/screenshots/office/ (docs/office/ with VALGKIOSK_UPDATE_DOCS=1).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from register.factory import ADMIN, OTHER_STATION, STRICT_TABLE, TABLE_1, TABLE_2, fill, many_voters
from register.server import ThreadServer
from valgkiosk.register import credentials
from valgkiosk.register.model import Kiosk
from valgkiosk.register.store import SqlStore

from .chromium import chromium, screenshot_dir

pytestmark = [pytest.mark.timeout(120)]

DOCS = screenshot_dir("office")
#: 09.31 on election day in Oslo, moving on in real time from when the test starts.
DAY_START = datetime(2025, 9, 8, 7, 31, tzinfo=timezone.utc)


class RunningClock:
    """Election-day time that moves at the real pace (the dashboard's ages are real)."""

    def __init__(self, start: datetime) -> None:
        self.start, self.t0 = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


def status(clock: RunningClock, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sent_at": clock().isoformat(), "mode": "normal", "mains": True, "router_power": True,
        "simula_power": True, "printer_state": "ready", "printer_paper": "ok", "scanner_connected": True,
        "counts": {"checkoffs": 140, "emergency_votes": 0, "manual_valgkort": 1, "pending_uploads": 0},
        "loggbok_head": "0f" * 32, "loggbok_entries": 150, "clock_offset_s": 0.01,
        "image_version": "2027.1", "report_interval_s": 30.0,
    }
    body.update(changes)
    return body


def send(url: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    r = httpx.post(url + "/v1/status", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def register(store: SqlStore) -> Iterator[tuple[str, dict[str, str], RunningClock]]:
    voters = many_voters(400)
    fill(store, voters)
    clock = RunningClock(DAY_START)
    # A morning of check-offs: a steady rate at Prøveskolen and Testhallen since 07.00 (Oslo)
    kiosks = [TABLE_1, TABLE_2, OTHER_STATION]
    for i, v in enumerate(voters[:360]):
        kiosk = kiosks[i % 3]
        at = DAY_START - timedelta(minutes=150) + timedelta(seconds=i * 25)
        store.check_off(kiosk, str(uuid.uuid4()), v.manntallsnummer, at)
    tokens = {k.kiosk_id: credentials.issue(store, k)
              for k in (TABLE_1, TABLE_2, OTHER_STATION, STRICT_TABLE, ADMIN)}
    with ThreadServer(store, now=clock, status_heartbeat_s=1.0) as server:
        yield server.url, tokens, clock


def log_in(driver: Any, url: str, token: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(url + "/kontor")
    driver.find_element(By.ID, "nokkel").send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(driver, lambda d: d.find_elements(By.ID, "innhold"), "the dashboard after log-in")


def wait_for(driver: Any, check: Any, what: str, timeout: float = 10.0) -> Any:
    """Wait for ``check``; the page swaps its content every two seconds, so an element
    found a moment ago may be gone: that is retried, not an error."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1,
                         ignored_exceptions=(StaleElementReferenceException,)).until(
        check, message=f"waiting for {what}")


def text(driver: Any, css: str) -> str:
    """The visible text of the first element matching ``css`` ("" when there is none), read
    in one step in the page so that a content swap cannot come between."""
    return driver.execute_script(
        "var e = document.querySelector(arguments[0]); return e ? e.innerText : '';", css)


def row_state(driver: Any, kiosk: Kiosk) -> str:
    return driver.execute_script(
        "var e = document.querySelector(arguments[0]); return e ? e.className : '';",
        f"tr[data-kiosk='{kiosk.kiosk_id}']")


def test_router_cut_shows_within_seconds_and_the_office_acknowledges(
        register: tuple[str, dict[str, str], RunningClock]) -> None:
    from selenium.webdriver.common.by import By

    url, tokens, clock = register
    for kiosk in (TABLE_1, TABLE_2, OTHER_STATION):
        send(url, tokens[kiosk.kiosk_id], status(clock))
    # this one reports every second, and stops: it is silent 5 s later
    send(url, tokens[STRICT_TABLE.kiosk_id], status(clock, report_interval_s=1.0))
    with chromium(1280, 1100) as driver:
        log_in(driver, url, tokens[ADMIN.kiosk_id])
        assert "state-ok" in row_state(driver, TABLE_1)
        driver.execute_script("window.__same_page = true;")

        # the router at table 1 loses power; its report reaches the register
        cut_at = clock()
        answer = send(url, tokens[TABLE_1.kiosk_id], status(
            clock, mode="alarm", mode_since=cut_at.isoformat(), outage_started_at=cut_at.isoformat(),
            diagnosis_layer="gateway", router_power=False))
        assert answer["office_acknowledged_at"] is None
        started = time.monotonic()
        wait_for(driver, lambda d: "state-alarm" in row_state(d, TABLE_1), "table 1 in alarm", timeout=5)
        shown_after = time.monotonic() - started
        assert driver.execute_script("return window.__same_page === true;"), "the page was reloaded"
        row = text(driver, f"tr[data-kiosk='{TABLE_1.kiosk_id}']")
        assert "Alarm: manntallet kan ikke nås" in row and "Ruteren svarer ikke" in row and "Uten strøm" in row
        alerts = text(driver, "section.alerts")
        assert "Nettbrudd · Prøveskolen, bord 1" in alerts and "Ruter · Prøveskolen, bord 1" in alerts
        # a kiosk that goes quiet is itself an alert
        send(url, tokens[OTHER_STATION.kiosk_id], status(clock, printer_paper="low"))
        wait_for(driver, lambda d: "state-silent" in row_state(d, STRICT_TABLE), "a silent kiosk", timeout=15)
        driver.save_screenshot(str(DOCS / "dashboard-alarm.png"))

        # the office acknowledges the outage
        outage = f"li.kind-outage[data-kiosk='{TABLE_1.kiosk_id}']"

        def press(d: Any) -> bool:
            d.find_element(By.CSS_SELECTOR, outage + " form.kvitter button").click()
            return True

        wait_for(driver, press, "the acknowledge button")
        wait_for(driver, lambda d: "Sett kl." in text(d, outage), "the acknowledgement")
        assert driver.execute_script("return window.__same_page === true;")
        # the kiosk learns it with its next report
        answer = send(url, tokens[TABLE_1.kiosk_id], status(
            clock, mode="alarm", mode_since=cut_at.isoformat(), outage_started_at=cut_at.isoformat(),
            diagnosis_layer="gateway", router_power=False))
        assert answer["office_acknowledged_at"] is not None and answer["office_acknowledged_by"] == "valgstyret"
        driver.save_screenshot(str(DOCS / "dashboard-acknowledged.png"))
        assert driver.execute_script("return document.documentElement.scrollWidth;") <= 1280
    assert shown_after < 5


def test_readable_on_a_phone(register: tuple[str, dict[str, str], RunningClock]) -> None:
    from selenium.webdriver.common.by import By

    url, tokens, clock = register
    send(url, tokens[TABLE_1.kiosk_id], status(clock, mode="routine", mode_since=clock().isoformat(),
                                               outage_started_at=clock().isoformat(), diagnosis_layer="dns"))
    send(url, tokens[TABLE_2.kiosk_id], status(clock))
    with chromium(390, 844) as driver:
        log_in(driver, url, tokens[ADMIN.kiosk_id])
        driver.save_screenshot(str(DOCS / "dashboard-phone.png"))
        width = driver.execute_script("return document.documentElement.scrollWidth;")
        inner = driver.execute_script("return window.innerWidth;")
        wide = driver.execute_script("""return Array.from(document.querySelectorAll('#innhold *'))
            .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
            .slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right));""")
        assert inner == 390 and width <= 390, (inner, wide)
        assert width <= 390, f"the page is {width} px wide on a 390 px phone"
        row = text(driver, f"tr[data-kiosk='{TABLE_1.kiosk_id}']")
        assert "Beredskapsrutine" in row and "Navneoppslag feiler" in row
        driver.save_screenshot(str(DOCS / "dashboard-phone.png"))


def test_api_docs_render_with_no_internet(register: tuple[str, dict[str, str], RunningClock]) -> None:
    from selenium.webdriver.common.by import By

    url, _, _ = register
    with chromium() as driver:
        driver.get(url + "/docs")
        title = wait_for(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title"),
                         "Swagger UI's title")
        assert "valgkiosk register" in title[0].text
        wait_for(driver, lambda d: "/v1/status" in text(d, "#swagger-ui"), "the status endpoint")
