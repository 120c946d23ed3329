"""Unplugged: a serial printer whose device is gone, one pulled out in the middle of a
job (the pty is closed), and a network printer nobody listens for."""

from __future__ import annotations

import socket
from datetime import datetime
from pathlib import Path

import pytest

from valgkiosk.core.receipts import TestPage, test_page
from valgkiosk.drivers.printer import EscposPrinter, PrinterSettings
from valgkiosk.printqueue import PrintQueue
from valgkiosk.drivers.printer.emulator import EmulatedPrinter, PtyPrinter
from valgkiosk.ports.printer import PrinterUnplugged

pytestmark = pytest.mark.timeout(10)


def receipt(columns: int = 48):  # type: ignore[no-untyped-def]
    return test_page(TestPage("k-03", "1", datetime(2025, 9, 8, 8, 0)), columns)


def test_missing_device_then_replug_and_print_once(tmp_path: Path) -> None:
    device = EmulatedPrinter()
    pty = PtyPrinter(device, tmp_path / "ttyPrinter")
    printer = EscposPrinter(PrinterSettings("serial", device=str(pty.link), timeout=0.5))
    queue = PrintQueue(printer, tmp_path / "q")

    status = printer.status()
    assert status.online is False and "Finner ikke skriveren" in status.detail
    outcome = queue.submit(receipt())
    assert isinstance(outcome.error, PrinterUnplugged) and not outcome.error.may_have_printed

    pty.plug()
    try:
        assert printer.status().online is True
        assert device.jobs() == 0
        [job] = queue.pending()
        assert queue.retry(job.id).printed
        assert device.jobs() == 1 and queue.pending() == []
    finally:
        pty.unplug()


def test_pulled_out_during_the_job(tmp_path: Path) -> None:
    device = EmulatedPrinter()
    pty = PtyPrinter(device, tmp_path / "ttyPrinter", unplug_on_job=True)
    pty.plug()
    try:
        printer = EscposPrinter(PrinterSettings("serial", device=str(pty.link), timeout=0.5))
        outcome = PrintQueue(printer, tmp_path / "q").submit(receipt())
        assert isinstance(outcome.error, PrinterUnplugged)
        assert outcome.error.may_have_printed
    finally:
        pty.unplug()


def test_network_printer_nobody_listens_for() -> None:
    with socket.socket() as s:  # a free port on loopback, closed again
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    printer = EscposPrinter(PrinterSettings("network", host="127.0.0.1", port=port, timeout=0.5))
    with pytest.raises(PrinterUnplugged):
        printer.print(receipt())
    assert printer.status().online is False
