"""A real register server on loopback, in this process (a thread) or in a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from valgkiosk.register.api import create_app
from valgkiosk.register.store import SqlStore


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base_url: str, timeout: float = 20.0, **client_args: object) -> None:
    """Block until ``/healthz`` answers 200, or fail."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            r = httpx.get(base_url + "/healthz", timeout=1.0, **client_args)  # type: ignore[arg-type]
            if r.status_code == 200:
                return
            last = r.status_code
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.05)
    raise TimeoutError(f"register at {base_url} not healthy: {last!r}")


class ThreadServer:
    """uvicorn serving ``create_app(store)`` in a background thread."""

    def __init__(self, store: SqlStore, **app_args: object) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(store, **app_args), host="127.0.0.1", port=self.port,
                                log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "ThreadServer":
        self.thread.start()
        wait_healthy(self.url)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class ProcessServer:
    """``valgkiosk register serve`` in a subprocess, which tests may kill -9 and restart."""

    def __init__(self, db_url: str, log_path: Path, *, extra_args: list[str] | None = None,
                 scheme: str = "http") -> None:
        self.db_url = db_url
        self.port = free_port()
        self.url = f"{scheme}://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, **client_args: object) -> None:
        """Start the server and wait until it is healthy."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "valgkiosk", "register", "serve", "--db", self.db_url,
             "--port", str(self.port), "--log-level", "warning", *self.extra_args],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        try:
            wait_healthy(self.url, **client_args)
        except TimeoutError:
            self.kill()
            raise

    def kill(self) -> None:
        """kill -9: no chance to clean up or flush anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        """A normal stop (SIGTERM)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> "ProcessServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
