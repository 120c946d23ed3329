"""Byte-exact ESC/POS of each layout through python-escpos ``Dummy``, at both widths.

The expected bytes are spelt out here from the ESC/POS reference, block by block, so a
change in python-escpos or in the renderer shows up as a byte difference."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from escpos.printer import Dummy

from valgkiosk.core.manntallsnummer import parse
from valgkiosk.core.receipts import (
    ClosingReport,
    LogEntry,
    LogPrintout,
    ManualValgkort,
    Outage,
    StationInfo,
    TestPage,
    ValgkortReason,
    closing_report,
    log_printout,
    manual_valgkort,
    test_page,
)
from valgkiosk.drivers.printer.render import render
from valgkiosk.ports.printer import Barcode, Cut, Receipt, Separator, Text

pytestmark = pytest.mark.timeout(10)

PROFILES = {42: "TM-T88V", 48: "TM-T20II"}

STATION = StationInfo("Stortingsvalget 2025", "0301 Oslo", "0101 Sentrum skole", 3, "k-03")
AT = datetime(2025, 9, 8, 14, 32)
NAME = "Kari Ærligheten Østby-Ålesund Wolfeschlegelsteinhausenbergerdorffwelchevoralternwaren"
ADDRESS = "Kristian Augusts gate 113 B, leil. H0304, 0164 Oslo, c/o Łukasz Żółw €"

INIT = b"\x1b@"  # ESC @
CP865 = b"\x1bt\x05"  # ESC t 5: PC865 Nordic
NORMAL = b"\x1b!\x00" * 3  # ESC ! 0 (python-escpos sends it three times)
DOUBLE = b"\x1b!\x00\x1b!\x00\x1b!\x30"  # ... then ESC ! 48: double width and height
BOLD = {False: b"\x1bE\x00", True: b"\x1bE\x01"}  # ESC E n
ALIGN = {False: b"\x1ba\x00", True: b"\x1ba\x01"}  # ESC a n
# GS h 80, GS w 2, GS f 0 (HRI font A), GS H 2 (HRI below), GS k 73 (CODE128) n data
BARCODE_SETUP = b"\x1ba\x01\x1dhP\x1dw\x02\x1df\x00\x1dH\x02\x1dkI"
CUT = b"\x1bd\x06\x1dV\x00"  # ESC d 6, GS V 0 (full cut)


def samples() -> dict[str, object]:
    """One of each layout's inputs, with values that wrap and characters outside CP865."""
    return {
        "manual_valgkort": ManualValgkort(STATION, AT, ValgkortReason.EMERGENCY, NAME, date(1980, 2, 1),
                                          ADDRESS, parse("000001234582")),
        "closing_report": ClosingReport(STATION, datetime(2025, 9, 8, 21, 5), 1234, 12, 3, 1,
                                        (Outage(datetime(2025, 9, 8, 9, 2), datetime(2025, 9, 8, 9, 35, 12),
                                                "Ruteren uten strøm"),)),
        "log": LogPrintout(STATION, AT, (LogEntry(datetime(2025, 9, 8, 7, 0), "Kiosken startet"),
                                         LogEntry(datetime(2025, 9, 8, 9, 2), "Brudd: " + ADDRESS))),
        "test_page": TestPage("k-03", "2025.09.1", AT, "usb TM-T20II", STATION),
    }


LAYOUTS = {"manual_valgkort": manual_valgkort, "closing_report": closing_report,
           "log": log_printout, "test_page": test_page}


def layout(kind: str, columns: int) -> Receipt:
    return LAYOUTS[kind](samples()[kind], columns)  # type: ignore[operator]


def printed(receipt: Receipt) -> bytes:
    p = Dummy(profile=PROFILES[receipt.columns])
    render(p, receipt)
    return p.output


def expected(receipt: Receipt) -> bytes:
    """The bytes the ESC/POS reference gives for each block."""
    out = INIT + CP865
    for block in receipt.blocks:
        if isinstance(block, Text):
            out += (DOUBLE if block.double else NORMAL) + BOLD[block.bold] + ALIGN[block.centred]
            out += block.text.encode("cp865") + b"\n"
        elif isinstance(block, Separator):
            out += NORMAL + BOLD[False] + ALIGN[False] + block.char.encode() * receipt.columns + b"\n"
        elif isinstance(block, Barcode):
            data = b"{B" + block.payload.encode("ascii")
            out += BARCODE_SETUP + bytes([len(data)]) + data
        elif isinstance(block, Cut):
            out += CUT
    return out


