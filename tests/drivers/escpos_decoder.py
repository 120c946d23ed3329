"""An ESC/POS decoder for tests, written from Epson's ESC/POS command reference (not from
python-escpos or our renderer): it turns the bytes a printer receives back into printed
lines, barcodes, feeds and cuts.

Covered: LF, CR, ESC @, ESC t, ESC !, ESC E, ESC -, ESC a, ESC d, ESC M, ESC {, ESC 2,
ESC 3, GS !, GS B, GS b, GS h, GS w, GS H, GS f, GS k (both forms), GS V (both forms) and
the real-time request DLE EOT. Anything else raises, so the tests notice a command they
did not expect. Text is decoded with Python's own codec for the selected code table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ESC, GS, DLE, LF, CR, NUL, EOT = 0x1B, 0x1D, 0x10, 0x0A, 0x0D, 0x00, 0x04

#: ESC t n: character code tables (ESC/POS reference, "Character code tables").
CODE_TABLES = {0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865", 16: "cp1252",
               19: "cp858"}

#: GS k m (function B, m = 65..79): symbologies.
BARCODES_B = {65: "UPC-A", 66: "UPC-E", 67: "EAN13", 68: "EAN8", 69: "CODE39", 70: "ITF",
              71: "CODABAR", 72: "CODE93", 73: "CODE128", 74: "GS1-128"}
BARCODES_A = {0: "UPC-A", 1: "UPC-E", 2: "EAN13", 3: "EAN8", 4: "CODE39", 5: "ITF", 6: "CODABAR"}
HRI = {0: "none", 1: "above", 2: "below", 3: "both", 48: "none", 49: "above", 50: "below",
       51: "both"}
ALIGN = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}


class DecodeError(ValueError):
    """Bytes the decoder does not understand."""


@dataclass(frozen=True)
class Style:
    bold: bool = False
    double_width: bool = False
    double_height: bool = False
    underline: bool = False
    font_b: bool = False


@dataclass(frozen=True)
class Line:
    """A printed line: its text, the style of its characters, its justification."""

    text: str
    style: Style
    align: str


@dataclass(frozen=True)
class BarcodeItem:
    symbology: str
    payload: str
    hri: str
    align: str
    height: int
    module_width: int


@dataclass(frozen=True)
class Feed:
    lines: int


@dataclass(frozen=True)
class CutItem:
    partial: bool


Item = Line | BarcodeItem | Feed | CutItem


@dataclass
class Decoded:
    items: list[Item] = field(default_factory=list)
    code_tables: list[int] = field(default_factory=list)  # every ESC t, in order
    status_requests: list[int] = field(default_factory=list)  # every DLE EOT n
    inits: int = 0  # ESC @ count (one per job)

    @property
    def lines(self) -> list[Line]:
        return [i for i in self.items if isinstance(i, Line)]

    @property
    def barcodes(self) -> list[BarcodeItem]:
        return [i for i in self.items if isinstance(i, BarcodeItem)]


class _State:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.table = 0
        self.style = Style()
        self.align = "left"
        self.bc_height = 162
        self.bc_width = 3
        self.hri = "none"
        self.chars: list[tuple[str, Style]] = []
        self.line_align = "left"


def decode(data: bytes) -> Decoded:
    """Decode a byte stream sent to the printer."""
    out = Decoded()
    s = _State()
    i = 0
    n = len(data)

    def need(count: int) -> bytes:
        if i + count > n:
            raise DecodeError(f"truncated command at {i}")
        return data[i:i + count]

    def end_line() -> None:
        styles = {st for _, st in s.chars}
        if len(styles) > 1:
            raise DecodeError(f"mixed styles on one line: {styles}")
        text = "".join(ch for ch, _ in s.chars)
        style = styles.pop() if styles else s.style
        out.items.append(Line(text, style, s.line_align))
        s.chars = []

    while i < n:
        b = data[i]
        if b == LF:
            end_line()
            i += 1
        elif b == CR:
            i += 1
        elif b == DLE:
            dle, eot, m = need(3)
            if eot != EOT:
                raise DecodeError(f"DLE {eot:#x} at {i}")
            out.status_requests.append(m)
            i += 3
        elif b == ESC:
            cmd = need(2)[1]
            if cmd == ord("@"):
                if s.chars:
                    s.chars = []  # ESC @ clears the print buffer
                s.reset()
                out.inits += 1
                i += 2
                continue
            if cmd == ord("2"):  # default line spacing: no argument
                i += 2
                continue
            arg = need(3)[2]
            if cmd == ord("t"):
                if arg not in CODE_TABLES:
                    raise DecodeError(f"code table {arg}")
                s.table = arg
                out.code_tables.append(arg)
            elif cmd == ord("!"):
                s.style = Style(bold=bool(arg & 0x08), double_height=bool(arg & 0x10),
                                double_width=bool(arg & 0x20), underline=bool(arg & 0x80),
                                font_b=bool(arg & 0x01))
            elif cmd == ord("E"):
                s.style = Style(bool(arg & 1), s.style.double_width, s.style.double_height,
                                s.style.underline, s.style.font_b)
            elif cmd == ord("-"):
                s.style = Style(s.style.bold, s.style.double_width, s.style.double_height,
                                arg in (1, 2, 49, 50), s.style.font_b)
            elif cmd == ord("M"):
                s.style = Style(s.style.bold, s.style.double_width, s.style.double_height,
                                s.style.underline, arg in (1, 49))
            elif cmd == ord("a"):
                if arg not in ALIGN:
                    raise DecodeError(f"justification {arg}")
                s.align = ALIGN[arg]
            elif cmd == ord("d"):
                if s.chars:
                    end_line()
                out.items.append(Feed(arg))
            elif cmd in (ord("{"), ord("3")):
                pass
            else:
                raise DecodeError(f"ESC {cmd:#x} at {i}")
            i += 3
        elif b == GS:
            cmd = need(2)[1]
            if cmd == ord("k"):
                m = need(3)[2]
                i += 3
                if m in BARCODES_A:
                    end = data.index(NUL, i)
                    raw, i = data[i:end], end + 1
                    name = BARCODES_A[m]
                elif m in BARCODES_B:
                    length = need(1)[0]
                    i += 1
                    raw = need(length)
                    i += length
                    name = BARCODES_B[m]
                else:
                    raise DecodeError(f"barcode system {m}")
                out.items.append(BarcodeItem(name, _barcode_payload(name, raw), s.hri, s.align,
                                             s.bc_height, s.bc_width))
                continue
            arg = need(3)[2]
            if cmd == ord("V"):
                if s.chars:
                    end_line()
                if arg in (0, 48):
                    out.items.append(CutItem(partial=False))
                elif arg in (1, 49):
                    out.items.append(CutItem(partial=True))
                elif arg in (65, 66, 97, 98, 103, 104):
                    feed = need(4)[3]
                    out.items.append(Feed(feed))  # feeds (n x motion unit), then cuts
                    out.items.append(CutItem(partial=arg in (66, 98, 104)))
                    i += 1
                else:
                    raise DecodeError(f"cut mode {arg}")
            elif cmd == ord("!"):
                s.style = Style(s.style.bold, (arg >> 4) > 0, (arg & 0x0F) > 0, s.style.underline,
                                s.style.font_b)
            elif cmd == ord("h"):
                s.bc_height = arg
            elif cmd == ord("w"):
                s.bc_width = arg
            elif cmd == ord("H"):
                s.hri = HRI[arg]
            elif cmd in (ord("f"), ord("B"), ord("b")):
                pass
            else:
                raise DecodeError(f"GS {cmd:#x} at {i}")
            i += 3
        elif b < 0x20 or b == 0x7F:
            raise DecodeError(f"control byte {b:#x} at {i}")
        else:
            if not s.chars:
                s.line_align = s.align
            s.chars.append((bytes([b]).decode(CODE_TABLES[s.table]), s.style))
            i += 1
    if s.chars:
        raise DecodeError("text left in the print buffer (no LF)")
    return out


def _barcode_payload(name: str, raw: bytes) -> str:
    """The data a scanner reads: CODE128 strips the code set selection ({A, {B, {C)."""
    if name != "CODE128":
        return raw.decode("ascii")
    if raw[:1] != b"{" or raw[1:2] not in (b"A", b"B", b"C"):
        raise DecodeError(f"CODE128 data must start with a code set: {raw!r}")
    if raw[1:2] != b"B":
        raise DecodeError("only code set B is decoded here")
    text, j = "", 2
    while j < len(raw):
        if raw[j:j + 1] == b"{":
            if raw[j + 1:j + 2] != b"{":
                raise DecodeError(f"CODE128 function {raw[j:j + 2]!r} not decoded")
            text += "{"
            j += 2
        else:
            text += chr(raw[j])
            j += 1
    return text
