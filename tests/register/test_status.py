"""Status reports, the office's alerts and the dashboard's data, through a real uvicorn
server on loopback, on both backends."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from valgkiosk.register import credentials
from valgkiosk.register.model import Kiosk
from valgkiosk.register.office import StatusReport, alerts_for, silent_after
from valgkiosk.register.store import SqlStore

from .factory import ADMIN, AASE, KARI, OLA, OTHER_STATION, TABLE_1, TABLE_2, fill
from .server import ThreadServer

MORNING = datetime(2025, 9, 8, 7, 30, tzinfo=timezone.utc)  # 09.30 in Oslo


class Clock:
    """The register's clock, moved by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class Office:
    url: str
    store: SqlStore
    tokens: dict[str, str]
    clock: Clock

    def client(self, kiosk: Kiosk | None) -> httpx.Client:
        headers = {} if kiosk is None else {"Authorization": f"Bearer {self.tokens[kiosk.kiosk_id]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)

    def overview(self) -> dict[str, Any]:
        with self.client(ADMIN) as c:
            r = c.get("/v1/office/overview")
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def office(store: SqlStore) -> Iterator[Office]:
    fill(store)
    tokens = {k.kiosk_id: credentials.issue(store, k) for k in (TABLE_1, TABLE_2, OTHER_STATION, ADMIN)}
    clock = Clock(MORNING)
    with ThreadServer(store, now=clock, status_heartbeat_s=1.0) as server:
        yield Office(server.url, store, tokens, clock)


def report(**changes: Any) -> dict[str, Any]:
    """A kiosk's report of a quiet table, with ``changes``."""
    body: dict[str, Any] = {
        "sent_at": MORNING.isoformat(), "mode": "normal", "mode_since": None,
        "outage_started_at": None, "diagnosis_layer": None,
        "mains": True, "router_power": True, "simula_power": True,
        "printer_state": "ready", "printer_paper": "ok", "scanner_connected": True,
        "counts": {"checkoffs": 12, "emergency_votes": 0, "manual_valgkort": 0, "pending_uploads": 0},
        "loggbok_head": "ab" * 32, "loggbok_entries": 40, "clock_offset_s": 0.02,
        "image_version": "2027.1", "report_interval_s": 1.0,
    }
    body.update(changes)
    return body


ROUTER_CUT = {"mode": "alarm", "mode_since": "2025-09-08T07:29:40+00:00",
              "outage_started_at": "2025-09-08T07:29:38+00:00", "diagnosis_layer": "gateway",
              "router_power": False}


def send(office: Office, kiosk: Kiosk, body: dict[str, Any]) -> dict[str, Any]:
    with office.client(kiosk) as c:
        r = c.post("/v1/status", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def table(overview: dict[str, Any], kiosk: Kiosk) -> dict[str, Any]:
    return next(k for k in overview["kiosks"] if k["kiosk_id"] == kiosk.kiosk_id)


# -- the report -------------------------------------------------------------------------------
def test_latest_report_is_kept_and_every_table_with_a_credential_is_listed(office: Office) -> None:
    answer = send(office, TABLE_1, report())
    assert answer == {"received_at": MORNING.isoformat(), "office_acknowledged_at": None,
                      "office_acknowledged_by": None}
    overview = office.overview()
    t1 = table(overview, TABLE_1)
    assert t1["mode"] == "normal" and t1["krets_navn"] == "Prøveskolen"
    assert t1["report"]["counts"]["checkoffs"] == 12 and t1["report"]["image_version"] == "2027.1"
    assert t1["age_s"] == 0
    t2 = table(overview, TABLE_2)  # has a credential, never reported
    assert t2["report"] is None and t2["mode_nb"] == "Har aldri meldt seg"
    assert overview["alerts"] == []


def test_history_records_changes_of_state_not_counters(office: Office) -> None:
    send(office, TABLE_1, report())
    send(office, TABLE_1, report())  # nothing new
    send(office, TABLE_1, report(counts={"checkoffs": 13, "emergency_votes": 0, "manual_valgkort": 0,
                                         "pending_uploads": 0}, loggbok_head="cd" * 32))
    assert table(office.overview(), TABLE_1)["report"]["counts"]["checkoffs"] == 13
    send(office, TABLE_1, report(**ROUTER_CUT))
    with office.client(ADMIN) as c:
        changes = c.get(f"/v1/office/kiosks/{TABLE_1.kiosk_id}/history").json()["changes"]
    assert [ch["report"]["mode"] for ch in changes] == ["alarm", "normal"]
    assert changes[0]["report"]["diagnosis_layer"] == "gateway"


def test_a_report_that_changes_nothing_is_not_written(office: Office) -> None:
    send(office, TABLE_1, report())
    stored_at = _stored_received_at(office.store, TABLE_1)
    office.clock.advance(0.5)
    send(office, TABLE_1, report())  # within the heartbeat: memory only
    assert _stored_received_at(office.store, TABLE_1) == stored_at
    assert table(office.overview(), TABLE_1)["last_seen"] == office.clock.at.isoformat()
    time.sleep(1.1)  # the heartbeat (1 s in this register) is due: the time is stored
    office.clock.advance(0.5)
    send(office, TABLE_1, report())
    assert _stored_received_at(office.store, TABLE_1) == office.clock.at


def _stored_received_at(store: SqlStore, kiosk: Kiosk) -> datetime:
    with store.read() as cur:
        row = store._q(cur, "SELECT received_at FROM kiosk_status WHERE kiosk_id = ?", (kiosk.kiosk_id,)).fetchone()
    return store._as_dt(row[0])


# -- alerts ------------------------------------------------------------------------------------
def test_router_cut_opens_alerts_in_the_routines_words_and_they_close_when_it_is_back(office: Office) -> None:
    send(office, TABLE_1, report(**ROUTER_CUT))
    alerts = {a["kind"]: a for a in office.overview()["alerts"]}
    assert set(alerts) == {"outage", "router"}
    assert "Ruteren svarer ikke: sjekk strøm til ruteren og sikringene" in alerts["outage"]["detail"]
    assert "nettbrudd fra kl. 09.29" in alerts["outage"]["detail"]
    assert alerts["outage"]["opened_at"] == "2025-09-08T07:29:38+00:00"
    assert table(office.overview(), TABLE_1)["mode_nb"] == "Alarm: manntallet kan ikke nås"

    office.clock.advance(60)
    send(office, TABLE_1, report())
    still = {a["kind"]: a for a in office.overview()["alerts"]}
    # over, but the office has not seen them: they stay in the list until acknowledged
    assert set(still) == {"outage", "router"} and all(a["closed_at"] for a in still.values())
    with office.client(ADMIN) as c:
        for a in still.values():
            assert c.post(f"/v1/office/alerts/{a['id']}/acknowledge").status_code == 200
    assert office.overview()["alerts"] == []


def test_the_kiosk_learns_that_the_office_acknowledged(office: Office) -> None:
    assert send(office, TABLE_1, report(**ROUTER_CUT))["office_acknowledged_at"] is None
    alert = next(a for a in office.overview()["alerts"] if a["kind"] == "outage")
    office.clock.advance(30)
    with office.client(ADMIN) as c:
        r = c.post(f"/v1/office/alerts/{alert['id']}/acknowledge")
    assert r.json()["alert"]["acknowledged_by"] == "valgstyret"
    office.clock.advance(5)
    answer = send(office, TABLE_1, report(**ROUTER_CUT))
    assert answer["office_acknowledged_at"] == (MORNING + timedelta(seconds=30)).isoformat()
    assert answer["office_acknowledged_by"] == "valgstyret"
    # another table's incident is not acknowledged by it
    assert send(office, TABLE_2, report(**ROUTER_CUT))["office_acknowledged_at"] is None
    # a second acknowledgement keeps the first time
    with office.client(ADMIN) as c:
        again = c.post(f"/v1/office/alerts/{alert['id']}/acknowledge").json()["alert"]
    assert again["acknowledged_at"] == (MORNING + timedelta(seconds=30)).isoformat()


def test_a_kiosk_that_goes_quiet_is_an_alert_until_it_reports_again(office: Office) -> None:
    send(office, TABLE_1, report())
    office.clock.advance(silent_after(1.0, 1.0) - 0.5)
    assert office.overview()["alerts"] == []
    office.clock.advance(1.0)
    overview = office.overview()
    assert [a["kind"] for a in overview["alerts"]] == ["silent"]
    assert "har ikke meldt seg siden kl. 09.30.00" in overview["alerts"][0]["detail"]
    assert table(overview, TABLE_1)["mode"] == "silent"
    send(office, TABLE_1, report())
    overview = office.overview()
    assert table(overview, TABLE_1)["mode"] == "normal"
    assert overview["alerts"][0]["closed_at"] is not None


def test_power_printer_and_scanner_alerts() -> None:
    r = StatusReport.model_validate(report(mains=False, printer_paper="out", scanner_connected=False,
                                           simula_power=False))
    assert set(alerts_for(r)) == {"mains", "printer", "scanner", "simula"}
    assert alerts_for(StatusReport.model_validate(report())) == {}


# -- checks on the caller ------------------------------------------------------------------------
def test_who_may_do_what(office: Office) -> None:
    with office.client(None) as c:
        assert c.post("/v1/status", json=report()).status_code == 401
        assert c.get("/v1/office/overview").status_code == 401
    with office.client(ADMIN) as c:
        assert c.post("/v1/status", json=report()).status_code == 403
    with office.client(TABLE_1) as c:
        assert c.get("/v1/office/overview").status_code == 403
        assert c.post("/v1/office/alerts/1/acknowledge").status_code == 403
    with office.client(ADMIN) as c:
        assert c.post("/v1/office/alerts/999/acknowledge").status_code == 404


@pytest.mark.parametrize("changes, message", [
    ({"manntallsnummer": KARI.manntallsnummer}, "Feltet «manntallsnummer» er ikke et kjent felt."),
    ({"mode": "panic"}, "Feltet «mode» har ugyldig verdi."),
    ({"counts": {"checkoffs": -1, "emergency_votes": 0, "manual_valgkort": 0, "pending_uploads": 0}},
     "Feltet «counts.checkoffs» har ugyldig verdi."),
    ({"sent_at": "2025-09-08T07:30:00"}, "Feltet «sent_at» må ha tidssone."),
    ({"loggbok_head": "not hex"}, "Feltet «loggbok_head» har tegn eller form som ikke er tillatt."),
])
def test_a_report_with_anything_unknown_is_refused(office: Office, changes: dict[str, Any], message: str) -> None:
    with office.client(TABLE_1) as c:
        r = c.post("/v1/status", json=report(**changes))
    assert r.status_code == 422 and r.json()["error"]["message"] == message
    assert KARI.manntallsnummer not in r.text
    assert table(office.overview(), TABLE_1)["report"] is None


# -- the chart ---------------------------------------------------------------------------------
def test_checkoffs_per_hour_per_station(store: SqlStore) -> None:
    fill(store)
    from valgkiosk.register.store.status import StatusStore

    at = datetime(2025, 9, 8, 7, 10, tzinfo=timezone.utc)  # 09.10 in Oslo: bars from 06 to 09
    store.check_off(TABLE_1, str(uuid.uuid4()), KARI.manntallsnummer, at - timedelta(hours=2))
    store.check_off(TABLE_2, str(uuid.uuid4()), AASE.manntallsnummer, at - timedelta(minutes=5))
    store.check_off(OTHER_STATION, str(uuid.uuid4()), OLA.manntallsnummer, at - timedelta(minutes=1))
    statuses = StatusStore(store)
    hours, per_hour = statuses._per_hour(at)
    assert hours[-1] == datetime(2025, 9, 8, 7, tzinfo=timezone.utc) and len(hours) == 4
    assert per_hour[("0301", "0101")] == [0, 1, 0, 1]
    assert per_hour[("0301", "0102")] == [0, 0, 0, 1]


# -- the pages ------------------------------------------------------------------------------
def test_docs_and_their_assets_are_served_by_the_register(office: Office) -> None:
    for page, assets in (("/docs", ("swagger-ui-bundle.js", "swagger-ui.css")), ("/redoc", ("redoc.standalone.js",))):
        html = httpx.get(office.url + page).text
        assert "cdn" not in html.lower() and "https://" not in html, page
        for asset in assets:
            assert f"/docs-assets/{asset}" in html
            r = httpx.get(f"{office.url}/docs-assets/{asset}")
            assert r.status_code == 200 and len(r.content) > 100_000, asset


def test_dashboard_wants_the_admin_credential(office: Office) -> None:
    with httpx.Client(base_url=office.url, timeout=10) as browser:
        page = browser.get("/kontor")
        assert "Valgstyrets nøkkel" in page.text and "Prøveskolen" not in page.text
        assert browser.get("/kontor/innhold").status_code == 401
        wrong = browser.post("/kontor/logg-inn", data={"nokkel": office.tokens[TABLE_1.kiosk_id]})
        assert wrong.status_code == 303 and wrong.headers["location"] == "/kontor?feil=1"
        assert "vk_kontor" not in browser.cookies
        assert browser.post("/kontor/logg-inn", data={"nokkel": office.tokens[ADMIN.kiosk_id]}).status_code == 303
        cookie = browser.cookies.jar
        assert any(c.name == "vk_kontor" and c.path == "/kontor" and c.has_nonstandard_attr("HttpOnly")
                   for c in cookie)
        send(office, TABLE_1, report(**ROUTER_CUT))
        html = browser.get("/kontor").text
        assert "Prøveskolen" in html and "Alarm: manntallet kan ikke nås" in html
        assert "Ruteren svarer ikke" in html and "<svg" in html and "Kvitter" in html
        # an acknowledgement from another site is refused
        alert = office.overview()["alerts"][0]
        forged = browser.post(f"/kontor/varsler/{alert['id']}/kvitter", headers={"Origin": "http://evil.example"})
        assert forged.status_code == 401
        assert browser.post(f"/kontor/varsler/{alert['id']}/kvitter", headers={"X-Kontor": "1"}).status_code == 204
        assert "Sett kl. 09.30 (valgstyret)" in browser.get("/kontor/innhold").text
