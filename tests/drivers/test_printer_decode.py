"""Round trip: every field of each layout comes back out of the printed bytes, read by
a decoder written from the ESC/POS reference (``escpos_decoder``), not by our encoder."""

from __future__ import annotations

import pytest
from escpos_decoder import BarcodeItem, CutItem, DecodeError, Feed, Line, decode
from test_printer_bytes import LAYOUTS, layout, printed

from valgkiosk.ports.printer import Barcode, Cut, Separator, Text

pytestmark = pytest.mark.timeout(10)


@pytest.mark.parametrize("columns", [42, 48])
@pytest.mark.parametrize("kind", list(LAYOUTS))
def test_every_block_round_trips(kind: str, columns: int) -> None:
    receipt = layout(kind, columns)
    decoded = decode(printed(receipt))
    assert decoded.inits == 1 and decoded.code_tables == [5]
    items = iter(decoded.items)
    for block in receipt.blocks:
        item = next(items)
        if isinstance(block, Text):
            assert isinstance(item, Line)
            assert item.text == block.text
            assert item.style.bold == block.bold
            assert item.style.double_width == item.style.double_height == block.double
            assert item.align == ("center" if block.centred else "left")
            assert len(item.text) * (2 if block.double else 1) <= columns
        elif isinstance(block, Separator):
            assert isinstance(item, Line) and item.text == block.char * columns
        elif isinstance(block, Barcode):
            assert item == BarcodeItem("CODE128", block.payload, "below", "center", 80, 2)
        elif isinstance(block, Cut):
            assert item == Feed(6)
            assert next(items) == CutItem(partial=False)
    assert next(items, None) is None


@pytest.mark.parametrize("columns", [42, 48])
def test_manual_valgkort_fields_read_back(columns: int) -> None:
    text = "\n".join(line.text for line in decode(printed(layout("manual_valgkort", columns))).lines)
    flat = " ".join(text.split())
    for field in ("MANUELT VALGKORT", "Navn: Kari Ærligheten Østby-Ålesund", "Født: 01.02.1980",
                  "Kristian Augusts gate 113 B", "c/o ?ukasz ?ó?w ?", "Manntallsnr: 0000012345 82",
                  "Valg: Stortingsvalget 2025", "Kommune: 0301 Oslo", "Valgkrets: 0101 Sentrum skole",
                  "Bord: 3", "Tid: 08.09.2025 kl. 14.32", "Årsak: Beredskap: manntallet utilgjengelig"):
        assert field in flat
    # the name's long word is hyphenated where it breaks: on paper as in the layout
    lines = text.splitlines()
    start = next(i for i, t in enumerate(lines) if t.strip().startswith("Wolfe"))
    assert lines[start].endswith("-") and len(lines[start]) == columns
    assert lines[start].strip()[:-1] + lines[start + 1].strip() == "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwaren"
    barcodes = decode(printed(layout("manual_valgkort", columns))).barcodes
    assert [b.payload for b in barcodes] == ["000001234582"]


@pytest.mark.parametrize("columns", [42, 48])
def test_closing_report_and_test_page_read_back(columns: int) -> None:
    report = [line.text for line in decode(printed(layout("closing_report", columns))).lines]
    assert report[0] == "Avslutningsrapport"
    assert any(t.startswith("Avkrysninger ved bordet") and t.endswith(" 1234") for t in report)
    assert "Fra manntallet:" in report and "Fra kioskens loggbok:" in report
    assert "Stemmestyrets leder:" in report and "Stemmestyremedlem:" in report
    assert "09.02-09.35  33 min 12 s" in report
    page = decode(printed(layout("test_page", columns)))
    assert [b.payload for b in page.barcodes] == ["123456789080"]
    assert any("æøå ÆØÅ" in line.text for line in page.lines)
    assert any(line.text.endswith("¤ £ ½") for line in page.lines)  # ¤ is » in CP437


def test_the_decoder_refuses_what_it_does_not_know() -> None:
    with pytest.raises(DecodeError):
        decode(b"\x1b@\x1bt\x05abc")  # no LF: left in the buffer
    with pytest.raises(DecodeError):
        decode(b"\x1bz\x01")
    with pytest.raises(DecodeError):
        decode(b"\x1dkI\x04{A12")  # code set A is not what we print
    assert decode(b"\x1bt\x00\x86\n").lines[0].text == "å"  # CP437 puts å at 0x86 too
    assert decode(b"\x1bt\x05\x9b\n").lines[0].text == "ø"  # but ø is 0x9B only in CP865
    assert decode(b"\x1bt\x00\x9b\n").lines[0].text == "¢"
