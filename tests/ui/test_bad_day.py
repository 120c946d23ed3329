"""The bad day, tried as a clerk would (issue 12): nothing traps the table, no voter's data
stays behind in a form, a timed-out confirm says the voter was not checked off, one
headline per state, and the emergency routine's screens are usable at the Pi console's
80×25. Real app, Textual's pilot, the in-memory register and the simulated probes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from valgkiosk.core import checkoff as co
from valgkiosk.core import outage
from valgkiosk.core.checkoff import Outcome, Phase
from valgkiosk.core.outage import Layer
from valgkiosk.ports.register import RegisterTimeout
from valgkiosk.ui import screens
from valgkiosk.ui.emergency import EmergencyScreen, LogScreen, PinScreen
from valgkiosk.ui.testing import (
    TIMINGS,
    Rig,
    advance,
    drive,
    make_rig,
    probe,
    screen_text,
    seen,
    settle,
    settle_power,
    type_text,
)

from tests.ui.test_emergency import cut_router, enter_pin

FAIL_AFTER = outage.Timings().fail_after
CONSOLE = (80, 25)


def on_console(script: Any, rig: Rig | None = None, size: tuple[int, int] = CONSOLE) -> Rig:
    """Run ``script`` with the app at ``size`` (the Pi's console by default)."""
    rig = rig or make_rig()

    async def main() -> None:
        async with rig.app.run_test(size=size) as pilot:
            await settle(pilot)
            await script(rig, pilot)

    asyncio.run(main())
    return rig


async def scan(rig: Rig, pilot: Pilot[Any], text: str) -> None:
    rig.scanner.scan(text)
    await settle(pilot)


async def register_fails(rig: Rig, pilot: Pilot[Any]) -> None:
    """The register stops answering: every call times out, and the watchdog declares it."""
    assert rig.network is not None
    rig.register.fail_next(RegisterTimeout("Manntallet svarte ikke i tide."), times=1000)
    rig.network.fail_layer(Layer.HEALTH)
    await probe(rig, pilot, FAIL_AFTER)


# -- a register that does not answer -----------------------------------------------------------


def test_esc_leaves_an_unanswered_checkoff_and_it_goes_on_in_the_background() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card("Klar til avkrysning"))
        rig.register.fail_next(RegisterTimeout("Manntallet svarte ikke i tide."), times=3)
        await pilot.press("enter")
        await settle(pilot)
        assert rig.app.shell.kiosk_state.phase is Phase.UNCERTAIN
        await pilot.press("escape")
        await settle(pilot)
        text = seen(rig)
        assert isinstance(rig.app.screen, screens.IdleScreen) and "PRØVESEN" not in text.upper()
        assert "IKKE BEKREFTET" in text and "Ikke stemple" in text
        for _ in range(3):
            await advance(rig, pilot, TIMINGS.retry_interval)
        assert rig.app.shell.kiosk_state.unresolved == ()
        assert "ER krysset av" in seen(rig) and "IKKE BEKREFTET:" not in seen(rig)
        checkoffs = [c for c in rig.register.calls if c[0] == "check_off"]
        assert len(checkoffs) == 4 and {c[1] for c in checkoffs} == {rig.request_ids[0]}
        assert rig.register.checkoff_count == 1

    drive(script)


@pytest.mark.parametrize("phase", ["confirm", "uncertain", "search", "outcome", "valgkort_reason"])
def test_f5_and_f6_work_during_an_outage_whatever_the_phase(phase: str) -> None:
    rig = make_rig(printer=phase == "valgkort_reason")

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card("Klar til avkrysning"))
        if phase == "uncertain":
            rig.register.fail_next(RegisterTimeout("Manntallet svarte ikke i tide."), times=1000)
            await pilot.press("enter")
            await settle(pilot)
        elif phase == "search":
            await pilot.press("escape", "f2")
            await settle(pilot)
            await pilot.press(*"01048012345")
        elif phase == "outcome":
            await pilot.press("enter")
            await settle(pilot)
        elif phase == "valgkort_reason":
            await pilot.press("m")
            await settle(pilot)
            assert rig.app.shell.kiosk_state.phase is Phase.CHOOSING_VALGKORT
        await register_fails(rig, pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.CaretakerScreen)
        assert "PRØVESEN" not in seen(rig).upper()
        await pilot.press("f6", "f5")
        await settle(pilot)
        assert isinstance(rig.app.screen, PinScreen)
        await pilot.press("f5", "f6")  # during the PIN entry F5 and F6 do nothing
        await settle(pilot)
        assert isinstance(rig.app.screen, PinScreen)
        await type_text(pilot, "1234")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(rig.app.screen, EmergencyScreen)
        assert rig.app.shell.kiosk_state.phase is Phase.IDLE and rig.app.shell.kiosk_state.status is None
        assert (phase == "uncertain") == bool(rig.app.shell.kiosk_state.unresolved)
        assert ("IKKE BEKREFTET" in seen(rig)) == (phase == "uncertain")
        assert rig.register.checkoff_count == (1 if phase == "outcome" else 0)

    drive(script, rig)


