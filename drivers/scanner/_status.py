"""Status reporting and callback safety shared by the scanner drivers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from valgkiosk.ports.scanner import ScannerStatus

T = TypeVar("T")


def call_safely(callback: Callable[[T], None], value: T, log: logging.Logger) -> None:
    """Call an app callback; log its exception instead of letting it stop the driver."""
    try:
        callback(value)
    except Exception:
        log.exception("scanner callback %r failed", callback)


class StatusReporter:
    """Passes status changes to ``on_status`` and the log, dropping repeats of the same status."""

    def __init__(self, on_status: Callable[[ScannerStatus], None], log: logging.Logger) -> None:
        self._on_status = on_status
        self._log = log
        self.last: ScannerStatus | None = None

    def __call__(self, status: ScannerStatus, *, cause: BaseException | None = None) -> None:
        """Report ``status`` if it differs from the last one; ``cause`` goes to the log only."""
        reason = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        if status == self.last:
            self._log.debug("scanner status unchanged: %s%s", status.detail, reason)
            return
        self.last = status
        if status.connected:
            self._log.info("scanner connected: %s", status.detail)
        else:
            self._log.warning("scanner not available: %s%s", status.detail, reason)
        call_safely(self._on_status, status, self._log)
