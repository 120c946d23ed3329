"""The Scanner port: a hand scanner that yields scans and reports connect/disconnect."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Scan:
    """One complete scan: the text before the terminator, and when the terminator came."""

    text: str
    at: float  # time.monotonic() when the terminating Enter was read


@dataclass(frozen=True, slots=True)
class ScannerStatus:
    """Whether the scanner is there; ``detail`` says which device or what went wrong."""

    connected: bool
    detail: str = ""


class Scanner(Protocol):
    """A source of scans. ``run`` is long-lived: it finds the device, reads it, survives
    unplug and replug (reporting status each time) and returns only when cancelled.
    Callbacks are called on the event loop that runs ``run``."""

    async def run(
        self,
        on_scan: Callable[[Scan], None],
        on_status: Callable[[ScannerStatus], None],
    ) -> None: ...
