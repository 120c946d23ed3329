"""Regenerate the receipt pictures in ``docs/printer/`` (what the clerk gets on paper).

    .venv/bin/python docs/printer/render.py [--out docs/printer]

Each layout is printed through the kiosk's real adapter (``EscposPrinter`` with the
``file`` backend, python-escpos, the printer profile's columns) and, in parallel, through
the simulated printer of sim mode. The ESC/POS bytes that reach the file are decoded by
the test suite's decoder (``tests/drivers/escpos_decoder.py``, written from the ESC/POS
reference) and drawn dot for dot as a thermal printer would: 80 mm paper at 203 dpi
(640 dots), font A 12 x 24 dots, 30-dot line pitch, bold and double size where the bytes
say so, ESC a justification within the print area, and the CODE128 barcode drawn as bars
from the bytes' code set B payload (2-dot modules, 80 dots high, text below), then the
feed and the cut. The script checks that the decoded lines are the simulated printer's
lines before it draws, so the pictures, sim mode and paper agree.

The receipts are what the kiosk printed on the scripted election day of
``tests/ui/election_day.py``: the real app (Textual's pilot) with the simulated scanner,
caretaker box, network and printer and the demo register (no real voter), its process in
UTC and its clock fixed, so the PNGs are reproducible and show only what the kiosk prints.
Needs Pillow (installed with python-escpos) and a DejaVu Sans Mono font
(``fonts-dejavu-core``), or set ``VALGKIOSK_MONO_FONT``/``VALGKIOSK_MONO_FONT_BOLD``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from valgkiosk.drivers.printer import EscposPrinter, PrinterSettings, SimulatedPrinter
from valgkiosk.ports.printer import Barcode, Receipt, Separator, Text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "drivers"))
from escpos_decoder import BarcodeItem, CutItem, Decoded, Feed, Line, decode  # noqa: E402

#: The two printers the layouts are made for.
PROFILES = {48: "TM-T20II", 42: "TM-T88V"}

# -- the printer's geometry, in dots (203 dpi: 8 dots per mm) --------------------------
PAPER = 640  # 80 mm roll
CELL_W, CELL_H = 12, 24  # font A
PITCH = 30  # default line spacing (ESC 2), 3.75 mm
TOP = 24  # paper above the first line (left by the previous cut)
BOTTOM_AFTER_CUT = 0
MARGIN = 28  # grey around the paper in the picture
SHADOW = 4

INK = (22, 22, 26)
PAPER_COLOUR = (255, 255, 255)
BACKGROUND = (226, 229, 234)
SHADOW_COLOUR = (190, 194, 201)

# -- real data: what the kiosk printed on a scripted election day ----------------------

sys.path.insert(0, str(ROOT))
from tests.ui.election_day import run_day  # noqa: E402

#: picture name -> which of the day's receipts it shows
NAMES = ("manual_valgkort", "manual_valgkort_typed", "closing_report", "station_report", "log", "test_page")


def name_of(receipt: Receipt) -> str:
    """The picture a receipt of the day goes to (the valgkort from the register has a barcode)."""
    if receipt.kind == "manual_valgkort":
        return "manual_valgkort" if any(isinstance(b, Barcode) for b in receipt.blocks) else "manual_valgkort_typed"
    return receipt.kind


def days_receipts(columns: int, folder: Path) -> dict[str, Receipt]:
    """The last receipt of each kind the kiosk printed during the scripted day."""
    printed: dict[str, Receipt] = {}
    for receipt in run_day(folder, columns).receipts:
        printed[name_of(receipt)] = receipt
    missing = [n for n in NAMES if n not in printed]
    if missing:
        raise SystemExit(f"the scripted day printed no {missing}")
    return printed


# -- printing -------------------------------------------------------------------------


def print_bytes(receipt: Receipt, folder: Path) -> bytes:
    """The bytes the kiosk's adapter sends for ``receipt`` (file backend)."""
    device = folder / f"{receipt.kind}-{receipt.columns}.bin"
    printer = EscposPrinter(PrinterSettings(kind="file", device=str(device),
                                            profile=PROFILES[receipt.columns]))
    printer.print(receipt)
    return device.read_bytes()


def agree(receipt: Receipt, decoded: Decoded, sim: SimulatedPrinter) -> None:
    """The decoded bytes carry the simulated printer's lines and barcodes."""
    sim.print(receipt)
    lines = [b.text if isinstance(b, Text) else b.char * receipt.columns
             for b in receipt.blocks if isinstance(b, (Text, Separator))]
    shown = [" ".join(b.text) if isinstance(b, Text) and b.double else line  # spread out on screen
             for b, line in zip([b for b in receipt.blocks if isinstance(b, (Text, Separator))], lines)]
    barcodes = [b.payload for b in receipt.blocks if isinstance(b, Barcode)]
    if [ln.text for ln in decoded.lines] != lines or [b.payload for b in decoded.barcodes] != barcodes:
        raise SystemExit(f"{receipt.kind}/{receipt.columns}: printed bytes and simulator disagree")
    for text in shown:
        if text.strip() and text.strip() not in sim.last_text:
            raise SystemExit(f"{receipt.kind}/{receipt.columns}: {text!r} not in the simulator's text")


