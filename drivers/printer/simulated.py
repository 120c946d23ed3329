"""The simulated receipt printer for sim mode: shows the receipt as text, writes it to a
file, and has the faults of a real one at the flip of an attribute (the dev dock's
"out of paper", "open the cover", "pull the cable")."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from valgkiosk.core.receipts import receipt_text
from valgkiosk.ports.printer import Paper, PrinterStatus, PrinterTimeout, PrinterUnplugged, Receipt

from . import status as st
from .emulator import EmulatedPrinter
from .faults import MSG_TIMEOUT, MSG_UNPLUGGED, raise_for
from .render import check

__all__ = ["SimulatedPrinter"]


class SimulatedPrinter:
    """A ReceiptPrinter in memory. ``device`` is the emulated printer's state; set
    ``plugged = False`` to pull the cable. Printed receipts are kept in ``printed``
    and their text in ``texts``; the last one is also written to ``output``."""

    def __init__(self, *, columns: int = 48, output: str | Path | None = None,
                 device: EmulatedPrinter | None = None) -> None:
        self._columns = columns
        self.output = Path(output) if output else None
        self.device = device or EmulatedPrinter()
        self.plugged = True
        self.printed: list[Receipt] = []
        self.texts: list[str] = []
        self._lock = threading.Lock()

    @property
    def columns(self) -> int:
        return self._columns

    def status(self) -> PrinterStatus:
        """The emulated printer's answers to DLE EOT 1, 2 and 4, decoded."""
        if not self.plugged:
            return PrinterStatus(online=False, paper=Paper.UNKNOWN, detail=st.UNPLUGGED)
        d = self.device
        replies = [d.feed(st.ASK_PRINTER), d.feed(st.ASK_OFFLINE_CAUSE), d.feed(st.ASK_PAPER)]
        d.take()
        return st.decode(*replies)

    def print(self, receipt: Receipt) -> None:
        """"Print": check the state like the real adapter, then keep and show the text."""
        check(receipt, self.columns)
        if not self.plugged:
            raise PrinterUnplugged(MSG_UNPLUGGED)
        status = self.status()
        if not status.known:
            raise PrinterTimeout(MSG_TIMEOUT)
        raise_for(status, sent=False)
        text = receipt_text(receipt)
        with self._lock:
            self.printed.append(receipt)
            self.texts.append(text)
            if self.output is not None:
                _write_atomically(self.output, text)

    @property
    def last_text(self) -> str:
        """The last receipt's text, or "" when nothing was printed."""
        return self.texts[-1] if self.texts else ""


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".receipt-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
