"""The hand scanner in USB-serial (CDC) mode, read through pyserial.

In this mode the scanner sends each scan as a line of text ended by CR, LF or CRLF; no
keyboard layout is involved and nothing can leak into the console UI. The port is read
without blocking the event loop (the loop watches the file descriptor, pyserial reads
with ``timeout=0``), so cancelling :meth:`SerialScanner.run` stops it at once. On unplug
pyserial raises ``SerialException``; the driver reports it, closes the port and tries to
reopen it at ``reopen_interval``.
"""

from __future__ import annotations

import asyncio
import codecs
import errno
import logging
import time
from collections.abc import Callable

import serial

from valgkiosk.ports.scanner import Scan, ScannerStatus

from ._buffer import DEFAULT_MAX_LENGTH, REPLACEMENT, ScanBuffer
from ._status import StatusReporter, call_safely

__all__ = ["LineDecoder", "SerialScanner"]

log = logging.getLogger(__name__)

UNPLUGGED = "Skanneren er koblet fra"

_TERMINATORS = frozenset("\r\n")


class LineDecoder:
    """Pure decoder from serial bytes to scans: one scan per CR-, LF- or CRLF-ended line.

    Bytes are decoded with ``encoding`` (latin-1 by default, which never fails); bytes the
    encoding rejects and control characters become ``replacement``, so garbage stays
    visible. Empty lines are dropped, which also folds CRLF into one terminator. A line
    longer than ``max_length`` is flushed once as a garbage scan, the rest discarded.
    """

    def __init__(
        self,
        *,
        encoding: str = "latin-1",
        max_length: int = DEFAULT_MAX_LENGTH,
        replacement: str = REPLACEMENT,
    ) -> None:
        self.encoding = encoding
        self.replacement = replacement
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._buffer = ScanBuffer(max_length=max_length, replacement=replacement)

    @property
    def pending(self) -> str:
        """Text received since the last terminator."""
        return self._buffer.text

    def reset(self) -> str:
        """Forget the partial line (after a disconnect); return the dropped text."""
        self._decoder.reset()
        return self._buffer.clear()

    def feed(self, data: bytes, at: float) -> list[Scan]:
        """Process received bytes; return the scans they complete, stamped ``at``."""
        scans: list[Scan] = []
        for char in self._decoder.decode(data):
            if char in _TERMINATORS:
                scan = self._buffer.terminate(at)
            else:
                scan = self._buffer.add(self._visible(char), at)
            if scan is not None:
                scans.append(scan)
        return scans

    def _visible(self, char: str) -> str:
        """``char``, or the replacement if it is a control character or undecodable."""
        if char == "\ufffd" or not char.isprintable() and char != " ":
            return self.replacement
        return char


class SerialScanner:
    """A :class:`~valgkiosk.ports.scanner.Scanner` on a serial port (``/dev/ttyACM0``, or
    better a stable ``/dev/serial/by-id/...`` path).

    The port is opened exclusively. ``open_port`` is the seam that opens it (default: a
    non-blocking, exclusive ``serial.Serial`` on ``port``); what it returns must have a
    real file descriptor (``fileno()``), as POSIX serial ports and ptys do.
    """

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 9600,
        encoding: str = "latin-1",
        reopen_interval: float = 1.0,
        max_length: int = DEFAULT_MAX_LENGTH,
        open_port: Callable[[], serial.Serial] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if reopen_interval <= 0:
            raise ValueError("reopen_interval must be positive")
        self.port = port
        self.baudrate = baudrate
        self.reopen_interval = reopen_interval
        self._decoder = LineDecoder(encoding=encoding, max_length=max_length)
        self._open_port = open_port or self._open_default
        self._clock = clock

    def _open_default(self) -> serial.Serial:
        """Open ``port`` non-blocking (``timeout=0``) and exclusively."""
        return serial.Serial(self.port, self.baudrate, timeout=0, exclusive=True)

    async def run(
        self,
        on_scan: Callable[[Scan], None],
        on_status: Callable[[ScannerStatus], None],
    ) -> None:
        """Open, read and reopen the port until cancelled; never raises otherwise."""
        report = StatusReporter(on_status, log)
        absent = f"Finner ingen skanner på {self.port}"
        while True:
            try:
                port = self._open_port()
            except (serial.SerialException, OSError) as exc:
                report(ScannerStatus(False, self._open_failure(exc, absent)), cause=exc)
                await asyncio.sleep(self.reopen_interval)
                continue
            except Exception as exc:
                log.exception("opening serial scanner %s failed", self.port)
                detail = f"Kan ikke åpne skanneren: {type(exc).__name__}"
                report(ScannerStatus(False, detail), cause=exc)
                await asyncio.sleep(self.reopen_interval)
                continue
            try:
                report(ScannerStatus(True, self.port))
                await self._read(port, on_scan)
            except (serial.SerialException, OSError) as exc:
                report(ScannerStatus(False, UNPLUGGED), cause=exc)
                absent = UNPLUGGED
            except Exception as exc:
                log.exception("serial scanner driver failed on %s", self.port)
                detail = f"Uventet feil i skannerdriveren: {type(exc).__name__}"
                report(ScannerStatus(False, detail), cause=exc)
            finally:
                dropped = self._decoder.reset()
                if dropped:
                    log.warning("dropped a partial scan of %d characters", len(dropped))
                try:
                    port.close()
                except Exception as exc:
                    log.debug("closing serial port failed: %s", exc)
            await asyncio.sleep(self.reopen_interval)

    def _open_failure(self, exc: BaseException, absent: str) -> str:
        """The status detail for a port that would not open."""
        code = getattr(exc, "errno", None)
        if code == errno.EACCES:
            return f"Ingen tilgang til skanneren på {self.port}"
        if code in (errno.EBUSY, errno.EWOULDBLOCK) or "exclusively" in str(exc):
            return "Skanneren er i bruk av et annet program"
        return absent

    async def _read(self, port: serial.Serial, on_scan: Callable[[Scan], None]) -> None:
        """Decode bytes from an open port as they come; returns only by raising."""
        fd = port.fileno()
        while True:
            await _readable(fd)
            data = port.read(max(1, port.in_waiting))
            for scan in self._decoder.feed(data, self._clock()):
                if self._decoder.replacement in scan.text:
                    log.warning("garbled scan of %d characters", len(scan.text))
                call_safely(on_scan, scan, log)


async def _readable(fd: int) -> None:
    """Wait until ``fd`` is readable (or hung up) without blocking the event loop."""
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    def wake() -> None:
        if not ready.done():
            ready.set_result(None)

    loop.add_reader(fd, wake)
    try:
        await ready
    finally:
        loop.remove_reader(fd)
