"""Exactly-once check-off under concurrency, retries and a killed server (both backends).

The server runs as its own process (``valgkiosk register serve``) on loopback, as in
production; kiosks are threads with their own HTTP clients and credentials.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from valgkiosk.register import credentials
from valgkiosk.register.model import Kiosk, Role
from valgkiosk.register.store import open_store

from .factory import KARI, OLA, fill, many_voters
from .server import ProcessServer

KIOSKS = [Kiosk(f"prove-bord{n}", Role.KIOSK, "0301", "0101", n) for n in range(1, 33)]


@pytest.fixture
def served(store_url: str, tmp_path: Path) -> Iterator[tuple[ProcessServer, dict[str, str]]]:
    """A register process over a filled database, with a credential per kiosk."""
    store = open_store(store_url)
    store.migrate()
    fill(store, many_voters(400))
    tokens = {k.kiosk_id: credentials.issue(store, k) for k in KIOSKS}
    store.close()
    server = ProcessServer(store_url, tmp_path / "server.log",
                           extra_args=["--lookup-rate", "0"])  # it checks every acknowledgement by lookup
    server.start()
    try:
        yield server, tokens
    finally:
        server.stop()


def _post_all(url: str, bodies: list[tuple[str, dict]]) -> list[httpx.Response]:
    """POST every (token, body) at the same moment from its own thread and client."""
    barrier = threading.Barrier(len(bodies))
    results: list[httpx.Response | BaseException] = [None] * len(bodies)  # type: ignore[list-item]

    def kiosk(i: int, token: str, body: dict) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
            c.get("/v1/kiosk")  # connect and authenticate before the race
            barrier.wait()
            try:
                results[i] = c.post("/v1/checkoffs", json=body)
            except BaseException as exc:  # noqa: BLE001 - reported below
                results[i] = exc

    threads = [threading.Thread(target=kiosk, args=(i, t, b)) for i, (t, b) in enumerate(bodies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for r in results:
        assert isinstance(r, httpx.Response), r
    return results  # type: ignore[return-value]


@pytest.mark.slow
def test_32_kiosks_checking_off_one_voter_give_exactly_one_success(served) -> None:
    server, tokens = served
    bodies = [(tokens[k.kiosk_id], {"request_id": str(uuid.uuid4()), "manntallsnummer": KARI.manntallsnummer})
              for k in KIOSKS]
    responses = _post_all(server.url, bodies)
    verdicts = [r.json()["verdict"] for r in responses]
    assert all(r.status_code == 200 for r in responses)
    assert verdicts.count("checked_off") == 1
    assert verdicts.count("already_voted") == 31
    winner = responses[verdicts.index("checked_off")].json()["checkoff"]
    assert all(r.json()["checkoff"] == winner for r in responses)


@pytest.mark.slow
def test_32_concurrent_retries_of_one_request_all_succeed(served) -> None:
    server, tokens = served
    rid = str(uuid.uuid4())
    token = tokens[KIOSKS[0].kiosk_id]
    responses = _post_all(server.url, [(token, {"request_id": rid, "manntallsnummer": OLA.manntallsnummer})] * 32)
    bodies = [r.json() for r in responses]
    assert all(b["verdict"] == "checked_off" for b in bodies), {b["verdict"] for b in bodies}
    assert all(b == bodies[0] for b in bodies)


@pytest.mark.slow
def test_kill_9_mid_run_loses_no_acknowledged_checkoff(served, store_url: str) -> None:
    server, tokens = served
    voters = many_voters(400)
    acknowledged: dict[str, str] = {}   # manntallsnummer -> request id, answered "checked_off"
    unanswered: dict[str, str] = {}     # sent, but the answer never came
    stop = threading.Event()
    lock = threading.Lock()

    def kiosk(k: int) -> None:
        token = tokens[KIOSKS[k].kiosk_id]
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"},
                          timeout=5) as c:
            for v in voters[k::4]:
                if stop.is_set():
                    return
                rid = str(uuid.uuid4())
                try:
                    r = c.post("/v1/checkoffs", json={"request_id": rid,
                                                      "manntallsnummer": v.manntallsnummer})
                    ok = r.status_code == 200 and r.json()["verdict"] == "checked_off"
                except httpx.HTTPError:
                    ok = False
                with lock:
                    (acknowledged if ok else unanswered)[v.manntallsnummer] = rid
                if not ok:
                    return

    threads = [threading.Thread(target=kiosk, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.01)
    server.kill()                      # mid-run: requests are in flight
    stop.set()
    for t in threads:
        t.join(timeout=30)
    assert len(acknowledged) >= 40

    server.start()
    token = tokens[KIOSKS[0].kiosk_id]
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10) as c:
        for number in acknowledged:
            r = c.post("/v1/voters/lookup", json={"manntallsnummer": number}).json()
            assert r["verdict"] == "already_voted", number
        # An answer that never came is resolved by asking again with the same request id:
        # it either was recorded (and says so) or is recorded now; never "already voted".
        for number, rid in unanswered.items():
            owner = next(k for k in range(4) if number in {v.manntallsnummer for v in voters[k::4]})
            with httpx.Client(base_url=server.url, timeout=10,
                              headers={"Authorization": f"Bearer {tokens[KIOSKS[owner].kiosk_id]}"}) as kc:
                again = kc.post("/v1/checkoffs", json={"request_id": rid, "manntallsnummer": number}).json()
            assert again["verdict"] == "checked_off", number
        total = c.get("/v1/counts").json()["total"]["checkoffs"]
    assert total == len(acknowledged) + len(unanswered)
