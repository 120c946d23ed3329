"""The register client against a hostile register on loopback: a real socket server that
dribbles its answer a byte at a time, lies about who was checked off and what was
uploaded, floods a huge body, or is a proxy answering 407/408/429. Each must end within
the call's one deadline as exactly one port error, never as success."""

from __future__ import annotations

import asyncio
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from valgkiosk.core.emergency import EmergencyVote
from valgkiosk.ports.register import (
    RegisterNonsense,
    RegisterTimeout,
    RegisterUnreachable,
    Verdict,
)
from valgkiosk.register_client import HttpRegister

ASKED = "000001234525"
OTHER = "000009999925"
VOTER = {"manntallsnummer": ASKED, "navn": "Kari Prøvesen", "fodselsdato": "1980-04-01"}
CHECKOFF = {"checked_off_at": "2027-09-13T10:00:00+00:00", "krets": "0101", "bord": 1}

#: what the server does: a function of the request (path, body) giving raw bytes to send
#: and how: ("send", bytes) all at once, ("dribble", bytes, seconds between bytes, bytes sent at once first),
#: ("flood", head bytes, total body size).
Plan = Callable[[str, dict[str, Any] | None], tuple[Any, ...]]


def http(status: int, body: bytes, *, reason: str = "X", length: bool = True) -> bytes:
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n"
    if length:
        head += f"Content-Length: {len(body)}\r\n"
    return (head + "Connection: close\r\n\r\n").encode() + body


def ok(answer: dict[str, Any]) -> bytes:
    return http(200, json.dumps(answer).encode())


