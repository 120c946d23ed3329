"""Every drill, run to completion through Textual's pilot on the training kiosk (the
production wiring against the embedded training register): once with the expected
actions (full score) and once with a typical mistake, which the feedback names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.training.rig import app_for, calm, panel, run, shown, until
from valgkiosk.core import checkoff as co
from valgkiosk.training import drills as dr
from valgkiosk.training.app import TrainingKioskApp
from valgkiosk.ui import printing
from valgkiosk.ui.testing import DEMO_PIN, type_text

Script = Callable[[TrainingKioskApp, Pilot[Any]], Awaitable[None]]


async def confirm(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await until(pilot, lambda: app.shell.kiosk_state.phase is co.Phase.CONFIRMING)
    await pilot.press("enter")
    await calm(pilot)


async def search(app: TrainingKioskApp, pilot: Pilot[Any], role: str) -> None:
    """F2, the name and date of birth from the voter's ID, the first hit."""
    person = app.voters[role]
    await pilot.press("f2")
    await calm(pilot, 0.1)
    await pilot.press("tab", *person.navn, "tab", *person.born_text, "enter")
    await calm(pilot)
    await pilot.press("enter")  # the hit
    await calm(pilot)


async def pin(pilot: Pilot[Any]) -> None:
    await pilot.press("f5")
    await calm(pilot, 0.1)
    await type_text(pilot, DEMO_PIN)
    await pilot.press("enter")
    await calm(pilot)


# -- the scripts, per drill: (expected actions, a typical mistake and the words that name it) --


async def ordinary(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "ask_id", "scan_card")
    await confirm(app, pilot)
    await panel(pilot, "stamp")


async def ordinary_without_id(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "scan_card")
    await confirm(app, pilot)
    await panel(pilot, "stamp", "ask_id", "finish")


async def voted(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "ask_id", "scan_card")
    await until(pilot, lambda: "HAR STEMT FØR" in shown(app))
    await panel(pilot, "send_to_chair")


async def voted_stamped(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "ask_id", "scan_card", "stamp", "finish")


async def not_in_register(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "ask_id", "scan_card")
    await until(pilot, lambda: "IKKE I MANNTALLET" in shown(app))
    await panel(pilot, "send_to_chair")


async def not_in_register_left(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "ask_id", "scan_card")
    await until(pilot, lambda: "IKKE I MANNTALLET" in shown(app))
    await panel(pilot, "finish")


async def other_station(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "scan_card")
    await until(pilot, lambda: "ANNET VALGLOKALE" in shown(app))
    await panel(pilot, "send_elsewhere")


async def other_station_stamped(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "scan_card")
    await until(pilot, lambda: "ANNET VALGLOKALE" in shown(app))
    await panel(pilot, "stamp", "finish")


async def old_card(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "scan_card")
    await until(pilot, lambda: "VALGKORT FRA ET ANNET VALG" in shown(app))
    await panel(pilot, "ask_id")
    await search(app, pilot, "other_election")
    await confirm(app, pilot)
    await panel(pilot, "stamp")


async def old_card_sent_away(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "scan_card")
    await until(pilot, lambda: "VALGKORT FRA ET ANNET VALG" in shown(app))
    await panel(pilot, "send_to_chair", "finish")


