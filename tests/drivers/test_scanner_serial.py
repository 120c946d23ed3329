"""The serial (USB CDC) scanner driver, through a real pty with plain pyserial on the other end.

The driver opens a symlink to the pty's slave, as it would ``/dev/serial/by-id/...``.
Closing the master and removing the link is an unplug; a new pty behind the same link
is a replug.
"""

from __future__ import annotations

import asyncio
import os
import tty
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import serial

from valgkiosk.drivers.scanner import LineDecoder, SerialScanner
from valgkiosk.drivers.scanner.serial_scanner import UNPLUGGED
from valgkiosk.ports.scanner import Scan, ScannerStatus

R = "\ufffd"


def run(coro: Awaitable[Any], timeout: float = 5.0) -> Any:
    """Run a test coroutine with a hard time limit."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Wait until ``predicate()`` holds, or fail."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.002)


class PtyScanner:
    """A scanner in serial mode: the test types into the master of a pty."""

    def __init__(self, link: Path) -> None:
        self.link = link
        self.master = self.slave = -1

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.symlink(os.ttyname(self.slave), self.link)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def unplug(self) -> None:
        self.link.unlink()
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = -1

    def dispose(self) -> None:
        if self.master >= 0:
            self.unplug()


class Recorder:
    """Collects what the driver reports."""

    def __init__(self) -> None:
        self.scans: list[Scan] = []
        self.statuses: list[ScannerStatus] = []

    def start(self, scanner: SerialScanner) -> asyncio.Task[None]:
        return asyncio.create_task(scanner.run(self.scans.append, self.statuses.append))

    def connected(self) -> bool:
        return bool(self.statuses) and self.statuses[-1].connected

    def texts(self) -> list[str]:
        return [s.text for s in self.scans]


@pytest.fixture
def pty_scanner(tmp_path: Path) -> Iterator[PtyScanner]:
    scanner = PtyScanner(tmp_path / "scanner")
    yield scanner
    scanner.dispose()


def driver(path: Path, **kwargs: Any) -> SerialScanner:
    return SerialScanner(str(path), reopen_interval=0.01, clock=lambda: 7.0, **kwargs)


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_lines_with_cr_lf_and_crlf(pty_scanner: PtyScanner) -> None:
    async def main() -> None:
        pty_scanner.plug()
        rec = Recorder()
        task = rec.start(driver(pty_scanner.link))
        await until(rec.connected)
        assert rec.statuses == [ScannerStatus(True, str(pty_scanner.link))]
        pty_scanner.send(b"123456789080\r000001234582\n000000012344\r\n")
        await until(lambda: len(rec.scans) == 3)
        pty_scanner.send(b"1234")  # a line split over two reads
        await asyncio.sleep(0.02)
        pty_scanner.send(b"56\r")
        await until(lambda: len(rec.scans) == 4)
        assert rec.scans == [
            Scan("123456789080", 7.0),
            Scan("000001234582", 7.0),
            Scan("000000012344", 7.0),
            Scan("123456", 7.0),
        ]
        await stop(task)

    run(main())


def test_garbage_bytes_stay_visible(pty_scanner: PtyScanner) -> None:
    async def main() -> None:
        pty_scanner.plug()
        rec = Recorder()
        task = rec.start(driver(pty_scanner.link))
        await until(rec.connected)
        pty_scanner.send(b"12\x00\x1b3\xf8\x85\r\n")
        await until(lambda: len(rec.scans) == 1)
        assert rec.texts() == [f"12{R}{R}3ø{R}"]
        await stop(task)

    run(main())


def test_unplug_and_replug(pty_scanner: PtyScanner) -> None:
    async def main() -> None:
        pty_scanner.plug()
        rec = Recorder()
        task = rec.start(driver(pty_scanner.link))
        await until(rec.connected)
        pty_scanner.send(b"111\r\n22")  # a scan, then half a scan as the cable is pulled
        await until(lambda: len(rec.scans) == 1)
        pty_scanner.unplug()
        await until(lambda: not rec.connected())
        assert rec.statuses[-1] == ScannerStatus(False, UNPLUGGED)
        await asyncio.sleep(0.05)  # several reopen attempts while it is away
        assert rec.statuses[-1] == ScannerStatus(False, UNPLUGGED)
        pty_scanner.plug()
        await until(rec.connected)
        pty_scanner.send(b"333\n")
        await until(lambda: len(rec.scans) == 2)
        assert rec.texts() == ["111", "333"]  # the half scan is not glued on
        assert [s.connected for s in rec.statuses] == [True, False, True]
        await stop(task)

    run(main())


def test_missing_port_at_start_then_it_appears(pty_scanner: PtyScanner) -> None:
    async def main() -> None:
        rec = Recorder()
        task = rec.start(driver(pty_scanner.link))
        await until(lambda: bool(rec.statuses))
        missing = ScannerStatus(False, f"Finner ingen skanner på {pty_scanner.link}")
        assert rec.statuses == [missing]
        pty_scanner.plug()
        await until(rec.connected)
        pty_scanner.send(b"42\r")
        await until(lambda: rec.texts() == ["42"])
        await stop(task)

    run(main())


def test_port_held_by_another_program(pty_scanner: PtyScanner) -> None:
    async def main() -> None:
        pty_scanner.plug()
        other = serial.Serial(str(pty_scanner.link), timeout=0, exclusive=True)
        rec = Recorder()
        task = rec.start(driver(pty_scanner.link))
        try:
            await until(lambda: bool(rec.statuses))
            assert rec.statuses == [ScannerStatus(False, "Skanneren er i bruk av et annet program")]
        finally:
            other.close()
        await until(rec.connected)
        await stop(task)

    run(main())


def test_cancel_stops_at_once_and_releases_the_port(pty_scanner: PtyScanner) -> None:
    async def main() -> None:
        pty_scanner.plug()
        rec = Recorder()
        task = rec.start(driver(pty_scanner.link))
        await until(rec.connected)
        async with asyncio.timeout(0.2):
            await stop(task)
        # The driver's exclusive lock is gone: another program can open the port now.
        serial.Serial(str(pty_scanner.link), timeout=0, exclusive=True).close()

    run(main())


def test_a_failing_callback_does_not_stop_the_driver(pty_scanner: PtyScanner) -> None:
    async def main() -> None:
        pty_scanner.plug()
        seen: list[str] = []

        def on_scan(scan: Scan) -> None:
            seen.append(scan.text)
            raise RuntimeError("UI exploded")

        statuses: list[ScannerStatus] = []
        task = asyncio.create_task(driver(pty_scanner.link).run(on_scan, statuses.append))
        await until(lambda: bool(statuses) and statuses[-1].connected)
        pty_scanner.send(b"1\r2\r")
        await until(lambda: seen == ["1", "2"])
        assert statuses == [ScannerStatus(True, str(pty_scanner.link))]
        await stop(task)

    run(main())


# The pure line decoder


def test_decoder_crlf_split_across_chunks_is_one_terminator() -> None:
    decoder = LineDecoder()
    assert decoder.feed(b"12\r", 1.0) == [Scan("12", 1.0)]
    assert decoder.feed(b"\n34\r\n\r\n", 2.0) == [Scan("34", 2.0)]
    assert decoder.pending == ""


def test_decoder_runaway_line_is_flushed_once_then_discarded() -> None:
    decoder = LineDecoder(max_length=4)
    assert decoder.feed(b"1234", 0.0) == []
    assert decoder.feed(b"5678", 0.0) == [Scan(f"1234{R}", 0.0)]
    assert decoder.feed(b"90\r\n42\n", 0.0) == [Scan("42", 0.0)]


def test_decoder_utf8_option_and_invalid_bytes() -> None:
    decoder = LineDecoder(encoding="utf-8")
    assert decoder.feed("Ærlig ".encode() + b"\xc3", 0.0) == []  # half a character
    assert decoder.feed(b"\xb8\xff\n", 0.0) == [Scan(f"Ærlig ø{R}", 0.0)]


def test_decoder_reset_drops_partial_line() -> None:
    decoder = LineDecoder()
    decoder.feed(b"99", 0.0)
    assert decoder.reset() == "99"
    assert decoder.feed(b"1\n", 0.0) == [Scan("1", 0.0)]