class Hostile(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.stop = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: Hostile = self.server  # type: ignore[assignment]
        conn: socket.socket = self.request
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            got = conn.recv(65536)
            if not got:
                return
            data += got
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split(" ")[1]
        length = next((int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:")), 0)
        while len(body) < length:
            body += conn.recv(65536)
        action = server.plan(path, json.loads(body) if body else None)
        try:
            if action[0] == "send":
                conn.sendall(action[1])
            elif action[0] == "dribble":  # (bytes, seconds apart, how many bytes go at once first)
                conn.sendall(action[1][: action[3]])
                for byte in action[1][action[3]:]:
                    if server.stop.is_set():
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(action[2])
            elif action[0] == "flood":
                conn.sendall(action[1])
                chunk = b"[" * 65536
                sent = 0
                while sent < action[2] and not server.stop.is_set():
                    conn.sendall(chunk)
                    sent += len(chunk)
        except OSError:
            pass  # the client hung up: that is what it should do


@pytest.fixture
def hostile() -> Iterator[Callable[[Plan], Hostile]]:
    started: list[Hostile] = []

    def start(plan: Plan) -> Hostile:
        server = Hostile(plan)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop.set()
        server.shutdown()
        server.server_close()


def run(url: str, fn: Callable[[HttpRegister], Any], *, timeout: float = 1.0) -> tuple[Any, float]:
    async def main() -> Any:
        client = HttpRegister(url, "k" * 32, timeout=timeout)
        try:
            return await fn(client)
        finally:
            await client.aclose()

    started = time.monotonic()
    try:
        return asyncio.run(main()), time.monotonic() - started
    except Exception as exc:  # noqa: BLE001 - the test looks at which one
        return exc, time.monotonic() - started


def check_off(c: HttpRegister) -> Any:
    return c.check_off("r-1", ASKED)


@pytest.mark.parametrize("what", ["headers", "body"])
def test_a_register_that_dribbles_cannot_hold_a_checkoff_past_the_timeout(hostile, what: str) -> None:
    """Every byte 50 ms apart (each read well inside the timeout, the whole answer far past it)."""
    answer = ok({"verdict": "checked_off", "voter": VOTER, "checkoff": CHECKOFF, "pad": "x" * 100})
    split = answer.index(b"\r\n\r\n") + 4 if what == "body" else 0
    server = hostile(lambda path, body: ("dribble", answer, 0.05, split))
    result, took = run(server.url, check_off, timeout=1.0)
    assert isinstance(result, RegisterTimeout), result
    assert took < 1.8, f"the call took {took:.1f} s with a 1 s deadline"


def test_a_flood_is_cut_off_not_read_into_memory(hostile) -> None:
    flood = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
    server = hostile(lambda path, body: ("flood", flood, 256 << 20))
    result, took = run(server.url, check_off, timeout=5.0)
    assert isinstance(result, RegisterNonsense), result
    assert took < 5.0


def test_a_declared_huge_body_is_refused_before_reading(hostile) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 268435456\r\n\r\n"
    server = hostile(lambda path, body: ("flood", head, 256 << 20))
    result, _ = run(server.url, check_off, timeout=5.0)
    assert isinstance(result, RegisterNonsense), result


LIES = {
    "another voter": {"verdict": "checked_off", "voter": {**VOTER, "manntallsnummer": OTHER}, "checkoff": CHECKOFF},
    "no voter": {"verdict": "checked_off", "voter": None, "checkoff": CHECKOFF},
    "no record": {"verdict": "checked_off", "voter": VOTER, "checkoff": None},
    "already voted, no record": {"verdict": "already_voted", "voter": VOTER},
    "not in register, with a voter": {"verdict": "not_in_register", "voter": VOTER},
    "other station, another voter": {"verdict": "other_station", "voter": {**VOTER, "manntallsnummer": OTHER}},
}


@pytest.mark.parametrize("lie", sorted(LIES))
def test_a_checkoff_answer_about_someone_else_is_nonsense(hostile, lie: str) -> None:
    server = hostile(lambda path, body: ("send", ok(LIES[lie])))
    result, _ = run(server.url, check_off)
    assert isinstance(result, RegisterNonsense), result
    looked, _ = run(server.url, lambda c: c.lookup(ASKED))
    assert isinstance(looked, RegisterNonsense), looked


def test_an_honest_answer_still_passes(hostile) -> None:
    server = hostile(lambda path, body: ("send", ok({"verdict": "checked_off", "voter": VOTER, "checkoff": CHECKOFF})))
    result, _ = run(server.url, check_off)
    assert result.verdict is Verdict.CHECKED_OFF and result.voter.manntallsnummer == ASKED


def votes(n: int) -> list[EmergencyVote]:
    at = datetime(2027, 9, 13, 10, 0, tzinfo=timezone.utc)
    return [EmergencyVote(f"v{i}", at, None, True) for i in range(n)]


@pytest.mark.parametrize("accepted, repeated, ok_", [(3, 0, True), (1, 2, True), (0, 0, False), (-1, 4, False),
                                                    (2, 0, False), (5, 0, False)])
def test_upload_counts_must_add_up_to_the_votes_sent(hostile, accepted: int, repeated: int, ok_: bool) -> None:
    seen: list[int] = []

    def plan(path: str, body: Any) -> tuple[Any, ...]:
        seen.append(len(body["votes"]))
        return ("send", ok({"accepted": accepted, "already_recorded": repeated}))

    server = hostile(plan)
    result, _ = run(server.url, lambda c: c.upload_emergency_votes(votes(3)))
    assert seen == [3]
    if ok_:
        assert (result.accepted, result.already_recorded) == (accepted, repeated)
    else:
        assert isinstance(result, RegisterNonsense), result


@pytest.mark.parametrize("status, error", [(407, RegisterUnreachable), (429, RegisterUnreachable),
                                           (408, RegisterTimeout)])
def test_proxy_and_rate_limit_statuses_are_network_faults(hostile, status: int, error: type) -> None:
    body = json.dumps({"error": {"code": "x", "message": "y"}}).encode()
    server = hostile(lambda path, b: ("send", http(status, body)))
    result, _ = run(server.url, check_off)
    assert isinstance(result, error) and result.uncertain, result


def test_an_upload_carries_the_loggbok_head(hostile) -> None:
    from valgkiosk.core.loggbok import Head

    bodies: list[Any] = []

    def plan(path: str, body: Any) -> tuple[Any, ...]:
        bodies.append(body)
        return ("send", ok({"accepted": 1, "already_recorded": 0}))

    server = hostile(plan)
    head = Head(12, "c" * 64, "d" * 128)
    result, _ = run(server.url, lambda c: c.upload_emergency_votes(votes(1), head=head))
    assert result.accepted == 1
    assert bodies[0]["chain_head"] == {"entries": 12, "hash": "c" * 64, "sig": "d" * 128}