async def misregistration(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await until(pilot, lambda: "KRYSSET AV" in shown(app))  # the drill's own check-off, the wrong twin
    await pilot.press("f4")
    await calm(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: "FEILREGISTRERING MELDT" in shown(app))
    await panel(pilot, "call_chair")


async def misregistration_untold(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await until(pilot, lambda: "KRYSSET AV" in shown(app))
    await pilot.press("f4")
    await calm(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: "FEILREGISTRERING MELDT" in shown(app))
    await panel(pilot, "finish")


async def no_valgkort(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "ask_id")
    await search(app, pilot, "no_valgkort")
    await confirm(app, pilot)
    await panel(pilot, "stamp")


async def no_valgkort_no_id(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await search(app, pilot, "no_valgkort")
    await confirm(app, pilot)
    await panel(pilot, "stamp", "finish")


async def sami(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "ask_id", "scan_card")
    await confirm(app, pilot)
    assert "Sametingets valgmanntall" in shown(app)
    await panel(pilot, "stamp", "send_to_chair")


async def sami_not_sent(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "ask_id", "scan_card")
    await confirm(app, pilot)
    await panel(pilot, "stamp", "finish")


async def _outage_votes(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "scan_card")
    assert app.shell.walk.manntallsnummer == app.voters["emergency_card"].manntallsnummer
    for _ in range(4):
        await pilot.press("enter")
        await calm(pilot, 0.05)
    await panel(pilot, "next_voter")
    await pilot.press("m")
    await calm(pilot, 0.1)
    person = app.voters["emergency_manual"]
    await type_text(pilot, person.navn)
    await pilot.press("tab")
    await type_text(pilot, person.born_text)
    await pilot.press("tab")
    await type_text(pilot, "Øvingsveien 9")
    await pilot.press("enter")
    await until(pilot, lambda: app.shell.walk.step == 3)  # the card is printed: on to stamping
    for _ in range(6):  # steps 3 to 6 (the form's field may take the first Enter)
        if app.shell.station.state.vote_count == 2:
            break
        await pilot.press("enter")
        await calm(pilot, 0.05)
    assert app.shell.station.state.vote_count == 2, shown(app)


async def outage(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await until(pilot, lambda: app.shell.station.state.outage is not None and "ALARM" in shown(app).upper())
    await pilot.press("f3")
    await calm(pilot, 0.1)
    await panel(pilot, "call_chair")
    assert "PIN-kode i øvingen: 1234" in shown(app)
    await pin(pilot)
    assert app.shell.station.state.emergency
    await _outage_votes(app, pilot)
    await until(pilot, lambda: app.shell.station.state.outage is None)  # the caretaker put the power back
    await pin(pilot)
    await until(pilot, lambda: app.report is not None)


async def outage_without_chair(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await until(pilot, lambda: app.shell.station.state.outage is not None)
    await pilot.press("f3")
    await calm(pilot, 0.1)
    await pin(pilot)  # the trainee knew the PIN, and never called the chair
    assert app.shell.station.state.emergency
    await panel(pilot, "finish")


async def _manual_valgkort_fails(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await panel(pilot, "ask_id", "scan_card")
    await until(pilot, lambda: app.shell.kiosk_state.phase is co.Phase.CONFIRMING)
    await pilot.press("m")
    await calm(pilot, 0.1)
    await pilot.press("down", "down", "enter")  # "Sametingsvalget (ved lederens bord)"
    await until(pilot, lambda: isinstance(app.screen, printing.PrinterDialog))
    assert "papir" in shown(app).lower()


async def paper(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await _manual_valgkort_fails(app, pilot)
    await pilot.press("escape")
    await calm(pilot, 0.1)
    await panel(pilot, "refill_paper")
    await pilot.press("f1")
    await calm(pilot, 0.1)
    dialog = app.screen
    assert isinstance(dialog, printing.PrinterDialog)
    index = next(i for i, c in enumerate(dialog.dialog.labels) if c.startswith("Skriv ut på nytt"))
    await pilot.press("home", *["down"] * index, "enter")
    await until(pilot, lambda: app.report is not None)
    await pilot.press("escape")  # the simulated printer's preview of the card, with the training mark
    await calm(pilot, 0.1)


async def paper_given_up(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
    await _manual_valgkort_fails(app, pilot)
    await pilot.press("escape")
    await calm(pilot, 0.1)
    await panel(pilot, "finish")


DRILLS: dict[str, tuple[Script, Script, str]] = {
    "01-vanlig-avkrysning": (ordinary, ordinary_without_id, "Du krysset av uten å kontrollere legitimasjonen."),
    "02-stemt-for": (voted, voted_stamped, "Du ba om stempel, men stemmeseddelen skal ikke i urnen"),
    "03-ikke-i-manntallet": (not_in_register, not_in_register_left, "ble ikke henvist til stemmestyrets leder"),
    "04-annet-valglokale": (other_station, other_station_stamped, "velgeren skal stemme i sitt eget valglokale"),
    "05-valgkort-fra-forrige-valg": (old_card, old_card_sent_away, "Du søkte ikke opp velgeren (F2)"),
    "06-feilregistrering": (misregistration, misregistration_untold,
                            "Feilregistreringen ble ikke meldt til stemmestyrets leder"),
    "07-uten-valgkort": (no_valgkort, no_valgkort_no_id, "Du krysset av uten å kontrollere legitimasjonen."),
    "08-samisk-velger": (sami, sami_not_sent, "ble ikke vist til stemmestyrets leders bord for sametingsvalget"),
    "09-strombrudd-beredskap": (outage, outage_without_chair, "Beredskapsrutinen ble startet uten leder"),
    "10-skriver-tom-for-papir": (paper, paper_given_up, "Det manuelle valgkortet ble aldri skrevet ut"),
}


def test_every_shipped_drill_has_a_test() -> None:
    assert sorted(d.id for d in dr.load().drills) == sorted(DRILLS)


@pytest.mark.parametrize("drill_id", sorted(DRILLS))
def test_the_expected_actions_give_full_score(drill_id: str, tmp_path: Path) -> None:
    script = DRILLS[drill_id][0]
    app = app_for(drill_id, tmp_path)

    async def play(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
        await script(app, pilot)
        await until(pilot, lambda: app.report is not None)  # the drill ends by itself when all is done
        await calm(pilot, 0.1)
        text = shown(app)
        assert "full score!" in text and "RESULTAT" in text, text

    run(app, play)
    assert app.report is not None and app.report.full, app.report
    assert app.session.results[-1].drill_id == drill_id


@pytest.mark.parametrize("drill_id", sorted(DRILLS))
def test_a_typical_mistake_is_named_in_the_feedback(drill_id: str, tmp_path: Path) -> None:
    _, script, words = DRILLS[drill_id]
    app = app_for(drill_id, tmp_path)

    async def play(app: TrainingKioskApp, pilot: Pilot[Any]) -> None:
        await script(app, pilot)
        await until(pilot, lambda: app.report is not None)
        await calm(pilot, 0.1)
        assert words in shown(app), shown(app)

    run(app, play)
    assert app.report is not None and not app.report.full
    assert any(words in line for line in app.report.lines())
