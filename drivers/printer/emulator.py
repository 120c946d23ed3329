"""An ESC/POS printer emulated at the byte level, on a pty or a loopback TCP port.

The adapter's whole stack (python-escpos, pyserial or sockets) runs against it: it
answers the real-time status requests DLE EOT 1, 2, 3 and 4 from its state, records
every byte it receives, and can go silent or be unplugged. The dev dock in sim mode and
the scenario tests drive it; nothing here is used on a real kiosk.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import tty
from pathlib import Path

from valgkiosk.ports.printer import Paper

__all__ = ["EmulatedPrinter", "PtyPrinter", "TcpPrinter"]

DLE_EOT = b"\x10\x04"


class EmulatedPrinter:
    """The printer's state and its answers. Attributes are the control surface."""

    def __init__(self) -> None:
        self.online = True  # False: offline for another reason (error, feed button)
        self.cover_open = False
        self.paper = Paper.OK  # OK, NEAR_END or OUT
        self.silent = False  # True: takes bytes, never answers
        self.received = bytearray()
        self._pending = b""
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        return self.online and not self.cover_open and self.paper is not Paper.OUT

    def reply(self, n: int) -> bytes:
        """The answer to DLE EOT ``n`` (one byte, fixed bits 1 and 4 set)."""
        byte = 0x12
        if n == 1 and not self.ready:
            byte |= 0x08
        elif n == 2:
            byte |= (0x04 if self.cover_open else 0) | (0x20 if self.paper is Paper.OUT else 0)
            byte |= 0x40 if not self.online else 0
        elif n == 4:
            byte |= {Paper.OK: 0, Paper.NEAR_END: 0x0C, Paper.OUT: 0x6C}.get(self.paper, 0)
        return bytes([byte])

    def feed(self, data: bytes) -> bytes:
        """Take bytes from the host; return what the printer sends back."""
        with self._lock:
            self.received += data
            buf = self._pending + data
            out = b""
            i = 0
            while True:
                j = buf.find(DLE_EOT, i)
                if j < 0 or j + 2 >= len(buf):
                    break
                if not self.silent and buf[j + 2] in (1, 2, 3, 4):
                    out += self.reply(buf[j + 2])
                i = j + 3
            if buf.endswith(DLE_EOT) and len(buf) - 2 >= i:
                self._pending = DLE_EOT
            elif buf.endswith(b"\x10") and len(buf) - 1 >= i:
                self._pending = b"\x10"
            else:
                self._pending = b""
            return out

    def jobs(self) -> int:
        """How many jobs arrived (each starts with ESC @)."""
        with self._lock:
            return bytes(self.received).count(b"\x1b@")

    def take(self) -> bytes:
        """Everything received so far, and forget it."""
        with self._lock:
            data = bytes(self.received)
            self.received.clear()
            return data


class PtyPrinter:
    """A serial printer: the emulator on the master side of a pty, the driver opens
    ``link`` (a symlink to the slave, like ``/dev/serial/by-id/...``)."""

    def __init__(self, printer: EmulatedPrinter, link: Path, *, unplug_on_job: bool = False) -> None:
        self.printer = printer
        self.link = link
        self.unplug_on_job = unplug_on_job  # pull the cable when a job's first bytes come
        self._master = self._slave = -1
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def plugged(self) -> bool:
        return self._master >= 0

    def plug(self) -> None:
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.symlink(os.ttyname(self._slave), self.link)
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, args=(self._master,), daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        if not self.plugged:
            return
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2)
        self._close()

    def _close(self) -> None:
        if self.link.is_symlink():
            self.link.unlink()
        for fd in (self._master, self._slave):
            if fd >= 0:
                os.close(fd)
        self._master = self._slave = -1

    def _serve(self, master: int) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.02)
            if not ready:
                continue
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            answer = self.printer.feed(data)
            if self.unplug_on_job and b"\x1b@" in data:
                self._stop.set()
                self._close()
                return
            if answer:
                os.write(master, answer)


class TcpPrinter:
    """A network printer on 127.0.0.1 (raw port like 9100, here an ephemeral one)."""

    def __init__(self, printer: EmulatedPrinter) -> None:
        self.printer = printer
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.05)
        self.port = self._server.getsockname()[1]
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._server.close()
        for conn in self._conns:
            conn.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.05)
        while not self._stop.is_set():
            try:
                data = conn.recv(4096)
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            if not data:
                return
            answer = self.printer.feed(data)
            if answer:
                try:
                    conn.sendall(answer)
                except OSError:
                    return
