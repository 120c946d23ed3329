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

from valgkiosk.core.values import (
    Paper,
    PrinterStatus,
    Text,
    Barcode,
    Separator,
    Cut,
    Block,
    Receipt,
)


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


__all__ = [
    "Paper",
    "PrinterStatus",
    "Text",
    "Barcode",
    "Separator",
    "Cut",
    "Block",
    "Receipt",
    "PrinterError",
    "PrinterOutOfPaper",
    "PrinterCoverOpen",
    "PrinterOffline",
    "PrinterTimeout",
    "PrinterUnplugged",
    "ERROR_KINDS",
    "ReceiptPrinter",
]
