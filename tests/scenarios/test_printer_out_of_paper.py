"""Out of paper, on a serial printer (a real pty with the emulated printer answering
DLE EOT): the clerk is told, nothing is sent, the job is kept and printed once on
request after the roll is changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from valgkiosk.core.receipts import TestPage, test_page
from valgkiosk.drivers.printer import EscposPrinter, PrinterSettings
from valgkiosk.printqueue import JobState, PrintQueue
from valgkiosk.drivers.printer.emulator import EmulatedPrinter, PtyPrinter
from valgkiosk.ports.printer import Paper, PrinterOutOfPaper

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


def test_out_of_paper_keeps_the_job_until_the_clerk_prints_it_again(
        rig: tuple[EmulatedPrinter, EscposPrinter], tmp_path: Path) -> None:
    device, printer = rig
    queue = PrintQueue(printer, tmp_path / "jobs")
    receipt = test_page(TestPage("k-03", "1", datetime(2025, 9, 8, 8, 0)), printer.columns)
    device.paper = Paper.OUT

    status = printer.status()
    assert status.paper is Paper.OUT and status.online is False
    outcome = queue.submit(receipt)
    assert isinstance(outcome.error, PrinterOutOfPaper)
    assert not outcome.error.may_have_printed
    assert "tom for papir" in str(outcome.error)
    assert device.jobs() == 0  # only status requests went out
    [job] = queue.pending()
    assert job.state is JobState.FAILED and job.error_kind == "out_of_paper"

    device.paper = Paper.OK
    assert device.jobs() == 0  # fixing the printer prints nothing by itself
    assert queue.retry(job.id).printed
    assert device.jobs() == 1
    assert queue.pending() == []


def test_near_end_warns_but_prints(rig: tuple[EmulatedPrinter, EscposPrinter]) -> None:
    device, printer = rig
    device.paper = Paper.NEAR_END
    assert printer.status().paper is Paper.NEAR_END
    printer.print(test_page(TestPage("k-03", "1", datetime(2025, 9, 8, 8, 0)), printer.columns))
    assert device.jobs() == 1