def test_esc_leaves_a_lookup_that_hangs() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.register.delay = 0.5
        rig.scanner.scan(rig.card("Klar til avkrysning"))
        await pilot.pause(screens.BUSY_GRACE + 0.05)  # the screen says it waits once the grace is over
        assert rig.app.shell.kiosk_state.phase is Phase.LOOKING_UP and "Esc Avbryt" in seen(rig)
        await pilot.press("escape")
        await settle(pilot)
        assert rig.app.shell.kiosk_state.phase is Phase.IDLE and "PRØVESEN" not in seen(rig).upper()

    drive(script)


def test_a_slow_lookup_takes_the_last_voter_off_the_screen_after_the_grace() -> None:
    """A new scan while a voter is shown: an answer within BUSY_GRACE replaces him in one
    redraw; a slower one shows the wait instead, and his name is gone by then."""

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card("Klar til avkrysning"))
        status = rig.app.shell.kiosk_state.status
        assert status is not None and status.voter is not None
        name = status.voter.navn.upper()
        assert name in seen(rig)
        rig.register.delay = 1.0
        rig.scanner.scan(rig.card("Samisk manntall"))  # the next voter in the queue
        await pilot.pause()
        assert rig.app.shell.kiosk_state.phase is Phase.LOOKING_UP
        await pilot.pause(screens.BUSY_GRACE + 0.05)
        text = seen(rig)
        assert name not in text and "Slår opp i manntallet" in text and "Esc Avbryt" in text

    drive(script)


def test_a_timed_out_confirm_says_not_checked_off() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card("Klar til avkrysning"))
        await advance(rig, pilot, TIMINGS.confirm)
        text = seen(rig)
        assert isinstance(rig.app.screen, screens.IdleScreen) and "IKKE KRYSSET AV" in text
        assert "PRØVESEN" not in text.upper() and rig.register.checkoff_count == 0

    drive(script)


# -- the search form ------------------------------------------------------------------------


def test_the_search_form_is_cleared_when_left() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        fnr = next(m.fodselsnummer for m in rig.register.voters.values() if m.voter.navn == "Nils Testesen")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press(*fnr, "enter")
        await settle(pilot)
        assert "Nils Testesen" in seen(rig)
        await pilot.press("escape")
        await settle(pilot)
        await advance(rig, pilot, 20)
        await pilot.press("f2")
        await settle(pilot)
        assert [i.value for i in rig.app.screen.query(Input)] == ["", "", ""]
        assert fnr not in screen_text(rig.app) and "Nils" not in seen(rig)

    drive(script)


def test_a_name_search_is_not_won_by_a_fodselsnummer_left_in_the_form() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        fnr = next(m.fodselsnummer for m in rig.register.voters.values() if m.voter.navn == "Nils Testesen")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press(*fnr, "tab", *"Kari Prøvesen", "tab", *"01.04.1980", "enter")
        await settle(pilot)
        assert "Nils" not in seen(rig) and rig.app.shell.kiosk_state.search_hits == ()
        assert "enten på fødselsnummer" in seen(rig)  # both were filled in: the clerk is asked to pick one

    drive(script)


def test_a_search_form_that_timed_out_is_empty_next_time() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press(*"0104801")
        await advance(rig, pilot, TIMINGS.confirm)
        assert isinstance(rig.app.screen, screens.IdleScreen)
        await pilot.press("f2")
        await settle(pilot)
        assert [i.value for i in rig.app.screen.query(Input)] == ["", "", ""]

    drive(script)


# -- one headline per state --------------------------------------------------------------------


def test_an_unplugged_scanner_is_the_headline_and_search_is_offered() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.unplug()
        await settle(pilot)
        text = seen(rig)
        assert "SKANNEREN ER FRAKOBLET" in text and "SKANN VALGKORT" not in text and "F2" in text

    drive(script)


