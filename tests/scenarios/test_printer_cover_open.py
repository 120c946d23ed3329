"""Cover open, on a network printer (the emulated printer on a loopback TCP port)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from valgkiosk.core.receipts import TestPage, test_page
from valgkiosk.drivers.printer import EscposPrinter, PrinterSettings
from valgkiosk.printqueue import PrintQueue
from valgkiosk.drivers.printer.emulator import EmulatedPrinter, TcpPrinter
from valgkiosk.ports.printer import PrinterCoverOpen

pytestmark = pytest.mark.timeout(10)


@pytest.fixture
def rig() -> Iterator[tuple[EmulatedPrinter, EscposPrinter]]:
    device = EmulatedPrinter()
    server = TcpPrinter(device)
    try:
        yield device, EscposPrinter(PrinterSettings("network", host="127.0.0.1", port=server.port,
                                                    profile="TM-T88V", timeout=0.5))
    finally:
        server.close()


def test_cover_open_is_reported_and_the_job_prints_once_after_closing(
        rig: tuple[EmulatedPrinter, EscposPrinter], tmp_path: Path) -> None:
    device, printer = rig
    queue = PrintQueue(printer, tmp_path)
    device.cover_open = True
    status = printer.status()
    assert status.cover_open is True and status.online is False
    assert "Dekselet" in status.detail

    outcome = queue.submit(test_page(TestPage("k-03", "1", datetime(2025, 9, 8, 8, 0)), 42))
    assert isinstance(outcome.error, PrinterCoverOpen)
    assert "Lukk det" in str(outcome.error)
    assert device.jobs() == 0

    device.cover_open = False
    assert printer.status().cover_open is False
    [job] = queue.pending()
    assert queue.retry(job.id).printed
    assert device.jobs() == 1 and queue.pending() == []
