"""The check-off's fast path (register/api.py, ``fast_check_off``) answers exactly as the
FastAPI route would: the same requests to two identical registers, one with the fast path
and one without, give the same status, headers and bytes; the valid ones are answered by
the fast path and every other one falls through to the route."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from valgkiosk.register import credentials
from valgkiosk.register.api import create_app
from valgkiosk.register.store import SqlStore, open_store

from .factory import (
    ADMIN, KARI, LAST_ELECTION, NOT_IN_REGISTER, OLA, OTHER_STATION, STRENG, STRICT_TABLE, TABLE_1, fill,
)
from .pgdb import create_database as create_pg_database
from .pgdb import drop_database as drop_pg_database

MORNING = datetime(2025, 9, 8, 7, 30, tzinfo=timezone.utc)
KIOSKS = (TABLE_1, OTHER_STATION, STRICT_TABLE, ADMIN)


@pytest.fixture
def twin(store_url: str, tmp_path: Path) -> Iterator[SqlStore]:
    """A second register like ``store``, on the same backend."""
    url = f"sqlite:///{tmp_path}/twin.db" if store_url.startswith("sqlite") else create_pg_database()
    s = open_store(url)
    s.migrate()
    try:
        yield s
    finally:
        s.close()
        if not url.startswith("sqlite"):
            drop_pg_database(url)


def requests() -> list[tuple[str | None, dict[str, str], bytes]]:
    """(kiosk, extra headers, body): the happy cases and every kind of refusal."""
    rid, other_rid = str(uuid.uuid4()), str(uuid.uuid4())
    json_ = {"content-type": "application/json"}

    def body(number: str, request_id: str | None = None, **extra: Any) -> bytes:
        import json
        return json.dumps({"request_id": request_id or str(uuid.uuid4()), "manntallsnummer": number,
                           **extra}).encode()

    return [
        ("prove-bord1", json_, body(KARI.manntallsnummer, rid)),                      # checked off
        ("prove-bord1", json_, body(KARI.manntallsnummer, rid)),                      # the retry: the same answer
        ("prove-bord1", json_, body(KARI.manntallsnummer, other_rid)),                # already voted
        ("prove-bord1", json_, body(OLA.manntallsnummer, rid)),                       # request id of another voter
        ("test-bord1", json_, body(KARI.manntallsnummer, rid)),                 # request id of another kiosk
        ("prove-bord1", json_, body(NOT_IN_REGISTER)),                                # not in the register
        ("streng-bord1", json_, body(OLA.manntallsnummer)),                     # other municipality
        ("streng-bord1", json_, body(STRENG.manntallsnummer)),                  # own station required
        ("prove-bord1", {"content-type": "application/json; charset=utf-8"},
         body(OLA.manntallsnummer[:10] + " " + OLA.manntallsnummer[10:])),      # EVA's display form
        ("prove-bord1", json_, body(LAST_ELECTION)),                                  # a card from 2023: 422
        ("prove-bord1", json_, body("123456789012")),                                 # wrong check digit: 422
        ("prove-bord1", json_, body(OLA.manntallsnummer, extra="x")),                 # unknown field
        ("prove-bord1", json_, b'{"request_id": "nope", "manntallsnummer": "1"}'),
        ("prove-bord1", json_, b'{"request_id": "' + str(uuid.uuid4()).encode() + b'", "manntallsnummer": 1}'),
        ("prove-bord1", json_, b'{"manntallsnummer": "x"'),                            # not JSON
        ("prove-bord1", json_, b"\xff\xfe"),                                           # not UTF-8
        ("prove-bord1", json_, b"[" * 5000 + b"]" * 5000),                             # nested deeper than Python
        ("prove-bord1", {"content-type": "text/plain"}, body(OLA.manntallsnummer)),   # not a JSON body
        ("prove-bord1", {}, body(OLA.manntallsnummer)),                               # no content type
        (None, json_, body(OLA.manntallsnummer)),                               # no credential
        ("bogus", json_, body(OLA.manntallsnummer)),                            # unknown credential
        ("valgstyret", json_, body(OLA.manntallsnummer)),                       # an admin is no table
    ]


async def _send_all(app: Any, tokens: dict[str, str],
                    sequence: list[tuple[str | None, dict[str, str], bytes]]) -> list[tuple[int, Any, bytes]]:
    answers = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://register") as client:
        for who, headers, content in sequence:
            h = dict(headers)
            if who is not None:
                h["authorization"] = f"Bearer {tokens.get(who, 'vk1_not-a-credential')}"
            r = await client.post("/v1/checkoffs", content=content, headers=h)
            answers.append((r.status_code, sorted((k, v) for k, v in r.headers.items()), r.content))
    for close in app.router.on_shutdown:
        result = close()
        if asyncio.iscoroutine(result):
            await result
    return answers


def test_the_fast_path_answers_exactly_as_the_route(store: SqlStore, twin: SqlStore) -> None:
    sequence = requests()
    apps, answered = [], []
    for s, fast in ((store, True), (twin, False)):
        fill(s)
        tokens = {k.kiosk_id: credentials.issue(s, k) for k in KIOSKS}
        app = create_app(s, now=lambda: MORNING, fast_checkoff=fast)
        apps.append((app, tokens))
    fast_app, fast_tokens = apps[0]
    routes = fast_app.state.fast_routes
    inner = routes["/v1/checkoffs"]

    async def counted(scope: Any, body: bytes) -> Any:
        answer = await inner(scope, body)
        answered.append(answer is not None)
        return answer

    routes["/v1/checkoffs"] = counted
    assert "/v1/checkoffs" not in apps[1][0].state.fast_routes
    with_fast = asyncio.run(_send_all(fast_app, fast_tokens, sequence))
    without = asyncio.run(_send_all(apps[1][0], apps[1][1], sequence))
    for i, (a, b) in enumerate(zip(with_fast, without)):
        assert a == b, f"request {i}: {a} != {b}"
    statuses = [a[0] for a in with_fast]
    assert statuses == [200, 200, 200, 409, 409, 200, 200, 200, 200, 422, 422, 422, 422, 422, 422, 422, 422,
                        422, 422, 401, 401, 403], statuses
    # The first nine (the register's own answers, 409s included) came from the fast path;
    # every refusal of the request itself went the full way.
    assert answered == [True] * 9 + [False] * 13, answered
    verdicts = [__import__("json").loads(a[2]).get("verdict") for a in with_fast[:9]]
    assert verdicts == ["checked_off", "checked_off", "already_voted", None, None, "not_in_register",
                        "other_municipality", "other_station", "checked_off"]


def test_health_from_the_front_door_answers_exactly_as_the_route(store: SqlStore, twin: SqlStore) -> None:
    """``GET /healthz`` from ``RegisterApp``'s front door: the route's status, headers and
    bytes; HEAD (and anything but GET) still goes the full way."""
    answers = []
    for s, fast in ((store, True), (twin, False)):
        fill(s)
        app = create_app(s, now=lambda: MORNING, fast_checkoff=fast)
        calls: list[int] = []
        if fast:
            inner = app.fast_health
            assert inner is not None

            async def counted() -> Any:
                calls.append(1)
                return await inner()

            app.fast_health = counted
        else:
            assert app.fast_health is None

        async def ask(app: Any = app) -> list[tuple[int, Any, bytes]]:
            out = []
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://register") as c:
                for method in ("GET", "GET", "HEAD"):
                    r = await c.request(method, "/healthz")
                    out.append((r.status_code, sorted(r.headers.items()), r.content))
            for close in app.router.on_shutdown:
                result = close()
                if asyncio.iscoroutine(result):
                    await result
            return out

        answers.append(asyncio.run(ask()))
        assert calls == ([1, 1] if fast else []), calls
    assert answers[0] == answers[1]
    assert [a[0] for a in answers[0]] == [200, 200, 405]  # (HEAD: the route says so, both ways)
    assert __import__("json").loads(answers[0][0][2])["writable"] is True


def test_a_large_or_failing_check_off_at_the_front_door(store: SqlStore, twin: SqlStore,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A body over the limit gets Gate's 413 whichever way it comes; an unexpected error
    inside the fast path gets the clean JSON 500 and a log line with its type only."""
    from valgkiosk.register.api import BODY_LIMIT

    def boom(*args: Any) -> Any:
        raise RuntimeError(f"a database message that quotes {KARI.manntallsnummer}")

    async def aboom(*args: Any) -> Any:
        boom()

    fill(store)
    token = credentials.issue(store, TABLE_1)
    store.check_off = boom  # type: ignore[method-assign]
    if hasattr(store, "check_off_async"):
        store.check_off_async = aboom  # type: ignore[attr-defined]
    app = create_app(store, now=lambda: MORNING)
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    ok_body = ('{"request_id": "%s", "manntallsnummer": "%s"}' % (uuid.uuid4(), KARI.manntallsnummer)).encode()

    async def streamed() -> Any:
        yield ok_body[:10]
        yield b" " * (BODY_LIMIT + 1)

    async def go() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://register") as c:
            out = [await c.post("/v1/checkoffs", content=b" " * (BODY_LIMIT + 1), headers=headers),
                   await c.post("/v1/checkoffs", content=streamed(), headers=headers),
                   await c.post("/v1/checkoffs", content=ok_body, headers=headers)]
        for close in app.router.on_shutdown:
            result = close()
            if asyncio.iscoroutine(result):
                await result
        return out

    with caplog.at_level("ERROR", logger="valgkiosk.register"):
        too_big, too_big_streamed, failed = asyncio.run(go())
    for r in (too_big, too_big_streamed):
        assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large", r.text
    assert failed.status_code == 500, failed.text
    assert failed.json() == {"error": {"code": "internal_error", "message": "Intern feil i registeret."}}
    assert failed.headers["content-type"] == "application/json"
    assert "unexpected error in POST /v1/checkoffs: RuntimeError" in caplog.text
    assert KARI.manntallsnummer not in caplog.text
