"""A stolen kiosk credential cannot empty the register: limits, minimal answers, records, alerts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timezone

import httpx
import pytest

from valgkiosk.register import credentials
from valgkiosk.register.access import Limit, RateLimiter, alerts
from valgkiosk.register.model import AccessSummary
from valgkiosk.register.store import SqlStore

from .factory import ADMIN, KARI, OLA, TABLE_1, TABLE_2, fill, many_voters
from .server import ThreadServer

MORNING = datetime(2025, 9, 8, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def clients(store: SqlStore) -> Iterator[dict[str, httpx.Client]]:
    fill(store, many_voters(80))
    tokens = {k.kiosk_id: credentials.issue(store, k) for k in (TABLE_1, TABLE_2, ADMIN)}
    with ThreadServer(store, now=lambda: MORNING, lookup_limit=Limit(6, 30), search_limit=Limit(2, 10)) as s:
        made = {name: httpx.Client(base_url=s.url, headers={"Authorization": f"Bearer {t}"}, timeout=10)
                for name, t in tokens.items()}
        yield made
        for c in made.values():
            c.close()


def test_the_token_bucket_allows_a_burst_then_a_voter_every_ten_seconds() -> None:
    t = [0.0]
    limiter = RateLimiter(Limit(per_minute=6, burst=3), clock=lambda: t[0])
    assert [limiter.allow("k") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.allow("k") == pytest.approx(10.0)
    assert limiter.allow("other") == 0.0  # per credential
    t[0] = 10.0
    assert limiter.allow("k") == 0.0 and limiter.allow("k") > 0
    assert RateLimiter(Limit(0, 0)).allow("k") == 0.0  # 0: no limit


def test_a_scraping_credential_is_slowed_recorded_and_flagged(clients: dict[str, httpx.Client],
                                                               store: SqlStore) -> None:
    table, admin = clients[TABLE_1.kiosk_id], clients[ADMIN.kiosk_id]
    numbers = [v.manntallsnummer for v in many_voters(80)]
    answers = [table.post("/v1/voters/lookup", json={"manntallsnummer": n}) for n in numbers[:40]]
    codes = [r.status_code for r in answers]
    assert codes[:30] == [200] * 30 and set(codes[30:]) == {429}
    refused = answers[-1]
    assert refused.json()["error"]["code"] == "rate_limited" and int(refused.headers["retry-after"]) >= 1
    # a checked-off voter at the other table is unaffected by this table's limit
    other = clients[TABLE_2.kiosk_id].post("/v1/checkoffs", json={"request_id": str(uuid.uuid4()),
                                                                 "manntallsnummer": KARI.manntallsnummer})
    assert other.json()["verdict"] == "checked_off"

    report = admin.get("/v1/access-report", params={"minutes": 60}).json()
    mine = next(c for c in report["credentials"] if c["kiosk_id"] == TABLE_1.kiosk_id)
    assert (mine["lookups"], mine["rate_limited"], mine["checkoffs"]) == (40, 10, 0)
    assert mine["alert"] is True and any("avvist" in r for r in mine["reasons"])
    assert all(c["kiosk_id"] != TABLE_2.kiosk_id for c in report["credentials"])  # check-offs only: no records
    records = store.access_records(TABLE_1.kiosk_id, MORNING.replace(hour=0))
    assert [r.asked for r in records[:30]] == numbers[:30]  # what was asked, in the database
    assert {r.outcome for r in records[:30]} == {"ready"}
    assert clients[TABLE_1.kiosk_id].get("/v1/access-report").status_code == 403


def test_searches_have_their_own_tighter_limit_and_are_recorded(clients: dict[str, httpx.Client],
                                                                 store: SqlStore) -> None:
    table = clients[TABLE_1.kiosk_id]
    codes = [table.post("/v1/voters/search", json={"fodselsnummer": OLA.fodselsnummer}).status_code
             for _ in range(12)]
    assert codes == [200] * 10 + [429] * 2
    assert clients[ADMIN.kiosk_id].get("/v1/access-report").status_code == 200  # writes what is pending
    records = store.access_records(TABLE_1.kiosk_id, MORNING.replace(hour=0))
    assert [(r.kind, r.asked, r.outcome) for r in records[:1]] == [
        ("search_fodselsnummer", OLA.fodselsnummer, "1 hits")]


def test_the_address_only_when_a_manual_valgkort_is_being_made(clients: dict[str, httpx.Client]) -> None:
    table = clients[TABLE_1.kiosk_id]
    plain = table.post("/v1/voters/lookup", json={"manntallsnummer": KARI.manntallsnummer}).json()["voter"]
    assert "adresse" not in plain and "postnummer" not in plain and plain["navn"] == "Kari Prøvesen"
    full = table.post("/v1/voters/lookup", json={"manntallsnummer": KARI.manntallsnummer,
                                                 "with_address": True}).json()["voter"]
    assert full["adresse"] and full["postnummer"] and full["poststed"]
    hit = table.post("/v1/voters/search", json={"fodselsnummer": OLA.fodselsnummer}).json()["hits"][0]
    assert "adresse" not in hit
    done = table.post("/v1/checkoffs", json={"request_id": str(uuid.uuid4()),
                                             "manntallsnummer": KARI.manntallsnummer}).json()
    assert "adresse" not in done["voter"]
    assert table.post("/v1/voters/lookup", json={"manntallsnummer": KARI.manntallsnummer,
                                                 "with_address": "yes"}).status_code == 422


def test_alert_rules() -> None:
    at = MORNING
    quiet = AccessSummary("k", lookups=50, searches=2, rate_limited=0, nobody_found=1, checkoffs=45,
                          first=at, last=at)
    assert alerts(quiet, 60) == []
    reader = AccessSummary("k", 200, 0, 0, 0, 10, at, at)
    assert any("avkrysninger" in r for r in alerts(reader, 60))
    guesser = AccessSummary("k", 60, 0, 0, 50, 5, at, at)
    assert any("gjetting" in r for r in alerts(guesser, 60))


@pytest.mark.slow
def test_two_api_nodes_share_one_bucket_per_credential(store: SqlStore, store_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two ``register serve`` processes on one PostgreSQL: a credential's burst is spent
    across both, not once on each (the buckets are in the database)."""
    if store_url.startswith("sqlite"):
        pytest.skip("an SQLite register is served by one process: its limits are in that process")
    from .server import ProcessServer

    fill(store, many_voters(20))
    token = credentials.issue(store, TABLE_1)
    other = credentials.issue(store, TABLE_2)
    limit = ["--lookup-rate", "1", "--lookup-burst", "4"]  # 1 a minute: no refill during the test
    nodes = [ProcessServer(store_url, tmp_path / f"node{i}.log", extra_args=limit) for i in (1, 2)]
    for node in nodes:
        node.start()
    try:
        def lookup(node: ProcessServer, who: str = token) -> httpx.Response:
            return httpx.post(node.url + "/v1/voters/lookup", json={"manntallsnummer": KARI.manntallsnummer},
                              headers={"Authorization": f"Bearer {who}"}, timeout=10)

        answers = [lookup(nodes[i % 2]).status_code for i in range(6)]
        assert answers == [200, 200, 200, 200, 429, 429], answers  # per process it would be 8 × 200
        refused = lookup(nodes[0])
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert lookup(nodes[1], other).status_code == 200  # another credential has its own bucket
    finally:
        for node in nodes:
            node.stop()
