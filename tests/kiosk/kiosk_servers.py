"""Servers on loopback for the kiosk's tests: the REAL register (its own command, a temp
SQLite database) and a tiny misbehaving HTTP server for the failures a real one rarely
shows on demand (500, nonsense, slow, dropped connections)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.register_memory import synthetic_fnr

YEAR = 2025
KOMMUNE, KRETS, BORD = "0301", "0101", 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class TestVoter:
    number: str
    fnr: str
    fornavn: str
    etternavn: str
    born: date
    kommune: str = KOMMUNE
    krets: str = KRETS
    sami: bool = False

    @property
    def navn(self) -> str:
        return f"{self.fornavn} {self.etternavn}"


VOTERS = {
    "kari": TestVoter(mnr.make(1001, YEAR).digits, synthetic_fnr(date(1980, 4, 1), 400), "Kari", "Prøvesen", date(1980, 4, 1)),
    "nils": TestVoter(mnr.make(1002, YEAR).digits, synthetic_fnr(date(1962, 12, 24), 410), "Nils", "Testesen",
                      date(1962, 12, 24)),
    "aile": TestVoter(mnr.make(1005, YEAR).digits, synthetic_fnr(date(1990, 6, 15), 420), "Áile", "Demosen",
                      date(1990, 6, 15), sami=True),
    "liv": TestVoter(mnr.make(1007, YEAR).digits, synthetic_fnr(date(1999, 2, 28), 430), "Liv", "Bergesen",
                     date(1999, 2, 28), kommune="4601", krets="0001"),
}
NOT_IN_REGISTER = mnr.make(9999, YEAR).digits


def _csv() -> str:
    rows = ["manntallsnummer;fodselsnummer;fornavn;etternavn;fodselsdato;adresse;postnummer;poststed;"
            "kommune;kommunenavn;krets;kretsnavn;same"]
    names = {KOMMUNE: "Oslo", "4601": "Bergen"}
    kretser = {(KOMMUNE, KRETS): "Prøveskolen", ("4601", "0001"): "Bergen sentrum"}
    for v in VOTERS.values():
        rows.append(";".join([v.number, v.fnr, v.fornavn, v.etternavn, v.born.isoformat(), "Øvingsveien 1",
                              "0150", "OSLO", v.kommune, names[v.kommune], v.krets, kretser[(v.kommune, v.krets)],
                              "ja" if v.sami else "nei"]))
    return "\n".join(rows) + "\n"


def _cli(*args: str) -> str:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run([sys.executable, "-m", "valgkiosk", "register", *args], capture_output=True, text=True,
                          env=env, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"valgkiosk register {args[0]} failed: {done.stdout}\n{done.stderr}")
    return done.stdout


class RegisterServer:
    """``valgkiosk register serve`` on a free loopback port over a temp SQLite database."""

    def __init__(self, tmp: Path, *, voters_csv: str | None = None,
                 cli: Callable[..., str] | None = None) -> None:
        cli = cli or _cli
        self.tmp = tmp
        self.db = f"sqlite:///{tmp}/register.db"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        cli("init", "--db", self.db, "--election-date", f"{YEAR}-09-08")
        (tmp / "voters.csv").write_text(voters_csv or _csv(), encoding="utf-8")
        cli("import", "--db", self.db, str(tmp / "voters.csv"))
        cred = tmp / "credential"
        cli("issue-credential", "--db", self.db, "--kiosk-id", "test-bord1", "--kommune", KOMMUNE, "--krets",
             KRETS, "--bord", str(BORD), "--out", str(cred))
        self.credential = cred.read_text(encoding="utf-8").strip()
        self.credential_file = cred

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "valgkiosk", "register", "serve", "--db", self.db, "--port", str(self.port),
             "--log-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError("the register server exited at start")
            time.sleep(0.1)
        raise RuntimeError("the register server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


@contextmanager
def register_server(tmp: Path) -> Iterator[RegisterServer]:
    server = RegisterServer(tmp)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Misbehaving:
    """A loopback HTTP server that answers however ``mode`` says:
    ``500``, ``html`` (200 but not JSON), ``wrong_json`` (200, JSON of the wrong shape),
    ``slow`` (answers correctly after ``delay`` seconds), ``drop`` (closes the connection),
    ``ok`` (a correct answer). With ``upstream`` it is a proxy in front of the real register:
    the request is carried out there first, then the answer is delivered, delayed, garbled
    or dropped as ``mode`` (or the per-path ``plan``) says — an answer lost on the way back.
    Every request's path and body are recorded."""

    def __init__(self, mode: str = "ok", *, delay: float = 2.0, answer: dict[str, object] | None = None,
                 upstream: str | None = None, plan: dict[str, list[str]] | None = None) -> None:
        self.mode, self.delay = mode, delay
        self.answer = answer or {}
        self.upstream = upstream
        #: per path, the modes for its next requests (then ``mode``)
        self.plan = {k: list(v) for k, v in (plan or {}).items()}
        self.requests: list[tuple[str, dict[str, object] | None]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                outer.requests.append((self.path, json.loads(raw) if raw else None))
                planned = outer.plan.get(self.path)
                mode = planned.pop(0) if planned else outer.mode
                forwarded = None
                if outer.upstream is not None and mode != "drop_before":
                    # the real register does the work; what comes back is up to ``mode``
                    forwarded = httpx.request(self.command, outer.upstream + self.path, content=raw,
                                              headers={k: v for k, v in self.headers.items()
                                                       if k.lower() in ("authorization", "content-type")},
                                              timeout=30)
                if mode == "drop_before":
                    mode = "drop"
                if mode == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if mode == "slow":
                    time.sleep(outer.delay)
                if mode == "500":
                    self._send(500, b"Internal Server Error", "text/plain")
                elif mode == "html":
                    self._send(200, b"<html><body>Logg inn p\xc3\xa5 Wi-Fi</body></html>", "text/html")
                elif mode == "wrong_json":
                    self._send(200, json.dumps({"status": "ok", "verdict": 17}).encode(), "application/json")
                elif forwarded is not None:
                    self._send(forwarded.status_code, forwarded.content, "application/json")
                else:
                    self._send(200, json.dumps(outer.answer.get(self.path, {})).encode(), "application/json")

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_GET = _handle
            do_POST = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "Misbehaving":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
