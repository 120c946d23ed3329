"""The keys are the footer's: every key a screen's footer shows does its thing (a letter with
and without Shift / Caps Lock), and a key the footer does not show changes nothing. Keys are
Textual BINDINGS on the screens (valgkiosk.ui.screens.key_binding)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from valgkiosk.core.checkoff import Phase
from valgkiosk.ui import screens
from valgkiosk.ui.testing import Rig, drive, make_rig, seen, settle


async def scan(rig: Rig, pilot: Pilot[Any], label: str) -> None:
    rig.scanner.scan(rig.card(label))
    await settle(pilot)


def footer(rig: Rig) -> str:
    return str(rig.app.screen.query_one("#hints").render())


async def nothing_changes(rig: Rig, pilot: Pilot[Any], *keys: str) -> None:
    """Each key in turn: the same screen, the same phase, no call to the register."""
    for key in keys:
        screen, phase, calls = rig.app.screen, rig.app.kiosk_state.phase, len(rig.register.calls)
        await pilot.press(key)
        await settle(pilot)
        assert rig.app.screen is screen, key
        assert rig.app.kiosk_state.phase is phase, key
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
        assert rig.app.kiosk_state.phase is not Phase.CONFIRM_MISREGISTRATION
        assert any(call[0] == "report_misregistration" for call in rig.register.calls), rig.register.calls

    drive(script, make_rig(printer=True))