def test_during_an_outage_the_alarm_is_the_headline_and_no_search_is_offered() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await cut_router(rig, pilot)
        text = seen(rig)
        assert "ALARM" in text and "SKANN VALGKORT" not in text and "F2" not in text
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.IdleScreen)
        rig.scanner.unplug()
        await settle(pilot)
        text = seen(rig)
        assert "SKANNEREN ER FRAKOBLET" in text and "F2" not in text

    drive(script)


# -- keys ---------------------------------------------------------------------------------------


def test_m_works_with_shift_too_in_the_routine() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await cut_router(rig, pilot)
        await enter_pin(pilot)
        await pilot.press("M")
        await settle(pilot)
        assert rig.app.shell.walk.manual_valgkort and rig.app.shell.walk.step == 2

    drive(script)


def test_a_number_typed_in_sim_mode_scans_inside_the_routine() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await cut_router(rig, pilot)
        await enter_pin(pilot)
        await pilot.press(*rig.card("Klar til avkrysning"), "enter")
        await settle(pilot)
        assert rig.app.shell.walk.manntallsnummer == rig.card("Klar til avkrysning") and rig.app.shell.walk.step == 3

    drive(script)


def test_a_voter_whose_check_off_is_unanswered_votes_in_the_routine_and_the_envelope_is_flagged() -> None:
    """The register hangs after Enter; the chair starts the routine; the same voter is
    scanned there. On the 80×25 console the routine says at once (above its steps) that his
    check-off is still unanswered and what follows, and the banner no longer says "do not
    stamp". The vote's loggbok entry names the unanswered request, and when the register
    checks him off after all, the chair's tally sets the envelope aside as the same voter."""
    from valgkiosk.core import entries as ent
    from valgkiosk.core import tally

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        card = rig.card("Klar til avkrysning")
        await scan(rig, pilot, card)
        await pilot.press("f12", "n", "f12")  # the register stops answering (the dock)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert rig.app.shell.kiosk_state.phase is Phase.UNCERTAIN
        await probe(rig, pilot, FAIL_AFTER)
        await pilot.press("f5")
        await settle(pilot)
        await enter_pin(pilot)
        assert isinstance(rig.app.screen, EmergencyScreen) and rig.app.shell.kiosk_state.unresolved
        await scan(rig, pilot, card)
        text = " ".join(screen_text(rig.app).split())
        assert "venter fortsatt på svar fra manntallet. Si fra til stemmestyrets leder." in text
        assert "konvolutten legges til side for valgstyret" in text  # whole, not cut off by the console
        # above the steps: under a full banner (diagnosis, SMS line) the steps fill the console
        assert text.index("Si fra til stemmestyrets leder.") < text.index("3. Stemple stemmeseddelen")
        assert "Ikke stemple" not in text and "Den velgeren stemmer i beredskapsrutinen" in text
        for _ in range(4):  # steps 3 to 6
            await pilot.press("enter")
            await settle(pilot)
        [vote] = [e for e in rig.app.shell.journal.entries() if e.kind == "emergency_vote"]
        assert vote.data["avkrysning_ubekreftet"] == rig.request_ids[0]
        await pilot.press("f12", "n", "f12")  # it answers again
        await settle(pilot)
        await advance(rig, pilot, TIMINGS.retry_interval)
        assert not rig.app.shell.kiosk_state.unresolved and rig.register.checkoff_count == 1
        [flagged] = tally.flagged_votes(rig.app.shell.journal.entries())
        assert flagged.checked_off_at is None and "krysset velgeren av" in flagged.unconfirmed
        assert flagged.manntallsnummer == f"{card[:10]} {card[10:]}"
        assert ent.CheckoffResolved.KIND in {e.kind for e in rig.app.shell.journal.entries()}

    on_console(script)


def test_the_routine_says_so_when_the_voters_unanswered_check_off_lands_during_his_walk() -> None:
    """The register answers the background check-off while the same voter is at step 3: the
    walk's warning becomes the one for a voter checked off here, and the vote carries when."""
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        card = rig.card("Klar til avkrysning")
        await scan(rig, pilot, card)
        await pilot.press("f12", "n", "f12")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await probe(rig, pilot, FAIL_AFTER)
        await pilot.press("f5")
        await settle(pilot)
        await enter_pin(pilot)
        await scan(rig, pilot, card)
        assert "venter fortsatt på svar fra manntallet" in seen(rig)
        await pilot.press("f12", "n", "f12")  # the register answers again
        await settle(pilot)
        await advance(rig, pilot, TIMINGS.retry_interval)
        assert rig.register.checkoff_count == 1 and rig.app.shell.walk.step == 3
        text = seen(rig)
        assert "venter fortsatt på svar fra manntallet. Si fra" not in text
        assert "ble krysset av elektronisk ved dette bordet" in text
        for _ in range(4):
            await pilot.press("enter")
            await settle(pilot)
        [vote] = [e for e in rig.app.shell.journal.entries() if e.kind == "emergency_vote"]
        assert vote.data.get("krysset_av_her") and "avkrysning_ubekreftet" not in vote.data

    on_console(script)


