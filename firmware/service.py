"""Telling systemd how the kiosk is: ready once the first screen is drawn, and alive
while the UI loop runs (the unit's WatchdogSec restarts a hung UI).

Uses the sdnotify library (a small, well-kept implementation of the sd_notify
protocol) rather than hand-written socket code. Outside systemd (no NOTIFY_SOCKET)
every call does nothing.
"""

from __future__ import annotations

import logging
import os

import sdnotify

log = logging.getLogger("valgkiosk.service")


class ServiceNotifier:
    """The kiosk's side of systemd's Type=notify and WatchdogSec."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.enabled = bool(env.get("NOTIFY_SOCKET"))
        self._notifier = sdnotify.SystemdNotifier() if self.enabled else None
        usec = env.get("WATCHDOG_USEC", "")
        pid = env.get("WATCHDOG_PID", "")
        for_us = not pid or pid == str(os.getpid())
        self.watchdog_interval: float | None = (
            int(usec) / 2_000_000 if usec.isdigit() and int(usec) > 0 and for_us else None
        )

    def _send(self, message: str) -> None:
        if self._notifier is not None:
            self._notifier.notify(message)

    def ready(self, status: str = "") -> None:
        """The kiosk is up and its first screen is drawn."""
        self._send("READY=1" + (f"\nSTATUS={status}" if status else ""))
        log.info("ready%s", f" ({status})" if status else "")

    def alive(self) -> None:
        """Pet the watchdog: the UI loop is running."""
        self._send("WATCHDOG=1")

    def stopping(self) -> None:
        """The kiosk is shutting down on purpose."""
        self._send("STOPPING=1")
