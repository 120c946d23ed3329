"""One clock for people: with the kiosk's process in UTC (as on an image with no zone set)
and the wall clock reporting UTC, the screen, the paper and the loggbok's words all say
the election's time (Europe/Oslo), in one format ("kl. 19.52")."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from valgkiosk.core import peopletime
from valgkiosk.journal import Journal
from valgkiosk.ui.testing import Rig, drive, make_rig, seen, settle

pytestmark = pytest.mark.timeout(60)

#: 17.52 UTC is 19.52 in Oslo on election day (summer time).
UTC_NOW = datetime(2025, 9, 8, 17, 52, 7, tzinfo=timezone.utc)


@pytest.fixture
def process_in_utc() -> Iterator[None]:
    """The whole process runs with TZ=UTC, like a kiosk image without a zone."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        assert datetime.now().astimezone().utcoffset() == timezone.utc.utcoffset(None)
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()
        peopletime.configure()


def utc_rig(tmp_path: Path) -> Rig:
    rig = make_rig(journal=Journal(tmp_path / "loggbok.jsonl"), print_dir=tmp_path / "queue")
    rig.register.now = lambda: rig.clock.now()  # the register stamps check-offs on the same clock
    rig.clock.epoch = UTC_NOW
    rig.app.printing.now = rig.clock.now  # receipts on the kiosk's own (UTC-reporting) clock
    return rig


def test_screen_and_paper_agree_in_oslo_time_while_the_process_runs_in_utc(
        process_in_utc: None, tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        assert rig.clock.now().utcoffset() == timezone.utc.utcoffset(None)
        rig.scanner.scan(rig.card("Klar til avkrysning"))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        rig.clock.advance(5)
        rig.scanner.scan(rig.card("Klar til avkrysning"))  # the same voter again
        await settle(pilot)
        screen = seen(rig)
        assert "HAR STEMT FØR" in screen
        assert "08.09.2025 kl. 19.52" in screen and "17.52" not in screen and "17:52" not in screen
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("down", "enter")  # a valgkort for the special vote
        await settle(pilot)
        paper = rig.printer.last_text
        assert "Tid: 08.09.2025 kl. 19.52" in paper, paper
        assert "17.52" not in paper and "17:52" not in paper and "19:52" not in paper
        # the chair's log screen (F11) and the log on paper say the same time
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        from valgkiosk.ui import printing

        dialog = rig.app.screen
        assert isinstance(dialog, printing.PrinterDialog)
        labels = list(dialog.dialog.labels)
        await pilot.press(*["down"] * labels.index("Loggboken for i dag"), "enter")
        await settle(pilot)
        log_paper = rig.printer.last_text
        assert "19.52" in log_paper and "17.52" not in log_paper and "17:52" not in log_paper
        assert "Skrevet ut: 08.09.2025 kl. 19.52" in log_paper

    drive(script, utc_rig(tmp_path))
