"""The ReceiptPrinter port: a receipt printer that reports its status and prints receipts.

A :class:`Receipt` is a printer-independent list of layout blocks (text lines, a
CODE128 barcode, a separator, a cut), already laid out for a number of columns by
``valgkiosk.core.receipts``. Adapters turn it into ESC/POS bytes (``valgkiosk.drivers.
printer``) or into text on screen (the simulated printer).

The port is synchronous: adapters do blocking I/O, so the shell calls them from a
worker thread (``asyncio.to_thread``), never on the UI's event loop.

Errors form one tree; the message is Norwegian and meant for the clerk:

- :class:`PrinterOutOfPaper` — the roll is empty;
- :class:`PrinterCoverOpen` — the cover is open;
- :class:`PrinterOffline` — the printer says it is offline (error state, cutter jam);
- :class:`PrinterTimeout` — the printer did not answer or take the data in time;
- :class:`PrinterUnplugged` — no printer at the configured address.

``may_have_printed`` says whether any of the receipt may already be on paper (the fault
came after bytes were sent); a receipt is printed again only when the clerk asks.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias


class Paper(str, enum.Enum):
    """The roll paper sensor as the printer reported it."""

    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"  # no answer, or a connection that cannot read back


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """What the printer said about itself. ``None`` means unknown, never "fine"."""

    online: bool | None
    paper: Paper
    cover_open: bool | None = None
    detail: str = ""  # Norwegian, for the clerk

    @property
    def known(self) -> bool:
        """True when the printer answered at all."""
        return self.online is not None


# -- receipt blocks -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """One printed line. ``double`` is double width and height (half the columns)."""

    text: str
    bold: bool = False
    double: bool = False
    centred: bool = False


@dataclass(frozen=True, slots=True)
class Barcode:
    """A CODE128 barcode (code set B) with its human-readable text below it."""

    payload: str


@dataclass(frozen=True, slots=True)
class Separator:
    """A full-width rule made of ``char``."""

    char: str = "-"


@dataclass(frozen=True, slots=True)
class Cut:
    """Feed the paper past the cutter and cut."""


Block: TypeAlias = Text | Barcode | Separator | Cut


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt laid out for ``columns`` characters per line (font A).

    ``kind`` names the layout (``manual_valgkort``, ``closing_report``, ``log``,
    ``test_page``); ``title`` is a short Norwegian label for the print queue's list and
    carries no personal data.
    """

    kind: str
    title: str
    columns: int
    blocks: tuple[Block, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (for the persistent print queue)."""
        return {
            "kind": self.kind,
            "title": self.title,
            "columns": self.columns,
            "blocks": [_block_to_json(b) for b in self.blocks],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Receipt:
        """The inverse of :meth:`to_json`; raises ``ValueError`` on anything else."""
        try:
            blocks = tuple(_block_from_json(b) for b in data["blocks"])
            receipt = cls(str(data["kind"]), str(data["title"]), int(data["columns"]), blocks)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a receipt: {exc!r}") from exc
        return receipt


def _block_to_json(block: Block) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"t": "text", "text": block.text, "bold": block.bold,
                "double": block.double, "centred": block.centred}
    if isinstance(block, Barcode):
        return {"t": "barcode", "payload": block.payload}
    if isinstance(block, Separator):
        return {"t": "separator", "char": block.char}
    if isinstance(block, Cut):
        return {"t": "cut"}
    raise TypeError(f"not a receipt block: {block!r}")


def _block_from_json(data: Mapping[str, Any]) -> Block:
    kind = data["t"]
    if kind == "text":
        return Text(str(data["text"]), bool(data["bold"]), bool(data["double"]), bool(data["centred"]))
    if kind == "barcode":
        return Barcode(str(data["payload"]))
    if kind == "separator":
        return Separator(str(data["char"]))
    if kind == "cut":
        return Cut()
    raise ValueError(f"unknown receipt block {kind!r}")


# -- errors -------------------------------------------------------------------------


class PrinterError(Exception):
    """Base of every fault the port reports; ``str(error)`` is Norwegian for the clerk."""

    kind = "error"

    def __init__(self, message: str, *, may_have_printed: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.may_have_printed = may_have_printed


class PrinterOutOfPaper(PrinterError):
    """The paper roll is empty."""

    kind = "out_of_paper"


class PrinterCoverOpen(PrinterError):
    """The printer's cover is open."""

    kind = "cover_open"


class PrinterOffline(PrinterError):
    """The printer answers but is offline (error state, cutter jam, paper feed)."""

    kind = "offline"


class PrinterTimeout(PrinterError, TimeoutError):
    """The printer did not answer, or did not take the data, in time."""

    kind = "timeout"


class PrinterUnplugged(PrinterError, ConnectionError):
    """No printer at the configured address: cable out, switched off, wrong device."""

    kind = "unplugged"


ERROR_KINDS: dict[str, type[PrinterError]] = {
    cls.kind: cls
    for cls in (PrinterError, PrinterOutOfPaper, PrinterCoverOpen, PrinterOffline,
                PrinterTimeout, PrinterUnplugged)
}


class ReceiptPrinter(Protocol):
    """A receipt printer. Methods block; call them from a worker thread.

    ``print`` raises only :class:`PrinterError` subclasses for printer faults (and
    ``ValueError`` for a receipt laid out for other columns). It prints once: it never
    retries on its own.
    """

    @property
    def columns(self) -> int: ...

    def status(self) -> PrinterStatus: ...

    def print(self, receipt: Receipt) -> None: ...

