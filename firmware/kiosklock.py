"""One owner at a time for the table's devices and loggbok.

The kiosk holds an exclusive lock (``flock``) on ``valgkiosk.lock`` beside its loggbok for
as long as it runs; the self-test takes the same lock before it opens the scanner (which it
grabs), the printer, the GPIO pins and the loggbok. While the kiosk runs, the self-test
refuses with a Norwegian message that says how to stop the kiosk and start it again;
nothing is opened. The kernel drops the lock when the holder exits, however it exits.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

__all__ = ["LOCK_NAME", "KioskBusy", "hold", "lock_path"]

LOCK_NAME = "valgkiosk.lock"

#: What the IT team reads when the self-test finds the kiosk running.
BUSY_NB = ("Kiosken kjører og bruker skanneren, skriveren og loggboken. Selvtesten åpner de samme "
           "enhetene og starter ikke mens kiosken kjører.\n"
           "Stopp kiosken først:   systemctl stop valgkiosk\n"
           "og start den igjen etter selvtesten:   systemctl start valgkiosk")


class KioskBusy(RuntimeError):
    """Another process (the kiosk, or a self-test) holds the table's devices."""


def lock_path(loggbok: Path) -> Path:
    """The lock file for the kiosk whose loggbok is ``loggbok``."""
    return loggbok.parent / LOCK_NAME


def hold(path: Path) -> int:
    """Take the lock at ``path`` and return its descriptor (keep it open while the devices
    are in use). Raises :class:`KioskBusy` if another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise KioskBusy(BUSY_NB) from None
    return fd
