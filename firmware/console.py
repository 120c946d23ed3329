"""The kiosk's screen and its logs on the table's console, kept apart.

Under systemd (``valgkiosk.service``) the kiosk gets tty1 on standard input and the
journal on standard output and standard error. Textual's Linux driver draws on stderr,
which would put the whole UI into the journal as escape sequences and leave the screen
black. :class:`ConsoleDriver` is that driver drawing on the terminal it reads keys
from (stdin, tty1) instead; the unit selects it with ``TEXTUAL_DRIVER``. Everything else
the process writes — log records, a traceback, a library's stray ``print`` — goes to
stdout/stderr and so to the journal, never over the clerk's screen.

Why this split rather than journald's native socket (``systemd.journal``): it needs no
extra package, and it also catches what no logging handler sees (a crash's traceback,
warnings, output of C libraries), which on a shared terminal would be drawn on tty1.
:func:`journal_handler` gives log records their syslog priority (``<3>`` …), which
journald reads from the stream, so ``journalctl -p err`` works.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, TextIO

from textual.drivers.linux_driver import LinuxDriver

__all__ = ["ConsoleDriver", "JournalStreamFormatter", "journal_handler", "stderr_is_journal"]


class ConsoleDriver(LinuxDriver):
    """Textual's Linux driver, drawing on the terminal on stdin rather than on stderr."""

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._file = _terminal_writer(self.fileno)  # type: ignore[assignment]  # Textual declares a TextIOWrapper

    def _get_terminal_size(self) -> tuple[int, int]:
        # shutil.get_terminal_size asks stdout, which is the journal here
        try:
            columns, lines = os.get_terminal_size(self.fileno)
        except OSError:
            return super()._get_terminal_size()
        return columns or 80, lines or 25


def _terminal_writer(fd: int) -> TextIO:
    """A text stream on the terminal behind ``fd`` (its own descriptor, opened for writing)."""
    try:
        return open(os.ttyname(fd), "w", encoding="utf-8", errors="replace")  # noqa: SIM115 (the driver's for life)
    except OSError:
        return open(os.dup(fd), "w", encoding="utf-8", errors="replace")  # noqa: SIM115


def stderr_is_journal() -> bool:
    """True when stderr is the journal stream systemd connected (``$JOURNAL_STREAM``)."""
    expected = os.environ.get("JOURNAL_STREAM", "")
    try:
        st = os.fstat(sys.__stderr__.fileno()) if sys.__stderr__ else None
    except (OSError, ValueError):
        return False
    return st is not None and expected == f"{st.st_dev}:{st.st_ino}"


class JournalStreamFormatter(logging.Formatter):
    """``<priority>logger: message``: journald takes the priority from the prefix and adds
    its own time stamp; a multi-line message (a traceback) stays one record's lines."""

    PRIORITIES = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}

    def format(self, record: logging.LogRecord) -> str:
        priority = next((p for level, p in sorted(self.PRIORITIES.items(), reverse=True) if record.levelno >= level), 7)
        text = super().format(record)
        return "\n".join(f"<{priority}>{line}" for line in text.splitlines() or [""])


def journal_handler() -> logging.Handler:
    """A handler writing to the journal stream on stderr (see :func:`stderr_is_journal`)."""
    handler = logging.StreamHandler(sys.__stderr__)
    handler.setFormatter(JournalStreamFormatter("%(name)s: %(message)s"))
    return handler
