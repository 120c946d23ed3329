"""The clock service's report as the kiosk shows it (the real app under Textual's pilot):
the caretaker's clock row, and a receipt printed while no source vouches for the clock
saying so. The report goes through the real state file the clock service writes."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from valgkiosk.core.receipts import TestPage, test_page
from valgkiosk.core.timekeeping import UNSYNCHRONISED_NOTE, ClockDecision, ClockSource
from valgkiosk.drivers.timesource import ClockState, read_state, write_state
from valgkiosk.ui import screens
from valgkiosk.ui.testing import PRINT_TIME, Rig, drive, make_rig, seen, settle

pytestmark = pytest.mark.timeout(60)

NOW = datetime(2027, 9, 13, 7, 0, tzinfo=timezone.utc)


def report_file(tmp_path: Path, decision: ClockDecision, *, stepped: bool = False) -> Path:
    path = tmp_path / "clock" / "state.json"
    write_state(ClockState(decision, stepped, NOW), path)
    return path


def clock_rig(tmp_path: Path, path: Path | None) -> Rig:
    rig = make_rig(print_dir=tmp_path / "queue")
    state_file = path or tmp_path / "none.json"
    rig.app.shell.clock_report = lambda: read_state(state_file)
    rig.app.shell.modem_interval = 0.05
    return rig


async def until(pilot: Pilot[Any], predicate: Any, seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)
        await pilot.pause()


def clock_row(rig: Rig) -> tuple[str, set[str]]:
    widget = rig.app.screen.query_one("#status-clock")
    return " ".join(str(widget.render()).split()), set(widget.classes)


@pytest.mark.parametrize(("decision", "tone", "words"), [
    (ClockDecision(ClockSource.MODEM, True), "-ok", "Synkronisert, kilde: mobilnettet (modemet)"),
    (ClockDecision(ClockSource.SYSTEM, False), "-bad", "IKKE synkronisert, kilde: kioskens egen klokke"),
], ids=["modem", "no-source"])
def test_the_caretaker_sees_the_clocks_source(tmp_path: Path, decision: ClockDecision, tone: str, words: str) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: rig.app.shell.clock_status is not None)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.CaretakerScreen)
        text, classes = clock_row(rig)
        assert words in text and tone in classes and "Klokke" in seen(rig)

    drive(script, clock_rig(tmp_path, report_file(tmp_path, decision)))


def test_without_a_report_the_clock_is_unknown_and_receipts_say_so(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await pilot.press("f6")
        await settle(pilot)
        text, classes = clock_row(rig)
        assert "ukjent" in text and "-unknown" in classes
        assert rig.app.shell.clock_trusted is False

    drive(script, clock_rig(tmp_path, None))


@pytest.mark.parametrize(("synchronized", "noted"), [(False, True), (True, False)])
def test_a_receipt_carries_the_note_only_when_the_clock_is_unsynchronised(
        tmp_path: Path, synchronized: bool, noted: bool) -> None:
    decision = ClockDecision(ClockSource.RTC if synchronized else ClockSource.LOGGBOK, synchronized)

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: rig.app.shell.clock_status is not None)
        rig.app.printing.print_receipt(test_page(TestPage("k-0101-1", "test", PRINT_TIME), 48))
        await settle(pilot)
        await until(pilot, lambda: len(rig.printer.printed) == 1)
        assert (UNSYNCHRONISED_NOTE in rig.printer.last_text) is noted

    drive(script, clock_rig(tmp_path, report_file(tmp_path, decision)))


def test_a_stale_report_counts_as_none(tmp_path: Path) -> None:
    path = report_file(tmp_path, ClockDecision(ClockSource.NTP, True))
    assert read_state(path, max_age=timedelta(minutes=15), now=lambda: NOW + timedelta(minutes=10)) is not None
    assert read_state(path, max_age=timedelta(minutes=15), now=lambda: NOW + timedelta(minutes=16)) is None
    path.write_text("{not json")
    assert read_state(path) is None