# -- drawing --------------------------------------------------------------------------


def _font_path(bold: bool) -> str:
    env = os.environ.get("VALGKIOSK_MONO_FONT_BOLD" if bold else "VALGKIOSK_MONO_FONT")
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    for candidate in (env, f"/usr/share/fonts/truetype/dejavu/{name}", f"/usr/share/fonts/dejavu/{name}",
                      f"/usr/share/fonts/TTF/{name}", f"/Library/Fonts/{name}"):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit(f"{name} not found: install fonts-dejavu-core or set VALGKIOSK_MONO_FONT(_BOLD)")


_FONTS: dict[tuple[bool, int], ImageFont.FreeTypeFont] = {}


def font(bold: bool, scale: int) -> ImageFont.FreeTypeFont:
    key = (bold, scale)
    if key not in _FONTS:
        # DejaVu Sans Mono advances 0.602 em: 20 px fills a 12-dot cell.
        _FONTS[key] = ImageFont.truetype(_font_path(bold), 20 * scale)
    return _FONTS[key]


def code128b_modules(payload: str) -> str:
    """The bars of CODE128 code set B for ``payload`` as '1' (bar) and '0' (space) modules:
    start B, the data, the modulo-103 check symbol, stop (ISO/IEC 15417)."""
    from barcode.charsets import code128 as cs  # python-barcode, installed with python-escpos

    values = [cs.START_CODES["B"]] + [cs.B[ch] for ch in payload]
    check = (values[0] + sum(i * v for i, v in enumerate(values[1:], start=1))) % 103
    return "".join(cs.CODES[v] for v in values + [check]) + cs.STOP + "11"


def draw(decoded: Decoded, columns: int) -> Image.Image:
    """The receipt as the printer would put it on paper, 1 px per dot."""
    area = columns * CELL_W
    left = (PAPER - area) // 2
    # first pass: height
    height = TOP
    for item in decoded.items:
        if isinstance(item, Line):
            height += PITCH * (2 if item.style.double_height else 1)
        elif isinstance(item, BarcodeItem):
            height += item.height + PITCH + 6
        elif isinstance(item, Feed):
            height += PITCH * item.lines
        elif isinstance(item, CutItem):
            break
    height += BOTTOM_AFTER_CUT

    img = Image.new("RGB", (PAPER + 2 * MARGIN, height + 2 * MARGIN), BACKGROUND)
    d = ImageDraw.Draw(img)
    d.rectangle((MARGIN + SHADOW, MARGIN + SHADOW, MARGIN + PAPER + SHADOW - 1, MARGIN + height + SHADOW - 1),
                fill=SHADOW_COLOUR)
    d.rectangle((MARGIN, MARGIN, MARGIN + PAPER - 1, MARGIN + height - 1), fill=PAPER_COLOUR)
    x0, y = MARGIN + left, MARGIN + TOP

    def text_at(x: int, y: int, text: str, bold: bool, scale_w: int, scale_h: int) -> None:
        f = font(bold, max(scale_w, scale_h))
        for i, ch in enumerate(text):
            if ch != " ":
                d.text((x + i * CELL_W * scale_w, y), ch, font=f, fill=INK)

    def offset(width: int, align: str) -> int:
        if align == "center":
            return (area - width) // 2
        if align == "right":
            return area - width
        return 0

    for item in decoded.items:
        if isinstance(item, Line):
            sw = 2 if item.style.double_width else 1
            sh = 2 if item.style.double_height else 1
            width = len(item.text) * CELL_W * sw
            text_at(x0 + offset(width, item.align), y, item.text, item.style.bold, sw, sh)
            if item.style.underline:
                d.line((x0, y + CELL_H * sh - 2, x0 + width, y + CELL_H * sh - 2), fill=INK, width=2)
            y += PITCH * sh
        elif isinstance(item, BarcodeItem):
            if item.symbology != "CODE128":
                raise SystemExit(f"cannot draw {item.symbology}")
            modules = code128b_modules(item.payload)
            width = len(modules) * item.module_width
            x = x0 + offset(width, item.align)
            for i, m in enumerate(modules):
                if m == "1":
                    bx = x + i * item.module_width
                    d.rectangle((bx, y, bx + item.module_width - 1, y + item.height - 1), fill=INK)
            y += item.height + 6
            if item.hri == "below":
                hri_w = len(item.payload) * CELL_W
                text_at(x0 + offset(hri_w, item.align), y, item.payload, False, 1, 1)
            y += PITCH
        elif isinstance(item, Feed):
            y += PITCH * item.lines
        elif isinstance(item, CutItem):
            break
    return img


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["TZ"] = "UTC"  # the kiosk's process as on an image without a zone: paper says Oslo time
    time.tzset()
    with tempfile.TemporaryDirectory(prefix="valgkiosk-receipts-") as tmp:
        for columns in (48, 42):
            sim = SimulatedPrinter(columns=columns)
            day = days_receipts(columns, Path(tmp) / f"day-{columns}")
            for name in NAMES:
                receipt = day[name]
                decoded = decode(print_bytes(receipt, Path(tmp)))
                agree(receipt, decoded, sim)
                path = args.out / f"{name}-{columns}.png"
                draw(decoded, columns).save(path, optimize=True)
                print(f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
