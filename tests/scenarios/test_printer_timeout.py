"""Timeout: a network printer that accepts the connection but never answers. Status is
unknown (never "paper OK"), and the job is not sent to a printer that does not answer."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from escpos.printer import Dummy

from valgkiosk.core.receipts import TestPage, test_page
from valgkiosk.drivers.printer import EscposPrinter, PrinterSettings
from valgkiosk.printqueue import PrintQueue
from valgkiosk.drivers.printer.emulator import EmulatedPrinter, TcpPrinter
from valgkiosk.ports.printer import Paper, PrinterTimeout

pytestmark = pytest.mark.timeout(10)

TIMEOUT = 0.3


@pytest.fixture
def silent() -> Iterator[tuple[EmulatedPrinter, int]]:
    device = EmulatedPrinter()
    device.silent = True
    server = TcpPrinter(device)
    try:
        yield device, server.port
    finally:
        server.close()


def test_silent_printer_status_is_unknown(silent: tuple[EmulatedPrinter, int]) -> None:
    _, port = silent
    printer = EscposPrinter(PrinterSettings("network", host="127.0.0.1", port=port, timeout=TIMEOUT))
    started = time.monotonic()
    status = printer.status()
    assert time.monotonic() - started < 4 * TIMEOUT  # gives up after the first silence
    assert status.online is None and status.paper is Paper.UNKNOWN and not status.known
    assert "ukjent" in status.detail


def test_silent_printer_times_out_and_the_job_is_kept(silent: tuple[EmulatedPrinter, int], tmp_path: Path) -> None:
    device, port = silent
    printer = EscposPrinter(PrinterSettings("network", host="127.0.0.1", port=port, timeout=TIMEOUT))
    queue = PrintQueue(printer, tmp_path)
    outcome = queue.submit(test_page(TestPage("k-03", "1", datetime(2025, 9, 8, 8, 0)), 48))
    assert isinstance(outcome.error, PrinterTimeout)
    assert not outcome.error.may_have_printed
    assert "svarer ikke" in str(outcome.error)
    assert device.jobs() == 0 and device.received.startswith(b"\x10\x04\x01")
    assert [j.error_kind for j in queue.pending()] == ["timeout"]


def test_empty_reply_is_unknown_not_paper_ok() -> None:
    """python-escpos 3.1's paper_status() says "adequate" for an empty reply; we do not."""

    class Mute(Dummy):
        def _read(self) -> bytes:
            return b""

    settings = PrinterSettings("serial", device="/dev/ttyUSB-unused", timeout=TIMEOUT)
    status = EscposPrinter(settings, connect=Mute).status()  # serial: b"" is silence
    assert Mute().paper_status() == 2  # the library's pitfall, still there
    assert status.paper is Paper.UNKNOWN and status.online is None


def test_connection_without_back_channel_is_unknown() -> None:
    settings = PrinterSettings("network", host="127.0.0.1", timeout=TIMEOUT)
    status = EscposPrinter(settings, connect=Dummy).status()  # Dummy: NotImplementedError
    assert status.paper is Paper.UNKNOWN and status.online is None
