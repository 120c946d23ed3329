"""One socket write per answer (register/http_protocol.py): the coalescing transport, and
``register serve`` answering through it over a real socket on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from pathlib import Path
from typing import Any

import httpx

from valgkiosk.register import credentials
from valgkiosk.register.http_protocol import CoalescingTransport
from valgkiosk.register.store import SqlStore

from .factory import KARI, TABLE_1, fill
from .server import ProcessServer


class Recording:
    """A transport that records what reaches it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.calls.append(("close", b""))
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else default

    def pause_reading(self) -> None:
        self.calls.append(("pause_reading", b""))


def test_writes_in_one_turn_go_out_as_one_and_nothing_is_overtaken() -> None:
    async def go() -> list[tuple[str, bytes]]:
        real = Recording()
        t = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        t.write(b"HTTP/1.1 200 OK\r\n\r\n")
        t.write(memoryview(b"{}"))
        assert real.calls == []  # not yet: at the end of this turn
        await asyncio.sleep(0)
        t.write(b"second")
        await asyncio.sleep(0)
        t.write(b"before a pause")
        t.pause_reading()  # anything else sends what is pending first
        t.write(b"last")
        assert t.get_extra_info("peername") == ("127.0.0.1", 1)
        t.close()  # the pending write goes before the close
        t.write(b"after the close")
        await asyncio.sleep(0)
        return real.calls

    assert asyncio.run(go()) == [("write", b"HTTP/1.1 200 OK\r\n\r\n{}"), ("write", b"second"),
                                 ("write", b"before a pause"), ("pause_reading", b""),
                                 ("write", b"last"), ("close", b"")]


def _answers(data: bytes) -> list[tuple[bytes, bytes]]:
    """(head, body) of each HTTP answer in ``data`` (content-length framed)."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        out.append((head, rest[:length]))
        data = rest[length:]
    return out


def test_register_serve_answers_whole_through_it(store: SqlStore, store_url: str, tmp_path: Path) -> None:
    fill(store)
    token = credentials.issue(store, TABLE_1)
    with ProcessServer(store_url, tmp_path / "serve.log") as server:
        # two pipelined requests, the second asking to close: both answers whole, then EOF
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: r\r\n\r\n"
                      b"GET /healthz HTTP/1.1\r\nHost: r\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        answers = _answers(data)
        assert len(answers) == 2
        for head, body in answers:
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")
            assert json.loads(body)["writable"] is True
        assert b"connection: close" in answers[1][0].lower()
        # a check-off and its retry (the fast path) on one kept-alive connection
        with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {token}"}) as client:
            rid = str(uuid.uuid4())
            first, again = (client.post("/v1/checkoffs", json={"request_id": rid,
                                                               "manntallsnummer": KARI.manntallsnummer})
                            for _ in range(2))
            assert first.status_code == again.status_code == 200
            assert first.json()["verdict"] == "checked_off" and first.content == again.content
            missing = client.get("/finnes-ikke")
            assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
