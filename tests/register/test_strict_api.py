"""The API is as strict as its documentation: each probe that once slipped through."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import httpx
import pytest

from valgkiosk.register import credentials
from valgkiosk.register.store import SqlStore, open_store

from .factory import KARI, TABLE_1, fill
from .server import ProcessServer, ThreadServer

DOCUMENTED_CODES = set(re.findall(r"`([a-z_]+)` \(\d{3}", Path("docs/register-api.md").read_text()))


@pytest.fixture
def kiosk(store: SqlStore) -> Iterator[httpx.Client]:
    fill(store)
    token = credentials.issue(store, TABLE_1)
    with ThreadServer(store, now=lambda: datetime(2025, 9, 8, 9, 0, tzinfo=timezone.utc)) as server, \
            httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as c:
        yield c


def refused(r: httpx.Response, status: int = 422, code: str = "invalid_request") -> str:
    """The Norwegian message of a documented refusal."""
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code and error["code"] in DOCUMENTED_CODES
    return str(error["message"])


def upload(c: httpx.Client, **vote: object) -> httpx.Response:
    return c.post("/v1/emergency-votes", json={"votes": [
        {"vote_id": "v1", "recorded_at": "2025-09-08T10:00:00+02:00", **vote}]})


@pytest.mark.parametrize("field", ["reported_by", "note"])
def test_a_nul_character_is_refused_on_both_backends(kiosk: httpx.Client, store: SqlStore, field: str) -> None:
    kiosk.post("/v1/checkoffs", json={"request_id": str(uuid.uuid4()), "manntallsnummer": KARI.manntallsnummer})
    body = {"manntallsnummer": KARI.manntallsnummer, "reported_by": "Avkrysser", "note": "ok", field: "a\x00b"}
    assert "tillatt" in refused(kiosk.post("/v1/misregistrations", json=body))
    assert "tillatt" in refused(upload(kiosk, vote_id="a\x00b"))
    assert sum(c.misregistrations + c.emergency_votes for c in store.counts()) == 0


@pytest.mark.parametrize(("vote", "words"), [
    ({"recorded_at": 1757318400}, "tidspunkt"),
    ({"recorded_at": "0065-09-08T10:00:00+00:00"}, "årene"),
    ({"recorded_at": "5718-09-08T10:00:00+00:00"}, "årene"),
    ({"manual_valgkort": "yes"}, "true eller false"),
    ({"manual_valgkort": 1}, "true eller false"),
])
def test_emergency_votes_take_only_what_the_schema_says(kiosk: httpx.Client, vote: dict, words: str) -> None:
    assert words in refused(upload(kiosk, **vote))


@pytest.mark.parametrize("body", [
    b'{"manntallsnummer": "\xff\xfe"}',
    b'{"manntallsnummer": ' + b"9" * 50_000 + b"}",
    b"[" * 20_000 + b"]" * 20_000,
])
def test_unreadable_json_gets_a_documented_norwegian_error(kiosk: httpx.Client, body: bytes) -> None:
    r = kiosk.post("/v1/voters/lookup", content=body, headers={"Content-Type": "application/json"})
    assert refused(r) == "Forespørselen er ikke gyldig JSON."


def test_a_wrong_method_says_which_are_allowed(kiosk: httpx.Client) -> None:
    r = kiosk.get("/v1/checkoffs")
    refused(r, 405, "method_not_allowed")
    assert r.headers["allow"] == "POST"


@pytest.mark.parametrize(("body", "message"), [
    ({"fodselsnummer": "01018012345", "navn": "Kari", "fodselsdato": "1980-01-01"},
     "Søk enten på fødselsnummer, eller på navn og fødselsdato."),
    ({"navn": "Kari Prøvesen"}, "Søk på navn trenger både navn og fødselsdato."),
])
def test_search_messages_read_as_sentences(kiosk: httpx.Client, body: dict, message: str) -> None:
    assert refused(kiosk.post("/v1/voters/search", json=body)) == message


def test_openapi_manntallsnummer_is_as_strict_as_the_api(kiosk: httpx.Client) -> None:
    schemas = kiosk.get("/openapi.json").json()["components"]["schemas"]
    pattern = re.compile(schemas["CheckoffRequest"]["properties"]["manntallsnummer"]["pattern"])
    for text in (KARI.manntallsnummer, f"{KARI.manntallsnummer[:10]} {KARI.manntallsnummer[10:]}"):
        assert pattern.search(text)
    for text in ("12345", "1234567890AB", "12345678901 2", "1234567890123", "१२३४५६७८९०१२"):
        assert not pattern.search(text), text
        r = kiosk.post("/v1/voters/lookup", json={"manntallsnummer": text})
        refused(r, 422, "invalid_manntallsnummer")


def test_several_workers_log_with_time_and_level_and_name_the_kiosk(tmp_path: Path, store_url: str) -> None:
    if store_url.startswith("sqlite"):
        pytest.skip("several workers need PostgreSQL")
    s = open_store(store_url)
    s.migrate()
    fill(s)
    token = credentials.issue(s, TABLE_1)
    s.close()
    server = ProcessServer(store_url, tmp_path / "server.log", extra_args=["--workers", "2", "--log-level", "info"])
    server.start()
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}) as c:
            for _ in range(6):  # reach both workers
                c.get("/v1/kiosk")
            c.post("/v1/emergency-votes", json={"votes": []})
    finally:
        server.stop()
    lines = (tmp_path / "server.log").read_text().splitlines()
    ours = [ln for ln in lines if "valgkiosk.register" in ln]
    assert any("kiosk prove-bord1" in ln and " INFO " in ln for ln in ours), lines
    assert any("emergency votes from prove-bord1" in ln for ln in ours), lines
    stamp = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR|DEBUG) \[\d+\] ")
    assert ours and all(stamp.match(ln) for ln in ours), ours
