"""The training kiosk's marks and session: "ØVING – ikke et ekte valg" on every screen's
header and every receipt, the session report on screen and on paper, and a fresh register
for the next drill."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Static

from tests.training.rig import app_for, calm, panel, run, shown, until
from tests.training.test_drills import ordinary
from valgkiosk.core import checkoff as co
from valgkiosk.training import TRAINING_MARK
from valgkiosk.training.app import TrainingKioskApp, mark_receipt
from valgkiosk.ui.screens import KioskScreen


def header(app: TrainingKioskApp) -> str:
    assert isinstance(app.screen, KioskScreen), type(app.screen)
    return str(app.screen.query_one("#topbar", Static).render())


def test_every_screen_carries_the_training_mark(tmp_path: Path) -> None:
    app = app_for("01-vanlig-avkrysning", tmp_path)
    seen: set[str] = set()

    async def visit(app: TrainingKioskApp, pilot: Pilot[Any], *keys: str) -> None:
        await pilot.press(*keys)
        await calm(pilot, 0.1)
        assert TRAINING_MARK in header(app), type(app.screen).__name__
        seen.add(type(app.screen).__name__)

    async def script(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
        await visit(app, pilot)  # idle
        await panel(pilot, "scan_card")
        await until(pilot, lambda: app.shell.kiosk_state.phase is co.Phase.CONFIRMING)
        await visit(app, pilot)  # confirm
        await visit(app, pilot, "m")  # the manual valgkort's reasons
        await visit(app, pilot, "escape")
        await visit(app, pilot, "enter")  # outcome
        await visit(app, pilot, "f4")  # misregistration
        await visit(app, pilot, "escape", "escape", "f2")  # search
        await visit(app, pilot, "escape", "f6")  # caretaker
        await visit(app, pilot, "f6", "f11")  # loggbok
        await visit(app, pilot, "escape", "f5")  # the chair's PIN

    run(app, script)
    assert {"IdleScreen", "ConfirmScreen", "ValgkortScreen", "OutcomeScreen", "MisregistrationScreen",
            "SearchScreen", "CaretakerScreen", "LogScreen", "PinScreen"} <= seen


def test_every_receipt_carries_the_training_mark(tmp_path: Path) -> None:
    app = app_for("08-samisk-velger", tmp_path)

    async def script(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
        await panel(pilot, "scan_card")
        await until(pilot, lambda: app.shell.kiosk_state.phase is co.Phase.CONFIRMING)
        await pilot.press("m", "down", "down", "enter")
        await until(pilot, lambda: bool(app.sim.printer.printed))  # type: ignore[union-attr]

    run(app, script)
    [paper] = app.sim.printer.printed  # type: ignore[union-attr]
    texts = [getattr(b, "text", "") for b in paper.blocks]
    assert texts[0] == TRAINING_MARK and TRAINING_MARK in texts[-3:]
    assert "MANUELT VALGKORT" in " ".join(texts)


def test_mark_receipt_keeps_the_cut_last() -> None:
    from valgkiosk.ports.printer import Cut, Receipt, Text

    marked = mark_receipt(Receipt("test_page", "Test", 48, (Text("x"), Cut())))
    assert isinstance(marked.blocks[-1], Cut) and marked.blocks[0] == Text(TRAINING_MARK, bold=True, centred=True)


def test_the_session_report_on_screen_and_paper_and_a_fresh_register_for_the_next_drill(tmp_path: Path) -> None:
    app = app_for("01-vanlig-avkrysning", tmp_path, nickname="Ugla")

    async def script(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
        await ordinary(app, pilot)
        await until(pilot, lambda: app.report is not None)
        first_register = app.embedded
        await pilot.press("f12", "n")  # the next drill: "Har stemt før"
        await calm(pilot)
        assert app.drill.id == "02-stemt-for" and app.report is None and app.embedded is not first_register
        assert app.shell.kiosk_state.count_today == 0  # a fresh register: nobody checked off at this table
        assert "ØVELSE 2 av 10: Har stemt før" in shown(app)
        await panel(pilot, "scan_card")
        await until(pilot, lambda: "HAR STEMT FØR" in shown(app))
        await panel(pilot, "stamp", "finish")
        await pilot.press("f12", "r")
        await calm(pilot, 0.1)
        text = shown(app)
        assert "ØKTRAPPORT for Ugla" in text
        assert "Vanlig avkrysning: 4 av 4 poeng" in text and "Har stemt før: 0 av 3 poeng" in text
        assert "Sammenlagt: 4 av 7 poeng i 2 øvelser" in text
        await pilot.press("f12", "u")
        await until(pilot, lambda: any(r.kind == "training_report"
                                       for r in app.sim.printer.printed))  # type: ignore[union-attr]

    run(app, script)
    paper = next(r for r in app.sim.printer.printed if r.kind == "training_report")  # type: ignore[union-attr]
    lines = [getattr(b, "text", "") for b in paper.blocks]
    assert lines[0] == TRAINING_MARK and "Øktrapport" in lines
    assert any("Har stemt før: 0 av 3 poeng" in line for line in lines)
    assert any("Du ba om stempel" in line for line in lines)
    progress = app.progress()
    assert progress["nickname"] == "Ugla" and [r["earned"] for r in progress["results"]] == [4, 0]
    assert "Kari" not in str(progress) and "Ole" not in str(progress)  # no personal data, not even synthetic


def test_the_next_drill_stops_the_old_station_s_watchdog_and_starts_one_for_the_new(tmp_path: Path) -> None:
    """The watchdog runs as the shell's own task (group "watchdog"): a new drill cancels the
    old station's and starts exactly one for the fresh station."""
    app = app_for("01-vanlig-avkrysning", tmp_path)

    async def script(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
        watchdog = frozenset({"watchdog"})
        [before] = app.shell.tasks.pending(watchdog)
        old_station = app.shell.station
        app.start_drill(1)
        await calm(pilot)
        [after] = app.shell.tasks.pending(watchdog)
        assert after is not before and before.cancelled()
        assert app.shell.station is not old_station and app.drill.id == "02-stemt-for"

    run(app, script)
