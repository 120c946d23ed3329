"""A fake modem on the master side of a real pty, for the modem driver's tests and the
caretaker screen's. It echoes commands until ``ATE0``, as modems do; closing the master
and removing the link is an unplug."""

from __future__ import annotations

import os
import select
import threading
import tty
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SILENT = object()  # the fake says nothing
UNPLUG = object()  # the fake is pulled out when it gets this command


def ok(*lines: str) -> str:
    return "".join(f"\r\n{line}\r\n" for line in lines) + "\r\nOK\r\n"


GOOD: dict[str, object] = {
    "ATE0": ok(),
    "AT+CSQ": ok("+CSQ: 21,99"),
    "AT+CREG?": ok("+CREG: 0,1"),
    "AT+CEREG?": ok("+CEREG: 0,1"),
}


class FakeModem:
    """A modem on the master side of a pty, answering from ``replies``."""

    def __init__(self, link: Path, replies: dict[str, object]) -> None:
        self.link = link
        self.replies = dict(replies)
        self.received: list[str] = []
        self.master = self.slave = -1
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.symlink(os.ttyname(self.slave), self.link)
        self.echo = True
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, args=(self.master,), daemon=True)
        self._thread.start()

    def _serve(self, master: int) -> None:
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.02)
            if not ready:
                continue
            try:
                buffer += os.read(master, 1024)
            except OSError:
                return
            while b"\r" in buffer:
                raw, buffer = buffer.split(b"\r", 1)
                command = raw.decode().strip()
                if command and not self._answer(master, command):
                    return

    def _answer(self, master: int, command: str) -> bool:
        self.received.append(command)
        reply = self.replies.get(command, "\r\nERROR\r\n")
        if reply is UNPLUG:
            self._unplug_now()
            return False
        if self.echo:
            os.write(master, command.encode() + b"\r")
        if command == "ATE0":
            self.echo = False
        if reply is not SILENT:
            os.write(master, str(reply).encode())
        return True

    def _unplug_now(self) -> None:
        if self.master >= 0:
            self.link.unlink()
            os.close(self.master)
            os.close(self.slave)
            self.master = self.slave = -1

    def unplug(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        self._unplug_now()


@contextmanager
def plugged(link: Path, replies: dict[str, object]) -> Iterator[FakeModem]:
    """A fake modem answering ``replies`` at ``link`` for the ``with`` block."""
    modem = FakeModem(link, replies)
    modem.plug()
    try:
        yield modem
    finally:
        modem.unplug()
