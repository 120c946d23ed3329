"""Turning a :class:`Receipt` into ESC/POS through python-escpos's public API.

Every job starts with ESC @ (initialise: clears styles and the line buffer) and then
selects code page CP865 explicitly (ESC t 5); the printer powers up in CP437. The
printer object must be fresh (one per connection): python-escpos remembers the code
page it last selected and would not send ESC t again on a reused object.
"""

from __future__ import annotations

import contextlib
import io
from typing import TYPE_CHECKING

from valgkiosk.core.receipts import printable
from valgkiosk.ports.printer import Barcode, Cut, Receipt, Separator, Text

if TYPE_CHECKING:  # python-escpos is imported where a real printer is made (start-up cost, docs/benchmarks.md)
    from escpos.escpos import Escpos

CODEPAGE = "CP865"
#: CODE128 module width in dots (2 keeps 12 digits inside 72 mm) and bar height.
BARCODE_WIDTH = 2
BARCODE_HEIGHT = 80


def check_barcode(payload: str) -> None:
    """Refuse a payload CODE128 code set B cannot carry (ASCII 32-126, 1-253 chars)."""
    if not payload or len(payload) > 253 or not all(32 <= ord(c) <= 126 for c in payload):
        raise ValueError(f"not a CODE128-B payload: {payload!r}")


def check(receipt: Receipt, columns: int) -> None:
    """Refuse a receipt that was laid out for other columns or that cannot be encoded."""
    if receipt.columns != columns:
        raise ValueError(f"receipt laid out for {receipt.columns} columns, printer has {columns}")
    for block in receipt.blocks:
        if isinstance(block, Barcode):
            check_barcode(block.payload)


def render(p: Escpos, receipt: Receipt) -> None:
    """Send ``receipt`` to ``p`` (a fresh python-escpos printer)."""
    p.hw("INIT")
    p.charcode(CODEPAGE)
    for block in receipt.blocks:
        if isinstance(block, Text):
            p.set(
                align="center" if block.centred else "left",
                bold=block.bold,
                normal_textsize=not block.double,
                double_width=block.double,
                double_height=block.double,
            )
            p.textln(printable(block.text))
        elif isinstance(block, Separator):
            p.set(align="left", bold=False, normal_textsize=True)
            p.textln(printable(block.char)[:1] * receipt.columns)
        elif isinstance(block, Barcode):
            check_barcode(block.payload)
            # barcode() announces its renderer on stdout; keep that off the kiosk's screen
            with contextlib.redirect_stdout(io.StringIO()):
                p.barcode("{B" + block.payload, "CODE128", function_type="B",
                          height=BARCODE_HEIGHT, width=BARCODE_WIDTH, pos="BELOW",
                          font="A", align_ct=True)
        elif isinstance(block, Cut):
            p.cut()
        else:  # pragma: no cover - the Block union is closed
            raise TypeError(f"not a receipt block: {block!r}")
