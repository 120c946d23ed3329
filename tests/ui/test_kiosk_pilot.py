"""Pilot tests: every outcome the clerk can meet, through the real app with the simulated
scanner and the in-memory register. Plain test functions run the app with asyncio.run."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from valgkiosk.core.checkoff import Outcome, Phase
from valgkiosk.ports.register import RegisterNonsense, RegisterServerError, RegisterTimeout, RegisterUnreachable
from valgkiosk.ui import screens
from valgkiosk.ui.testing import Rig, advance, drive, make_rig, seen, settle



async def scan(rig: Rig, pilot: Pilot[Any], text: str) -> None:
    rig.scanner.scan(text)
    await settle(pilot)


def test_idle_shows_skann_valgkort_and_the_count() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        text = seen(rig)
        assert "SKANN VALGKORT" in text and "Avkrysset ved bordet i dag: 0" in text
        assert isinstance(rig.app.screen, screens.IdleScreen)

    drive(script)


def test_scan_confirm_checked_off_tells_to_stamp() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card("Klar til avkrysning"))
        text = seen(rig)
        assert isinstance(rig.app.screen, screens.ConfirmScreen)
        assert "KARI PRØVESEN" in text and "█" in text  # the date of birth in the block font
        assert rig.register.checkoff_count == 0  # nothing before the clerk confirms
        await pilot.press("enter")
        await settle(pilot)
        text = seen(rig)
        assert "✔" in text and "KRYSSET AV" in text and "Stemple stemmeseddelen" in text
        assert "-ok" in rig.app.screen.query_one("#verdict").classes
        assert rig.register.checkoff_count == 1
        assert "Avkrysset ved bordet i dag: 1" in text
        assert rig.register.calls[-2][0:2] == ("check_off", rig.request_ids[0])

    rig = drive(script)
    assert rig.verdicts == [Outcome.CHECKED_OFF]


@pytest.mark.parametrize(
    ("label", "symbol", "words", "tone"),
    [
        ("Har stemt før", "✖", ["HAR STEMT FØR", "særskilt stemmegivning", "stemmestyrets leder", "kl. 08.12",
                                "bord 2"], "-bad"),
        ("Stemt før, feilregistrert", "✖", ["HAR STEMT FØR", "feilregistrering", "særskilt"], "-bad"),
        ("Ikke i manntallet", "✖", ["IKKE I MANNTALLET", "særskilt stemmegivning", "stemmestyrets leder"], "-bad"),
        ("Annet valglokale", "!", ["ANNET VALGLOKALE", "Øvingshallen"], "-warn"),
        ("Annen kommune", "✖", ["ANNEN KOMMUNE", "særskilt stemmegivning"], "-bad"),
        ("Valgkort fra forrige valg", "!", ["VALGKORT FRA ET ANNET VALG"], "-warn"),
        ("Feil kontrollsiffer", "!", ["UGYLDIG ELLER ULESELIG STREKKODE", "Kontrollsifferet"], "-warn"),
    ],
)
def test_every_other_outcome_says_what_to_do(label: str, symbol: str, words: list[str], tone: str) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card(label))
        text = seen(rig)
        assert isinstance(rig.app.screen, screens.OutcomeScreen), text
        assert symbol in text
        for w in words:
            assert w in text, (w, text)
        assert tone in rig.app.screen.query_one("#verdict").classes
        assert rig.register.checkoff_count == 0

    drive(script)


@pytest.mark.parametrize("label", ["Valgkort fra forrige valg", "Feil kontrollsiffer"])
def test_bad_cards_are_answered_without_the_register(label: str) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.register.down = True
        before = len(rig.register.calls)
        await scan(rig, pilot, rig.card(label))
        assert len(rig.register.calls) == before
        assert rig.app.shell.kiosk_state.outcome in (Outcome.OTHER_ELECTION, Outcome.INVALID_BARCODE)

    drive(script)


def test_garbage_from_the_scanner_is_unreadable() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.send_garbage()
        await settle(pilot)
        assert "UGYLDIG ELLER ULESELIG STREKKODE" in seen(rig)

    drive(script)


def test_sami_voter_note_on_confirm_and_verdict() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card("Samisk manntall"))
        assert "Sametingets valgmanntall" in seen(rig)
        await pilot.press("enter")
        await settle(pilot)
        text = seen(rig)
        assert "KRYSSET AV" in text and "sametingsvalget" in text and "leders bord" in text

    drive(script)


def test_escape_on_confirm_checks_nobody_off() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card("Klar til avkrysning"))
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.IdleScreen)
        assert "KARI" not in seen(rig).upper() and rig.register.checkoff_count == 0

    drive(script)


def test_personal_data_leaves_after_the_timeout() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card("Klar til avkrysning"))
        await pilot.press("enter")
        await settle(pilot)
        assert "Kari Prøvesen" in seen(rig)
        await advance(rig, pilot, 14.9)
        assert "Kari Prøvesen" in seen(rig)
        await advance(rig, pilot, 0.2)
        text = seen(rig)
        assert "Kari" not in text and "SKANN VALGKORT" in text

    drive(script)


def test_personal_data_leaves_at_the_next_scan() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card("Har stemt før"))
        assert "Ole Eksempelsen" in seen(rig)
        rig.clock.advance(2)
        await scan(rig, pilot, rig.card("Annen kommune"))
        text = seen(rig)
        assert "Ole" not in text and "Liv Bergesen" in text

    drive(script)


def test_search_by_name_and_birth_date_pick_confirm() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.SearchScreen)
        await pilot.press("tab", *"Kari Prøvesen", "tab", *"01.04.1980", "enter")
        await settle(pilot)
        assert "Kari Prøvesen født 01.04.1980" in seen(rig)
        await pilot.press("enter")  # pick the highlighted hit
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert rig.app.shell.kiosk_state.outcome is Outcome.CHECKED_OFF and rig.register.checkoff_count == 1

    drive(script)


def test_search_by_fodselsnummer() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        fnr = next(m.fodselsnummer for m in rig.register.voters.values() if m.voter.navn == "Nils Testesen")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press(*fnr, "enter")
        await settle(pilot)
        assert "Nils Testesen" in seen(rig)
        await pilot.press("enter")
        await settle(pilot)
        assert "NILS TESTESEN" in seen(rig)

    drive(script)


def test_search_problems_are_explained() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("tab", *"Kari", "enter")
        await settle(pilot)
        assert "Skriv fødselsdatoen" in seen(rig)
        await pilot.press("tab", *"02.02.2002", "enter")
        await settle(pilot)
        assert "Ingen treff i manntallet" in seen(rig)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.IdleScreen)

    drive(script)


@pytest.mark.parametrize(("typed", "said"), [
    ("31.02.1980", "Datoen 31.02.1980 finnes ikke"),  # the right shape, but no such day
    ("29.02.1981", "Datoen 29.02.1981 finnes ikke"),
    ("01.01.2999", "Fødselsdatoen 01.01.2999 er fram i tid"),
    ("1.1.80", "Fødselsdatoen må skrives som DD.MM.ÅÅÅÅ"),
])
def test_a_date_of_birth_that_cannot_be_is_called_so_in_the_search(typed: str, said: str) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("tab", *"Kari Prøvesen", "tab", *typed, "enter")
        await settle(pilot)
        text = seen(rig)
        assert said in text and "Skriv fødselsdatoen (DD.MM.ÅÅÅÅ)" not in text
        assert isinstance(rig.app.screen, screens.SearchScreen)
        assert not any(call[0] == "search" for call in rig.register.calls)  # nothing was asked

    drive(script)


def test_misregistration_of_the_last_checkoff() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await pilot.press("f4")
        await settle(pilot)
        assert "Ingen avkrysning ved dette bordet" in seen(rig)
        number = rig.card("Klar til avkrysning")
        await scan(rig, pilot, number)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.MisregistrationScreen)
        assert "kl. 11.14" in seen(rig)  # the demo register's time, Norwegian summer time
        await pilot.press("enter")
        await settle(pilot)
        text = seen(rig)
        assert "FEILREGISTRERING MELDT" in text and "Varsle stemmestyrets leder straks" in text
        assert rig.register.checkoffs[number].misregistration is not None

    drive(script)


def test_misregistration_failure_is_shown() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card("Klar til avkrysning"))
        await pilot.press("enter")
        await settle(pilot)
        rig.register.down = True
        await pilot.press("f4", "enter")
        await settle(pilot)
        assert "FEILREGISTRERINGEN BLE IKKE MELDT" in seen(rig)

    drive(script)


@pytest.mark.parametrize("error", [RegisterUnreachable("Får ikke kontakt med manntallet."),
                                   RegisterTimeout("Manntallet svarte ikke i tide."),
                                   RegisterServerError("Manntallet har en feil (serverfeil 500).")])
def test_lookup_failure_tells_the_clerk_plainly(error: Exception) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.register.fail_next(error)
        await scan(rig, pilot, rig.card("Klar til avkrysning"))
        text = seen(rig)
        assert "MANNTALLET SVARER IKKE" in text and str(error) in text and "Ingen er krysset av" in text

    drive(script)


@pytest.mark.parametrize("error", [RegisterUnreachable("Får ikke kontakt med manntallet."),
                                   RegisterTimeout("Manntallet svarte ikke i tide."),
                                   RegisterServerError("Manntallet har en feil (serverfeil 500)."),
                                   RegisterNonsense("Manntallet ga et svar kiosken ikke forstår.")])
def test_a_lost_checkoff_answer_is_resolved_with_the_same_request_id(error: Exception) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        number = rig.card("Klar til avkrysning")
        await scan(rig, pilot, number)
        rig.register.fail_next(error, after_effect=True)  # recorded, but the answer is lost
        await pilot.press("enter")
        await settle(pilot)
        text = seen(rig)
        assert "AVKRYSNINGEN ER IKKE BEKREFTET" in text and "Ikke stemple ennå" in text
        assert "KRYSSET AV" not in text.replace("IKKE BEKREFTET", "")
        await advance(rig, pilot, 2.0)
        text = seen(rig)
        assert "✔ KRYSSET AV" in text  # the retry found the first check-off
        checkoffs = [c for c in rig.register.calls if c[0] == "check_off"]
        assert len(checkoffs) == 2 and {c[1] for c in checkoffs} == {rig.request_ids[0]}
        assert len(rig.request_ids) == 1 and rig.register.checkoff_count == 1

    drive(script)


def test_scanner_banner_while_unplugged() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.unplug()
        await settle(pilot)
        assert "SKANNEREN ER FRAKOBLET" in seen(rig)
        rig.scanner.replug()
        await settle(pilot)
        assert "SKANNEREN ER FRAKOBLET" not in seen(rig)

    drive(script)


@pytest.mark.parametrize("keys", [["ctrl+q"], ["ctrl+c"], ["ctrl+p"], ["ctrl+z"], ["ctrl+backslash"], ["f10"],
                                  ["escape"], ["ctrl+d"]])
def test_locked_down_no_key_quits(keys: list[str]) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await pilot.press(*keys)
        await settle(pilot)
        assert rig.app.is_running and rig.app.return_code is None
        assert isinstance(rig.app.screen, screens.IdleScreen)  # no palette, no other screen

    drive(script, make_rig(sim=False))


def test_the_kiosk_has_no_command_palette() -> None:
    from valgkiosk.ui.app import KioskApp

    assert KioskApp.ENABLE_COMMAND_PALETTE is False


def test_sim_keyboard_digits_and_enter_act_as_a_scan() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await pilot.press(*rig.card("Annen kommune"))
        await settle(pilot)
        assert "Tastatur som skanner" in seen(rig)
        await pilot.press("enter")
        await settle(pilot)
        assert "ANNEN KOMMUNE" in seen(rig)

    drive(script)


def test_keyboard_is_no_scanner_outside_sim_mode() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await pilot.press("1", "2", "enter", "f12")
        await settle(pilot)
        assert rig.app.shell.kiosk_state.phase is Phase.IDLE and not rig.app.dock_open
        assert "Tastatur" not in seen(rig) and "UTVIKLERPANEL" not in seen(rig)

    drive(script, make_rig(sim=False))


def test_dev_dock_scans_demo_cards_and_pulls_the_scanner() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await pilot.press("f12")
        await settle(pilot)
        assert "UTVIKLERPANEL" in seen(rig)
        await pilot.press("c")  # "Har stemt før"
        await settle(pilot)
        assert "HAR STEMT FØR" in seen(rig)
        await pilot.press("u")
        await settle(pilot)
        assert "SKANNEREN ER FRAKOBLET" in seen(rig)
        await pilot.press("r")
        await settle(pilot)
        assert "SKANNEREN ER FRAKOBLET" not in seen(rig)
        rig.clock.advance(5)
        await pilot.press("x")
        await settle(pilot)
        assert "ULESELIG" in seen(rig)
        await pilot.press("f12")
        await settle(pilot)
        assert "UTVIKLERPANEL" not in seen(rig)

    drive(script)


def test_the_loggbok_is_written_before_the_screen_confirms(tmp_path: Any) -> None:
    from valgkiosk.journal import Journal

    journal = Journal(tmp_path / "loggbok.jsonl")
    rig = make_rig()
    rig.app.shell.journal = journal

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, rig.card("Klar til avkrysning"))
        await pilot.press("enter")
        await settle(pilot)
        rig.scanner.unplug()
        await settle(pilot)
        await pilot.press("f4", "enter")
        await settle(pilot)
        assert "FEILREGISTRERING MELDT" in seen(rig)
        kinds = [e.kind for e in journal.entries()]
        assert kinds == ["start", "scanner_fault", "misregistration"]

    drive(script, rig)
    entries = list(journal.entries())
    assert entries[-1].kind == "stop" and journal.verify() == []
    assert dict(entries[2].data)["forespørsel"] == rig.request_ids[0]
    assert "Kari" not in journal.path.read_text(encoding="utf-8")
