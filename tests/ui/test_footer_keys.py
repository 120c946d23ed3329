"""The keys are the footer's: every key a screen's footer shows does its thing (a letter with
and without Shift / Caps Lock), and a key the footer does not show changes nothing. Keys are
Textual BINDINGS on the screens (valgkiosk.ui.screens.key_binding), on the printer's dialog
and on the self-test app."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from selftest_bench import bench
from tests.ui.test_selftest_screen import make_app, text, to_lamp_question, until
from valgkiosk.core.checkoff import Phase
from valgkiosk.ui import printing, screens
from valgkiosk.ui.testing import SIZE, Rig, drive, make_rig, seen, settle


async def scan(rig: Rig, pilot: Pilot[Any], label: str) -> None:
    rig.scanner.scan(rig.card(label))
    await settle(pilot)


def footer(rig: Rig) -> str:
    return str(rig.app.screen.query_one("#hints").render())


async def nothing_changes(rig: Rig, pilot: Pilot[Any], *keys: str) -> None:
    """Each key in turn: the same screen, the same phase, no call to the register."""
    for key in keys:
        screen, phase, calls = rig.app.screen, rig.app.shell.kiosk_state.phase, len(rig.register.calls)
        await pilot.press(key)
        await settle(pilot)
        assert rig.app.screen is screen, key
        assert rig.app.shell.kiosk_state.phase is phase, key
        assert len(rig.register.calls) == calls, key


@pytest.mark.parametrize("key", ["m", "M"])
def test_m_on_the_confirm_screen_in_both_cases_opens_the_manual_valgkort(key: str) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, "Klar til avkrysning")
        assert isinstance(rig.app.screen, screens.ConfirmScreen)
        assert "M Manuelt valgkort" in footer(rig)
        await nothing_changes(rig, pilot, "f2", "f4", "x", "X", "q")  # not on this footer
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.ValgkortScreen), seen(rig)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert rig.register.checkoff_count == 1

    drive(script, make_rig(printer=True))


@pytest.mark.parametrize("key", ["m", "M"])
def test_m_on_an_outcome_with_a_voter_in_both_cases_opens_the_manual_valgkort(key: str) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, "Har stemt før")
        assert isinstance(rig.app.screen, screens.OutcomeScreen)
        assert "M Manuelt valgkort" in footer(rig)
        await nothing_changes(rig, pilot, "enter", "x", "K")  # not on this footer
        await pilot.press(key)
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.ValgkortScreen), seen(rig)

    drive(script, make_rig(printer=True))


def test_the_idle_footer_keys_work_and_the_others_do_nothing() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        shown = footer(rig)
        assert all(k in shown for k in ("F2", "F4", "F6", "F11"))
        assert "M " not in shown and "Enter" not in shown and "Esc" not in shown
        await nothing_changes(rig, pilot, "m", "M", "enter", "escape", "x")
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.SearchScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.IdleScreen)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.CaretakerScreen)
        assert "Esc" in footer(rig)
        await nothing_changes(rig, pilot, "m", "enter", "f2")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.IdleScreen)
        await pilot.press("f11")
        await settle(pilot)
        assert not isinstance(rig.app.screen, screens.IdleScreen)  # the chair's loggbok
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.IdleScreen)

    drive(script, make_rig(printer=True))


def test_f4_then_enter_reports_the_last_checkoff_and_esc_on_the_report_screen_goes_back() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, "Klar til avkrysning")
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.IdleScreen)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.MisregistrationScreen)
        assert "Enter Meld" in footer(rig)
        await nothing_changes(rig, pilot, "m", "f2", "x")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.IdleScreen)
        await pilot.press("f4", "enter")
        await settle(pilot)
        assert rig.app.shell.kiosk_state.phase is not Phase.CONFIRM_MISREGISTRATION
        assert any(call[0] == "report_misregistration" for call in rig.register.calls), rig.register.calls

    drive(script, make_rig(printer=True))


def test_the_printer_dialog_closes_with_esc_or_f1_and_other_keys_do_nothing_there() -> None:
    """The printer's dialog (F1) names its keys: arrows and Enter pick, Esc closes; F1 closes
    it as it opened it. A key it does not show changes nothing, and reaches no screen under it."""

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        for close in ("escape", "f1"):
            await pilot.press("f1")
            await settle(pilot)
            dialog = rig.app.screen
            assert isinstance(dialog, printing.PrinterDialog), seen(rig)
            assert "Esc Lukk" in str(dialog.query_one("#printer-hints").render())
            await nothing_changes(rig, pilot, "m", "M", "x", "f2", "f4", "f6", "q")
            await pilot.press(close)
            await settle(pilot)
            assert isinstance(rig.app.screen, screens.IdleScreen), close
        await pilot.press("f1", "down", "down", "down", "down", "enter")  # «Testside for IKT»
        await settle(pilot)
        assert not isinstance(rig.app.screen, printing.PrinterDialog)
        assert [r.kind for r in rig.printer.printed] == ["test_page"], seen(rig)

    drive(script, make_rig(printer=True))


def test_the_self_tests_keys_work_in_both_cases_and_the_others_do_nothing(tmp_path: Path) -> None:
    """J/N with and without Shift or Caps Lock; keys the screen does not name do nothing;
    Enter or F10 end only once the checks are done."""
    b = bench(tmp_path)
    app = make_app(b)

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await to_lamp_question(pilot)
            for key in ("x", "q", "k", "f1", "enter", "f10", "escape"):
                await pilot.press(key)
                await pilot.pause()
                assert app.is_running and not app.done, key
            await pilot.press("N")
            await until(pilot, lambda: app.done)
            assert "IKKE BESTÅTT: 1 sjekk feilet" in text(app)
            await pilot.press("j", "x")  # no question now: nothing
            await pilot.pause()
            assert app.is_running
            await pilot.press("f10")
            await pilot.pause()

    asyncio.run(main())
    assert app.return_code == 1
