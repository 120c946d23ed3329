"""Offline (an error state that is neither paper nor cover), on a serial printer; and a
printer that goes offline during the job, which may have printed part of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from valgkiosk.core.receipts import TestPage, test_page
from valgkiosk.drivers.printer import EscposPrinter, PrinterSettings
from valgkiosk.printqueue import PrintQueue
from valgkiosk.drivers.printer.emulator import EmulatedPrinter, PtyPrinter
from valgkiosk.ports.printer import Paper, PrinterOffline, PrinterOutOfPaper

pytestmark = pytest.mark.timeout(10)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[EmulatedPrinter, EscposPrinter]]:
    device = EmulatedPrinter()
    pty = PtyPrinter(device, tmp_path / "ttyPrinter")
    pty.plug()
    try:
        yield device, EscposPrinter(PrinterSettings("serial", device=str(pty.link), timeout=0.5))
    finally:
        pty.unplug()


def receipt(columns: int):  # type: ignore[no-untyped-def]
    return test_page(TestPage("k-03", "1", datetime(2025, 9, 8, 8, 0)), columns)


def test_offline_printer_gets_nothing(rig: tuple[EmulatedPrinter, EscposPrinter], tmp_path: Path) -> None:
    device, printer = rig
    device.online = False
    status = printer.status()
    assert status.online is False and status.paper is Paper.OK and status.cover_open is False
    outcome = PrintQueue(printer, tmp_path / "q").submit(receipt(printer.columns))
    assert isinstance(outcome.error, PrinterOffline)
    assert "offline" in str(outcome.error)
    assert device.jobs() == 0


class GoesEmptyDuringJob(EmulatedPrinter):
    """Runs out of paper as soon as a job's bytes arrive."""

    def feed(self, data: bytes) -> bytes:
        if b"\x1b@" in data:
            self.paper = Paper.OUT
        return super().feed(data)


def test_fault_after_the_job_was_sent_may_have_printed(tmp_path: Path) -> None:
    device = GoesEmptyDuringJob()
    pty = PtyPrinter(device, tmp_path / "ttyPrinter")
    pty.plug()
    try:
        printer = EscposPrinter(PrinterSettings("serial", device=str(pty.link), timeout=0.5))
        queue = PrintQueue(printer, tmp_path / "q")
        outcome = queue.submit(receipt(printer.columns))
        assert isinstance(outcome.error, PrinterOutOfPaper)
        assert outcome.error.may_have_printed
        assert "sjekk kvitteringen" in str(outcome.error)
        [job] = queue.pending()
        assert job.may_have_printed
        assert device.jobs() == 1  # sent once, and not again by itself
    finally:
        pty.unplug()
