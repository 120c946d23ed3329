"""A fake modem on the master side of a real pty, for the modem driver's tests and the
caretaker screen's. It echoes commands until ``ATE0``, as modems do; closing the master
and removing the link is an unplug.

It also takes text messages the way a modem does in text mode: ``AT+CMGS="<number>"`` is
answered with the ``> `` prompt (reply key ``AT+CMGS``), the text runs until Ctrl-Z, and
the answer to it is the reply key ``CMGS_BODY`` (``+CMGS: <mr>`` and ``OK`` by default).
Every message taken is in :attr:`FakeModem.sms`, decoded from the character set that was
chosen with ``AT+CSCS``."""

from __future__ import annotations

import os
import select
import threading
import time
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

#: A modem with a SIM on a network that sends whatever it is given.
SMS_GOOD: dict[str, object] = {
    **GOOD,
    "AT+CPIN?": ok("+CPIN: READY"),
    "AT+CMGF=1": ok(),
    'AT+CSCS="IRA"': ok(),
    'AT+CSCS="UCS2"': ok(),
    "AT+CSMP=17,167,0,0": ok(),
    "AT+CSMP=17,167,0,8": ok(),
    "AT+CMGS": "\r\n> ",
    "CMGS_BODY": None,  # None: "+CMGS: <next reference>" and OK
}


class FakeModem:
    """A modem on the master side of a pty, answering from ``replies``."""

    def __init__(self, link: Path, replies: dict[str, object]) -> None:
        self.link = link
        self.replies = dict(replies)
        self.received: list[str] = []
        self.sms: list[tuple[str, str]] = []  # (number, text) of every message taken
        self.sms_at: list[float] = []  # time.monotonic() when each text was complete (Ctrl-Z)
        self.charset = "IRA"
        self._body_for: str | None = None  # the number whose text is being typed
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
            while True:
                if self._body_for is not None:
                    if b"\x1a" not in buffer:
                        break
                    body, buffer = buffer.split(b"\x1a", 1)
                    if not self._take_sms(master, body.decode()):
                        return
                    continue
                if b"\r" not in buffer:
                    break
                raw, buffer = buffer.split(b"\r", 1)
                command = raw.decode().strip()
                if command and not self._answer(master, command):
                    return

    def _decode(self, value: str) -> str:
        return bytes.fromhex(value).decode("utf-16-be") if self.charset == "UCS2" else value

    def _take_sms(self, master: int, body: str) -> bool:
        number, self._body_for = self._body_for or "", None
        reply = self.replies.get("CMGS_BODY")
        if reply is UNPLUG:
            self._unplug_now()
            return False
        if reply is None:
            self.sms_at.append(time.monotonic())
            self.sms.append((self._decode(number), self._decode(body)))
            reply = ok(f"+CMGS: {len(self.sms)}")
        if reply is not SILENT:
            os.write(master, str(reply).encode())
        return True

    def _answer(self, master: int, command: str) -> bool:
        self.received.append(command)
        if command.startswith('AT+CSCS="'):
            self.charset = command.split('"')[1]
        key = command
        if command.startswith("AT+CMGS="):
            key = "AT+CMGS"
            reply = self.replies.get(key, "\r\nERROR\r\n")
            if reply == "\r\n> ":
                self._body_for = command.split('"')[1]
        reply = self.replies.get(key, "\r\nERROR\r\n")
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