# -- 80×25, the Pi's console --------------------------------------------------------------------


def test_the_manual_valgkort_form_and_its_error_fit_the_console() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await cut_router(rig, pilot)
        await enter_pin(pilot)
        await pilot.press("m")
        await settle(pilot)
        await pilot.press(*"Ola", "tab", *"31.02.1980", "tab", *"Storgata 1", "enter")
        await settle(pilot)
        lines = screen_text(rig.app).splitlines()
        assert len(lines) == CONSOLE[1]
        text = " ".join(" ".join(lines).split())
        for shown in ("Ola", "31.02.1980", "Storgata 1", "Datoen 31.02.1980 finnes ikke", "Enter Skriv ut"):
            assert shown in text, shown

    on_console(script)


def test_the_loggbok_fits_the_console() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await cut_router(rig, pilot)
        await pilot.press("f11")
        await settle(pilot)
        assert isinstance(rig.app.screen, LogScreen)
        text = " ".join(screen_text(rig.app).split())
        for shown in ("LOGGBOK", "kjeden er intakt", "Brudd i forbindelsen", "Siste føringer", "Esc Tilbake"):
            assert shown in text, shown
        assert "mistet kiosken kontakt med manntallet" in text.split("Siste føringer:")[1]  # the latest entry

    on_console(script)


def test_the_caretaker_screen_fits_the_console() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await cut_router(rig, pilot)
        await pilot.press("f6")
        await settle(pilot)
        text = " ".join(screen_text(rig.app).split())
        for shown in ("VAKTMESTER", "Strømnett", "Ruter", "NESTE:", "F6 eller Esc"):
            assert shown in text, shown

    on_console(script)


# -- sim mode is honest ---------------------------------------------------------------------------


def test_the_docks_router_cut_makes_the_register_unreachable_to_the_kiosk_too() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await settle_power(rig, pilot)
        await pilot.press("f7")  # the router loses power (the dock)
        await settle(pilot)
        await scan(rig, pilot, rig.card("Klar til avkrysning"))
        assert rig.app.shell.kiosk_state.outcome is Outcome.LOOKUP_FAILED and "Ingen er krysset av" in seen(rig)
        assert rig.register.checkoff_count == 0
        await probe(rig, pilot, FAIL_AFTER)
        assert "MANNTALLET KAN IKKE NÅS" in seen(rig)

    drive(script)


def test_the_docks_register_stop_checks_off_nothing_until_it_answers_again() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card("Klar til avkrysning"))
        assert isinstance(rig.app.screen, screens.ConfirmScreen)
        await pilot.press("f12", "n", "f12")  # the register stops answering (the dock)
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert rig.app.shell.kiosk_state.phase is Phase.UNCERTAIN and rig.register.checkoff_count == 0
        await probe(rig, pilot, FAIL_AFTER)
        assert "MANNTALLET KAN IKKE NÅS" in seen(rig) and rig.register.checkoff_count == 0
        await pilot.press("escape")
        await settle(pilot)
        await advance(rig, pilot, TIMINGS.retry_interval)
        assert rig.register.checkoff_count == 0 and rig.app.shell.kiosk_state.unresolved
        await pilot.press("f12", "n", "f12")  # it answers again
        await settle(pilot)
        await advance(rig, pilot, TIMINGS.retry_interval)
        assert rig.register.checkoff_count == 1 and not rig.app.shell.kiosk_state.unresolved
        assert {c[1] for c in rig.register.calls if c[0] == "check_off"} == {rig.request_ids[0]}

    drive(script)


# -- wording ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("year", "shown"), [(2025, True), (2029, True), (2027, False), (2023, False)])
def test_the_sami_note_only_in_years_with_sametingsvalget(year: int, shown: bool) -> None:
    from valgkiosk.ui import texts
    from valgkiosk.ports.register import Voter
    from datetime import date

    sami_voter = Voter("x", "Áile Sápmi", date(1990, 1, 1), sami=True)
    assert (texts.sami_note(sami_voter, year) == texts.SAMI) is shown
    assert texts.sami_note(Voter("x", "Ola", date(1990, 1, 1)), 2025) == ""