@pytest.mark.parametrize("columns", [42, 48])
@pytest.mark.parametrize("kind", list(LAYOUTS))
def test_layout_bytes_are_exact(kind: str, columns: int) -> None:
    receipt = layout(kind, columns)
    data = printed(receipt)
    assert data == expected(receipt)
    assert data.startswith(INIT + CP865)
    assert data.count(b"\x1bt") == 1  # CP865 once, never switched away
    assert data.endswith(CUT)


@pytest.mark.parametrize("columns", [42, 48])
def test_valgkort_barcode_command_and_payload(columns: int) -> None:
    data = printed(layout("manual_valgkort", columns))
    assert BARCODE_SETUP + b"\x0e{B000001234582" in data  # n = 14 = len("{B" + 12 digits)


@pytest.mark.parametrize("columns", [42, 48])
def test_norwegian_letters_are_cp865_bytes_and_the_rest_question_marks(columns: int) -> None:
    data = printed(layout("manual_valgkort", columns))
    assert "Ærligheten".encode("cp865") == b"\x92rligheten" and b"\x92rligheten" in data
    assert b"\x9dstby-\x8flesund" in data  # Ø = 0x9D, Å = 0x8F in CP865
    # Ł, Ż, ł and € are not in CP865; ó is (0xA2). The line may wrap between the words.
    for word in (b"?ukasz", b"?\xa2?w", b" ?\n"):
        assert word in data
    assert "€".encode("utf-8") not in data and b"\xc5" not in data


def test_a_tiny_receipt_spelt_out_byte_by_byte() -> None:
    receipt = Receipt("t", "t", 42, (Text("Blåbær", bold=True, centred=True), Separator(),
                                     Barcode("12"), Cut()))
    assert printed(receipt) == (
        b"\x1b@" b"\x1bt\x05"
        b"\x1b!\x00\x1b!\x00\x1b!\x00" b"\x1bE\x01" b"\x1ba\x01" b"Bl\x86b\x91r\n"
        b"\x1b!\x00\x1b!\x00\x1b!\x00" b"\x1bE\x00" b"\x1ba\x00" + b"-" * 42 + b"\n"
        b"\x1ba\x01\x1dhP\x1dw\x02\x1df\x00\x1dH\x02\x1dkI\x04{B12"
        b"\x1bd\x06\x1dV\x00"
    )


def test_a_fresh_printer_object_selects_cp865_on_every_job() -> None:
    receipt = layout("test_page", 48)
    assert printed(receipt).startswith(INIT + CP865)
    assert printed(receipt).startswith(INIT + CP865)


@pytest.mark.parametrize("columns", [42, 48])
def test_fs_gs_rs_us_in_a_name_reach_the_printer_as_question_marks(columns: int) -> None:
    # 0x1C-0x1F are ESC/POS command prefixes (FS and GS start commands): never sent as data
    card = ManualValgkort(STATION, AT, ValgkortReason.EMERGENCY, "Ola\x1cNor\x1dd\x1em\x1fann", date(1980, 2, 1),
                          "Storgata 1", parse("000001234582"))
    data = printed(manual_valgkort(card, columns))
    assert b"Navn: Ola?Nor?d?m?ann\n" in data
    text_lines = [line for line in data.split(b"\n") if b"Ola" in line]
    assert all(b not in text_lines[0].split(b"\x1ba\x00")[-1] for b in (b"\x1c", b"\x1d", b"\x1e", b"\x1f"))


@pytest.mark.parametrize("columns", [42, 48])
def test_a_hyphenated_long_word_is_on_paper_with_its_hyphen(columns: int) -> None:
    data = printed(layout("manual_valgkort", columns))
    broken = [line.split(b"\x1ba\x00")[-1] for line in data.split(b"\n") if b"Wolfe" in line]
    assert broken and broken[0].endswith(b"-") and len(broken[0]) == columns
