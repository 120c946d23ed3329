"""The HTTP API through a real uvicorn server on loopback, on both backends."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone

import httpx
import pytest

from valgkiosk.register import credentials
from valgkiosk.register.model import Kiosk
from valgkiosk.register.store import SqlStore

from .factory import (
    AASE, ADMIN, KARI, LAST_ELECTION, NOT_IN_REGISTER, OLA, OTHER_STATION, STRENG,
    STRICT_TABLE, TABLE_1, TABLE_2, fill, voter,
)
from .server import ThreadServer


ELECTION_MORNING = datetime(2025, 9, 8, 7, 30, tzinfo=timezone.utc)


@dataclass
class Api:
    """A running register with one client per kiosk."""

    url: str
    store: SqlStore
    tokens: dict[str, str]

    def client(self, kiosk: Kiosk | None) -> httpx.Client:
        headers = {} if kiosk is None else {"Authorization": f"Bearer {self.tokens[kiosk.kiosk_id]}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


@pytest.fixture
def api(store: SqlStore) -> Iterator[Api]:
    fill(store)
    tokens = {k.kiosk_id: credentials.issue(store, k)
              for k in (TABLE_1, TABLE_2, OTHER_STATION, STRICT_TABLE, ADMIN)}
    with ThreadServer(store, now=lambda: ELECTION_MORNING) as server:
        yield Api(server.url, store, tokens)


def checkoff(client: httpx.Client, number: str, request_id: str | None = None) -> httpx.Response:
    return client.post("/v1/checkoffs", json={"request_id": request_id or str(uuid.uuid4()),
                                              "manntallsnummer": number})


def test_health_needs_no_credential(api: Api) -> None:
    r = httpx.get(api.url + "/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "node": socket.gethostname(), "writable": True}


def test_openapi_is_published(api: Api) -> None:
    doc = httpx.get(api.url + "/openapi.json").json()
    for path in ("/v1/checkoffs", "/v1/voters/lookup", "/v1/voters/search", "/v1/misregistrations",
                 "/v1/emergency-votes", "/v1/counts", "/v1/reconciliation", "/healthz"):
        assert path in doc["paths"], path
    assert "VoterStatusOut" in doc["components"]["schemas"]


def test_kiosk_info(api: Api) -> None:
    with api.client(TABLE_1) as c:
        body = c.get("/v1/kiosk").json()
    assert body["kiosk"] == {"kiosk_id": "prove-bord1", "role": "kiosk", "kommune": "0301",
                             "krets": "0101", "krets_navn": "Prøveskolen", "bord": 1}
    assert body["election"]["year_digit"] == 9 and body["election"]["title"] == "Stortingsvalget 2025"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer vk1_wrong", "Basic abc"])
def test_missing_or_wrong_credential_is_refused_and_records_nothing(api: Api, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    r = httpx.post(api.url + "/v1/checkoffs", headers=headers,
                   json={"request_id": str(uuid.uuid4()), "manntallsnummer": KARI.manntallsnummer})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert api.store.counts() == []


def test_revoked_credential_is_refused(store: SqlStore) -> None:
    fill(store)
    token = credentials.issue(store, TABLE_1)
    with ThreadServer(store, credential_ttl=0.0) as server:
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.get(server.url + "/v1/kiosk", headers=auth).status_code == 200
        store.revoke_credential(TABLE_1.kiosk_id, __import__("datetime").datetime.now().astimezone())
        assert httpx.get(server.url + "/v1/kiosk", headers=auth).status_code == 401


def test_roles(api: Api) -> None:
    with api.client(ADMIN) as admin, api.client(TABLE_1) as kiosk:
        r = checkoff(admin, KARI.manntallsnummer)
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
        assert kiosk.get("/v1/reconciliation").status_code == 403
        assert admin.get("/v1/reconciliation").status_code == 200
    assert api.store.counts() == []


def test_lookup_then_checkoff_then_already_voted(api: Api) -> None:
    with api.client(TABLE_1) as t1, api.client(TABLE_2) as t2:
        ready = t1.post("/v1/voters/lookup", json={"manntallsnummer": KARI.manntallsnummer}).json()
        assert ready["verdict"] == "ready" and ready["checkoff"] is None
        assert ready["voter"]["navn"] == "Kari Prøvesen" and ready["voter"]["fodselsdato"] == "1980-04-01"
        assert "fodselsnummer" not in ready["voter"]
        done = checkoff(t1, KARI.manntallsnummer).json()
        assert done["verdict"] == "checked_off" and done["checkoff"]["bord"] == 1
        again = checkoff(t2, KARI.manntallsnummer).json()
        assert again["verdict"] == "already_voted"
        assert again["checkoff"]["checked_off_at"] == done["checkoff"]["checked_off_at"]
        assert again["checkoff"]["krets_navn"] == "Prøveskolen"


def test_display_form_with_space_is_accepted(api: Api) -> None:
    spaced = f"{OLA.manntallsnummer[:10]} {OLA.manntallsnummer[10:]}"
    with api.client(TABLE_1) as c:
        assert c.post("/v1/voters/lookup", json={"manntallsnummer": spaced}).json()["verdict"] == "ready"


def test_other_outcomes(api: Api) -> None:
    with api.client(TABLE_1) as t1, api.client(STRICT_TABLE) as strict:
        assert checkoff(t1, NOT_IN_REGISTER).json() == {"verdict": "not_in_register", "voter": None,
                                                         "checkoff": None}
        other = checkoff(strict, STRENG.manntallsnummer).json()
        assert other["verdict"] == "other_station" and other["voter"]["krets_navn"] == "Demosenteret"
        assert checkoff(strict, KARI.manntallsnummer).json()["verdict"] == "other_municipality"
        sami = checkoff(t1, AASE.manntallsnummer).json()
        assert sami["verdict"] == "checked_off" and sami["voter"]["sami"] is True


def test_retry_is_idempotent_and_conflicts_are_refused(api: Api) -> None:
    rid = str(uuid.uuid4())
    with api.client(TABLE_1) as t1, api.client(TABLE_2) as t2:
        first = checkoff(t1, OLA.manntallsnummer, rid).json()
        retry = checkoff(t1, OLA.manntallsnummer, rid).json()
        assert first == retry and retry["verdict"] == "checked_off"
        r = checkoff(t1, KARI.manntallsnummer, rid)
        assert r.status_code == 409 and r.json()["error"]["code"] == "request_id_conflict"
        assert checkoff(t2, OLA.manntallsnummer, rid).status_code == 409
    assert sum(c.checkoffs for c in api.store.counts()) == 1


@pytest.mark.parametrize(("body", "code", "words"), [
    ({"request_id": "x", "manntallsnummer": "123"}, "invalid_request", "request_id"),
    ({"manntallsnummer": "000001234582"}, "invalid_request", "mangler"),
    ({"request_id": str(uuid.UUID(int=1)), "manntallsnummer": "12345", "extra": 1}, "invalid_request",
     "ikke et kjent felt"),
    ({"request_id": str(uuid.UUID(int=1)), "manntallsnummer": "12345"}, "invalid_manntallsnummer", "12 sifre"),
    ({"request_id": str(uuid.UUID(int=1)), "manntallsnummer": "12345678908A"}, "invalid_manntallsnummer",
     "sifre"),
    ({"request_id": str(uuid.UUID(int=1)), "manntallsnummer": "000001234583"}, "invalid_manntallsnummer",
     "Kontrollsifferet"),
    ({"request_id": str(uuid.UUID(int=1)), "manntallsnummer": LAST_ELECTION}, "other_election",
     "annet valg"),
])
def test_bad_bodies_get_clear_norwegian_errors(api: Api, body: dict, code: str, words: str) -> None:
    with api.client(TABLE_1) as c:
        r = c.post("/v1/checkoffs", json=body)
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == code and words in error["message"]
    assert "12345678908A" not in error["message"]  # never echoes the input
    assert api.store.counts() == []


def test_not_json_and_oversized_bodies(api: Api) -> None:
    with api.client(TABLE_1) as c:
        r = c.post("/v1/checkoffs", content=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 422 and "JSON" in r.json()["error"]["message"]
        big = {"request_id": str(uuid.uuid4()), "manntallsnummer": KARI.manntallsnummer,
               "pad": "x" * 70_000}
        r = c.post("/v1/checkoffs", json=big)
        assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams
            yield b'{"request_id": "' + str(uuid.uuid4()).encode() + b'", "pad": "'
            for _ in range(80):
                yield b"y" * 1024
            yield b'"}'

        r = c.post("/v1/checkoffs", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 413
    assert api.store.counts() == []


def test_unknown_path_answers_in_the_error_shape(api: Api) -> None:
    with api.client(TABLE_1) as c:
        r = c.get("/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_search_by_fodselsnummer(api: Api) -> None:
    with api.client(TABLE_1) as c:
        hits = c.post("/v1/voters/search", json={"fodselsnummer": OLA.fodselsnummer}).json()["hits"]
        assert [h["manntallsnummer"] for h in hits] == [OLA.manntallsnummer]
        r = c.post("/v1/voters/search", json={"fodselsnummer": "01010112345"})
        assert r.status_code == 422 and "Fødselsnummeret" in r.json()["error"]["message"]
        r = c.post("/v1/voters/search", json={"fodselsnummer": OLA.fodselsnummer, "navn": "Ola"})
        assert r.status_code == 422


@pytest.mark.parametrize("spelling", ["Aase Christophersen", "åse kristofersen", "Åse Kristoffersen",
                                      "Ase Kristofferson"])
def test_search_by_name_tolerates_spelling(api: Api, spelling: str) -> None:
    with api.client(TABLE_1) as c:
        body = c.post("/v1/voters/search", json={"navn": spelling, "fodselsdato": "1990-06-15"}).json()
    assert [h["manntallsnummer"] for h in body["hits"]] == [AASE.manntallsnummer]


@pytest.mark.parametrize("typed", ["Kristoffersen", "kristofersen", "Åse"])
def test_search_by_one_of_the_names_with_the_birth_date(api: Api, typed: str) -> None:
    """A clerk types only the surname (or the given name) from the ID card, with the date of
    birth: the voter is found (EVA's name search does not need the whole name)."""
    with api.client(TABLE_1) as c:
        body = c.post("/v1/voters/search", json={"navn": typed, "fodselsdato": "1990-06-15"}).json()
    assert [h["manntallsnummer"] for h in body["hits"]] == [AASE.manntallsnummer]


def test_the_whole_name_ranks_above_a_name_that_only_holds_it(store: SqlStore) -> None:
    born = date(1961, 3, 3)
    fill(store, [voter(7001, "Kari Anne", "Prøvesen", born), voter(7002, "Kari", "Prøvesen", born),
                 voter(7003, "Ola", "Nordmann", born)])
    token = credentials.issue(store, TABLE_1)
    with ThreadServer(store) as server, httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as c:
        hits = c.post("/v1/voters/search", json={"navn": "Kari Prøvesen", "fodselsdato": "1961-03-03"}).json()["hits"]
    assert [h["navn"] for h in hits] == ["Kari Prøvesen", "Kari Anne Prøvesen"]


def test_search_by_name_needs_the_right_birth_date_and_caps_hits(store: SqlStore) -> None:
    born = date(1955, 5, 5)
    namesakes = [voter(5000 + i, "Kari", "Prøvesen", born) for i in range(60)]
    fill(store, namesakes)
    token = credentials.issue(store, TABLE_1)
    with ThreadServer(store) as server, httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as c:
        body = c.post("/v1/voters/search", json={"navn": "Kari Prøvesen", "fodselsdato": "1955-05-05"}).json()
        assert len(body["hits"]) == 50 and body["truncated"] is True
        wrong_day = c.post("/v1/voters/search", json={"navn": "Kari Prøvesen", "fodselsdato": "1955-05-06"})
        assert wrong_day.json() == {"hits": [], "truncated": False}
        unrelated = c.post("/v1/voters/search", json={"navn": "Zacharias Wolff", "fodselsdato": "1955-05-05"})
        assert unrelated.json()["hits"] == []


def test_misregistration_through_the_api(api: Api) -> None:
    with api.client(TABLE_1) as t1, api.client(TABLE_2) as t2:
        r = t1.post("/v1/misregistrations", json={"manntallsnummer": KARI.manntallsnummer,
                                                  "reported_by": "Avkrysser", "note": "feil"})
        assert r.status_code == 409 and r.json()["error"]["code"] == "no_checkoff"
        checkoff(t1, KARI.manntallsnummer)
        r = t1.post("/v1/misregistrations", json={"manntallsnummer": KARI.manntallsnummer,
                                                  "reported_by": "Avkrysser bord 1", "note": "Feil person"})
        assert r.status_code == 200 and r.json()["misregistration"]["reported_by"] == "Avkrysser bord 1"
        later = t2.post("/v1/voters/lookup", json={"manntallsnummer": KARI.manntallsnummer}).json()
        assert later["verdict"] == "already_voted"
        assert later["checkoff"]["misregistration"]["note"] == "Feil person"


def test_emergency_upload_counts_and_reconciliation(api: Api) -> None:
    votes = {"votes": [
        {"vote_id": "k1-0001", "recorded_at": "2025-09-08T10:00:00+02:00", "manntallsnummer": KARI.manntallsnummer},
        {"vote_id": "k1-0002", "recorded_at": "2025-09-08T10:05:00+02:00", "manntallsnummer": None,
         "manual_valgkort": True},
    ]}
    with api.client(TABLE_2) as t2, api.client(TABLE_1) as t1, api.client(ADMIN) as admin:
        checkoff(t1, KARI.manntallsnummer)
        assert t2.post("/v1/emergency-votes", json=votes).json() == {"accepted": 2, "already_recorded": 0}
        assert t2.post("/v1/emergency-votes", json=votes).json() == {"accepted": 0, "already_recorded": 2}
        naive = {"votes": [{"vote_id": "x", "recorded_at": "2025-09-08T10:00:00"}]}
        assert t2.post("/v1/emergency-votes", json=naive).status_code == 422
        counts = t1.get("/v1/counts").json()
        assert counts["total"] == {"checkoffs": 1, "emergency_votes": 2, "misregistrations": 0}
        assert {t["bord"] for t in counts["tables"]} == {1, 2}
        dup = admin.get("/v1/reconciliation").json()["duplicates"]
        assert [d["manntallsnummer"] for d in dup] == [KARI.manntallsnummer]
        assert [a["kind"] for a in dup[0]["appearances"]] == ["checkoff", "emergency_vote"]


def test_a_kiosk_sees_only_its_own_station_counts(api: Api) -> None:
    with api.client(TABLE_1) as t1, api.client(OTHER_STATION) as other, api.client(ADMIN) as admin:
        checkoff(t1, KARI.manntallsnummer)
        checkoff(other, OLA.manntallsnummer)
        mine = t1.get("/v1/counts", params={"kommune": "0301", "krets": "0102"}).json()
        assert [t["krets"] for t in mine["tables"]] == ["0101"]
        everything = admin.get("/v1/counts").json()
        assert [t["krets"] for t in everything["tables"]] == ["0101", "0102"]


def test_no_personal_data_in_the_server_log(api: Api, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with api.client(TABLE_1) as c:
        checkoff(c, KARI.manntallsnummer)
        c.post("/v1/voters/search", json={"fodselsnummer": OLA.fodselsnummer})
        c.post("/v1/voters/search", json={"navn": "Åse Kristoffersen", "fodselsdato": "1990-06-15"})
        c.post("/v1/misregistrations", json={"manntallsnummer": KARI.manntallsnummer,
                                             "reported_by": "Avkrysser", "note": "Feil person"})
        checkoff(c, "000001234583")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "checkoff by prove-bord1" in text  # the log is being captured
    for secret in (KARI.manntallsnummer, OLA.fodselsnummer, "Kristoffersen", "Prøvesen", "1990-06-15",
                   "000001234583"):
        assert secret not in text


def test_health_answers_503_when_the_database_is_gone(store_url: str) -> None:
    import os
    import time

    from valgkiosk.register.store import open_store

    s = open_store(store_url)
    s.migrate()
    fill(s)
    with ThreadServer(s) as server:
        assert httpx.get(server.url + "/healthz").status_code == 200
        s.close()  # PostgreSQL: the pool is closed; SQLite: the file is replaced below
        if store_url.startswith("sqlite"):
            path = store_url.removeprefix("sqlite:///")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
            os.mkdir(path)  # not a database any more: opening it fails
        time.sleep(1.1)  # the last good answer is remembered for a second
        r = httpx.get(server.url + "/healthz")
        assert r.status_code == 503 and r.json()["status"] == "database_unavailable"
        assert r.json()["writable"] is False
