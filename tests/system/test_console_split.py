"""On the kiosk's unit, tty1 is stdin and the journal is stdout and stderr: the UI must
draw on the terminal and the logs must go to the journal (with their priority), never
the other way round. The real kiosk (sim mode) with a pty as its tty1 and a file as the
journal stream (``$JOURNAL_STREAM`` names it, as systemd does)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from image_stations import REPO
from pty_terminal import run_until_drawn


@pytest.mark.timeout(120)
def test_ui_on_the_terminal_logs_in_the_journal(tmp_path: Path) -> None:
    journal_path = tmp_path / "journal"
    with journal_path.open("wb") as journal:
        st = os.fstat(journal.fileno())
        env = {**os.environ, "TERM": "linux", "TEXTUAL_DRIVER": "valgkiosk.console:ConsoleDriver",
               "JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}", "HOME": str(tmp_path)}
        drawn = run_until_drawn([sys.executable, "-m", "valgkiosk.cli", "run", "--sim",
                                 "--config", str(REPO / "config" / "sim-offline.toml")],
                                b"VALGKORT", rows=30, columns=100, timeout=90, env=env, cwd=tmp_path, output=journal)
    screen = drawn.screen
    logged = journal_path.read_bytes()
    assert b"VALGKORT" in screen, f"nothing drawn on the terminal; journal: {logged[-2000:]!r}"
    assert b"\x1b[" not in logged, "the UI's escape sequences went to the journal"
    assert b"<6>valgkiosk.bootstrap: kiosk starting" in logged, logged[-2000:]
    assert b"kiosk starting" not in screen, "a log line was drawn on the clerk's screen"


def drawn_on_console(text: str) -> str:
    """What the kiosk's console writer puts on a terminal (a pty) for ``text``."""
    from valgkiosk.console import _terminal_writer

    master, slave = os.openpty()
    try:
        writer = _terminal_writer(slave)
        writer.write(text)
        writer.flush()
        time.sleep(0.1)
        drawn = os.read(master, 4096).decode("utf-8")
        writer.close()
    finally:
        os.close(master)
        os.close(slave)
    return drawn


def test_the_console_draws_symbols_its_font_has() -> None:
    """The console font (Lat15-Terminus32x16) has no ✔, ✖ or ⚠: on the kiosk's terminal
    they become ☑, ✘ and ▲ (one column each, so nothing moves); every other character
    passes unchanged."""
    drawn = drawn_on_console("✔  KRYSSET AV · ⚠ ALARM ✖ æøå █\n")
    assert "☑  KRYSSET AV · ▲ ALARM ✘ æøå █" in drawn, drawn
    assert not {"✔", "⚠", "✖"} & set(drawn)


def test_black_text_is_never_bold_on_the_console() -> None:
    """Bold is bright on the Linux console: bold black on the green verdict band would be
    dark grey. Black loses its bold there; white on red keeps it."""
    drawn = drawn_on_console("\x1b[1;30;42mKRYSSET AV\x1b[0m \x1b[1;97;41mALARM\x1b[0m\n")
    assert "\x1b[30;42mKRYSSET AV" in drawn, repr(drawn)
    assert "\x1b[1;97;41mALARM" in drawn, repr(drawn)
