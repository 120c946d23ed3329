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
import re
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


#: Symbols the UI draws that the console font (Lat15-Terminus32x16, /etc/vconsole.conf: 256
#: glyphs, so the console keeps its 16 colours) has no glyph for, and the glyph of the same
#: width from that font the clerk sees instead: without this the Linux console draws its
#: box for a missing glyph, and "✔ KRYSSET AV" reads "■ KRYSSET AV".
CONSOLE_GLYPHS = str.maketrans({"✔": "☑", "✖": "✘", "⚠": "▲"})


#: One SGR (colour and style) escape sequence.
_SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _black_stays_black(match: re.Match[str]) -> str:
    """The Linux console draws bold as bright, so bold black text is dark grey: on the
    green "KRYSSET AV" band and the grey key bar it can hardly be read. Black text is
    drawn without bold there (every other colour keeps it)."""
    params = match.group(1).split(";")
    if "1" in params and "30" in params:
        params = [p for p in params if p != "1"]
        return "\x1b[" + ";".join(params) + "m"
    return match.group(0)


class _ConsoleText:
    """A text stream on the console that draws what the console can show: the symbols
    its font lacks swapped (CONSOLE_GLYPHS), black text never bold."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(_SGR.sub(_black_stays_black, text.translate(CONSOLE_GLYPHS)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _terminal_writer(fd: int) -> TextIO:
    """A text stream on the terminal behind ``fd`` (its own descriptor, opened for writing)."""
    try:
        stream = open(os.ttyname(fd), "w", encoding="utf-8", errors="replace")  # noqa: SIM115 (the driver's for life)
    except OSError:
        stream = open(os.dup(fd), "w", encoding="utf-8", errors="replace")  # noqa: SIM115
    return _ConsoleText(stream)  # type: ignore[return-value]  # a TextIO in all the driver uses


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
