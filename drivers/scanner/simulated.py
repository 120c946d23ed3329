"""The simulated hand scanner: scans and unplugs come from method calls.

Used in sim mode (the dev dock's buttons, the keyboard standing in for the scanner)
and in tests. It keeps the real drivers' semantics: ``run`` reports the status first,
reports every connect and disconnect once, delivers scans only while connected (a scan
while unplugged is lost, as with the real thing) and calls the callbacks on the loop
that runs ``run``. The control methods may be called from any thread, before or while
``run`` runs; actions are carried out in the order they were made.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

from valgkiosk.ports.scanner import Scan, ScannerStatus

from ._buffer import REPLACEMENT
from ._status import StatusReporter, call_safely

__all__ = ["SimulatedScanner"]

log = logging.getLogger(__name__)

UNPLUGGED = "Skanneren er koblet fra"

#: What send_garbage() scans by default: a valgkort misread halfway.
GARBAGE = f"0000{REPLACEMENT}2{REPLACEMENT}45{REPLACEMENT}"

_Action = tuple[Literal["scan", "unplug", "replug"], str]


class SimulatedScanner:
    """A :class:`~valgkiosk.ports.scanner.Scanner` driven by :meth:`scan`,
    :meth:`send_garbage`, :meth:`unplug` and :meth:`replug`."""

    def __init__(
        self,
        *,
        name: str = "Simulert skanner",
        connected: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._clock = clock
        self._plugged = connected  # the state after all actions made so far
        self._applied = connected  # the state after the actions run has carried out
        self._actions: deque[_Action] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    @property
    def connected(self) -> bool:
        """Whether the simulated scanner is plugged in (after the actions made so far)."""
        return self._plugged

    def scan(self, text: str) -> None:
        """Scan ``text`` (the terminator is implied), as if a card were held to the scanner."""
        self._push(("scan", text))

    def send_garbage(self, text: str = GARBAGE) -> None:
        """Scan something garbled, as a damaged card or a misread would give."""
        self._push(("scan", text))

    def unplug(self) -> None:
        """Pull the scanner's cable."""
        self._push(("unplug", ""), plugged=False)

    def replug(self) -> None:
        """Plug the scanner back in."""
        self._push(("replug", ""), plugged=True)

    async def run(
        self,
        on_scan: Callable[[Scan], None],
        on_status: Callable[[ScannerStatus], None],
    ) -> None:
        """Report status and deliver the injected actions until cancelled."""
        report = StatusReporter(on_status, log)
        wake = asyncio.Event()
        wake.set()  # carry out whatever was queued before run started
        with self._lock:
            self._loop = asyncio.get_running_loop()
            self._wake = wake
        try:
            report(self._status(self._applied))
            while True:
                await wake.wait()
                wake.clear()
                while (action := self._pop()) is not None:
                    kind, text = action
                    if kind == "scan":
                        if self._applied:
                            call_safely(on_scan, Scan(text, self._clock()), log)
                        else:
                            log.info("simulated scan while unplugged is lost")
                        continue
                    self._applied = kind == "replug"
                    report(self._status(self._applied))
        finally:
            with self._lock:
                self._loop = None
                self._wake = None

    def _pop(self) -> _Action | None:
        """The next queued action, or None."""
        with self._lock:
            return self._actions.popleft() if self._actions else None

    def _status(self, connected: bool) -> ScannerStatus:
        """The status to report for a plug state."""
        return ScannerStatus(True, self.name) if connected else ScannerStatus(False, UNPLUGGED)

    def _push(self, action: _Action, *, plugged: bool | None = None) -> None:
        """Queue an action and wake ``run`` (thread-safe)."""
        with self._lock:
            self._actions.append(action)
            if plugged is not None:
                self._plugged = plugged
            loop, wake = self._loop, self._wake
        if loop is None or wake is None:
            return  # run carries it out when it starts
        try:
            loop.call_soon_threadsafe(wake.set)
        except RuntimeError:  # the loop closed meanwhile
            pass
