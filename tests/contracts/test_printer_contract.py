"""The ReceiptPrinter port's contract over the simulated printer and the ESC/POS adapter on
each back-end we can reach without hardware: a serial printer on a pty and a network
printer on loopback (both the byte-level emulator, which answers DLE EOT), and the file
back-end (``/dev/usb/lp0``-style, no back-channel).

Where a printer can answer, every adapter must agree on its status and refuse a job for
the same faults before anything is sent; a blind printer's status is unknown, never
"fine"; an unplugged printer is unplugged everywhere; each print is one job whose text
is what the receipt says."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from escpos_decoder import decode
from valgkiosk.drivers.printer import EscposPrinter, PrinterSettings
from valgkiosk.drivers.printer.emulator import EmulatedPrinter, PtyPrinter, TcpPrinter
from valgkiosk.drivers.printer.simulated import SimulatedPrinter
from valgkiosk.ports.printer import (
    Barcode, Cut, Paper, PrinterCoverOpen, PrinterError, PrinterOffline, PrinterOutOfPaper, PrinterTimeout,
    PrinterUnplugged, Receipt, ReceiptPrinter, Separator, Text,
)

pytestmark = pytest.mark.timeout(30)

TALKING = ["sim", "serial", "network"]
BLIND = ["file"]
LINES = ("PRØVEUTSKRIFT", "Bord 1 · Prøveskolen", "Æ Ø Å æ ø å")
PAYLOAD = "000001234582"


def sample(columns: int) -> Receipt:
    return Receipt("test_page", "Prøveutskrift", columns,
                   (Text(LINES[0], bold=True, centred=True), Separator(), Text(LINES[1]), Text(LINES[2]),
                    Barcode(PAYLOAD), Cut()))


class Rig:
    """One adapter with the printer behind it: ``device`` is its state, ``unplug`` pulls it."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.device = EmulatedPrinter()
        self._pty: PtyPrinter | None = None
        self._tcp: TcpPrinter | None = None
        self.file = tmp / "lp0"
        self.printer: ReceiptPrinter
        if kind == "sim":
            self.sim = SimulatedPrinter(device=self.device)
            self.printer = self.sim
        elif kind == "serial":
            self._pty = PtyPrinter(self.device, tmp / "ttyPrinter")
            self._pty.plug()
            self.printer = EscposPrinter(PrinterSettings("serial", device=str(self._pty.link), timeout=0.5))
        elif kind == "network":
            self._tcp = TcpPrinter(self.device)
            self.printer = EscposPrinter(PrinterSettings("network", host="127.0.0.1", port=self._tcp.port,
                                                         timeout=0.5))
        else:
            self.file.touch()
            self.printer = EscposPrinter(PrinterSettings("file", device=str(self.file)))

    def unplug(self) -> None:
        if self.kind == "sim":
            self.sim.plugged = False
        elif self._pty is not None:
            self._pty.unplug()
        elif self._tcp is not None:
            self._tcp.close()
            self._tcp = None
        else:
            self.file.unlink()

    def jobs(self) -> int:
        """How many jobs reached the printer."""
        if self.kind == "sim":
            return len(self.sim.printed)
        if self.kind == "file":
            return self.file.read_bytes().count(b"\x1b@") if self.file.exists() else 0
        return self.device.jobs()

    def paper(self) -> list[str]:
        """What is on paper, as lines of text (barcodes as their payload)."""
        if self.kind == "sim":
            return [line.strip() for line in self.sim.last_text.splitlines()]
        raw = self.file.read_bytes() if self.kind == "file" else bytes(self.device.received)
        decoded = decode(raw)
        return [line.text.strip() for line in decoded.lines] + [b.payload for b in decoded.barcodes]

    def close(self) -> None:
        if self._pty is not None:
            self._pty.unplug()
        if self._tcp is not None:
            self._tcp.close()


@pytest.fixture(params=TALKING + BLIND)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    r = Rig(request.param, tmp_path)
    try:
        yield r
    finally:
        r.close()


@pytest.fixture(params=TALKING)
def talking(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    r = Rig(request.param, tmp_path)
    try:
        yield r
    finally:
        r.close()


def test_a_print_is_one_job_with_the_receipts_text(rig: Rig) -> None:
    rig.printer.print(sample(rig.printer.columns))
    assert rig.jobs() == 1
    paper = rig.paper()
    for line in (*LINES, PAYLOAD):
        assert line in paper, (line, paper)


def test_a_receipt_for_other_columns_is_refused_and_nothing_is_sent(rig: Rig) -> None:
    with pytest.raises(ValueError):
        rig.printer.print(sample(rig.printer.columns + 6))
    assert rig.jobs() == 0


def test_an_unplugged_printer_is_unplugged_in_status_and_print(rig: Rig) -> None:
    rig.unplug()
    status = rig.printer.status()
    assert status.online is False and status.paper is Paper.UNKNOWN and status.detail
    with pytest.raises(PrinterUnplugged) as caught:
        rig.printer.print(sample(rig.printer.columns))
    assert not caught.value.may_have_printed and str(caught.value)


def test_a_ready_printer_says_so(talking: Rig) -> None:
    status = talking.printer.status()
    assert (status.online, status.paper, status.cover_open) == (True, Paper.OK, False)


@pytest.mark.parametrize(("fault", "error", "online", "paper", "cover"), [
    ("paper_out", PrinterOutOfPaper, False, Paper.OUT, False),
    ("cover_open", PrinterCoverOpen, False, Paper.OK, True),
    ("offline", PrinterOffline, False, Paper.OK, False),
])
def test_a_fault_refuses_the_job_before_anything_is_sent(talking: Rig, fault: str, error: type[PrinterError],
                                                         online: bool, paper: Paper, cover: bool) -> None:
    if fault == "paper_out":
        talking.device.paper = Paper.OUT
    elif fault == "cover_open":
        talking.device.cover_open = True
    else:
        talking.device.online = False
    status = talking.printer.status()
    assert (status.online, status.paper, status.cover_open) == (online, paper, cover)
    with pytest.raises(error) as caught:
        talking.printer.print(sample(talking.printer.columns))
    assert not caught.value.may_have_printed and str(caught.value)
    assert talking.jobs() == 0


def test_paper_near_its_end_still_prints(talking: Rig) -> None:
    talking.device.paper = Paper.NEAR_END
    assert talking.printer.status().paper is Paper.NEAR_END
    talking.printer.print(sample(talking.printer.columns))
    assert talking.jobs() == 1


def test_a_printer_that_does_not_answer_is_unknown_and_times_out(talking: Rig) -> None:
    talking.device.silent = True
    status = talking.printer.status()
    assert status.online is None and status.paper is Paper.UNKNOWN and not status.known
    with pytest.raises(PrinterTimeout):
        talking.printer.print(sample(talking.printer.columns))
    assert talking.jobs() == 0


def test_a_blind_printer_is_never_called_fine(tmp_path: Path) -> None:
    r = Rig("file", tmp_path)
    status = r.printer.status()
    assert status.online is None and status.paper is Paper.UNKNOWN and not status.known and status.detail
