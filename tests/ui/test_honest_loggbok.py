"""Honest loggbok events, through the real app: one entry per real event (a repeated
misregistration report is one misregistration, a scanner plugged back in is a reconnect),
on restart an entry for the voter who was in progress when the kiosk stopped, and an
emergency vote for a voter this kiosk had checked off electronically is flagged."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.test_emergency import cut_router, enter_pin, one_voter
from tests.ui.test_printing import pick
from valgkiosk.core import peopletime
from valgkiosk.journal import Journal
from valgkiosk.ports.register import RegisterUnreachable
from valgkiosk.ui import printing
from valgkiosk.ui.testing import Rig, drive, make_rig, seen, settle

pytestmark = pytest.mark.timeout(90)


def rig_at(tmp_path: Path, **kwargs: Any) -> Rig:
    return make_rig(journal=Journal(tmp_path / "loggbok.jsonl"), print_dir=tmp_path / "queue", **kwargs)


def kinds(rig: Rig) -> list[str]:
    return [e.kind for e in rig.app.shell.journal.entries()]


def test_a_misregistration_reported_twice_is_one_entry(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.scan(rig.card("Klar til avkrysning"))
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        for _ in range(2):
            await pilot.press("f4", "enter")
            await settle(pilot)
            assert "FEILREGISTRERING MELDT" in seen(rig)
            await pilot.press("escape")
            await settle(pilot)
        assert kinds(rig).count("misregistration") == 1

    drive(script, rig_at(tmp_path))


def test_a_scanner_plugged_back_in_is_a_reconnect_not_a_fault(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.unplug()
        await settle(pilot)
        rig.scanner.replug()
        await settle(pilot)
        scanner = [k for k in kinds(rig) if k.startswith("scanner")]
        assert scanner == ["scanner_fault", "scanner_connected"]

    drive(script, rig_at(tmp_path))


@pytest.mark.parametrize(("stage", "words"), [
    ("bekreft", "velgeren ble ikke krysset av"),
    ("avkrysning", "avkrysningen var sendt, men ikke bekreftet"),
])
def test_a_voter_in_progress_when_the_kiosk_stopped_leaves_an_entry(
        stage: str, words: str, tmp_path: Path) -> None:
    async def stopped_mid_voter(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.scan(rig.card("Klar til avkrysning"))
        await settle(pilot)
        if stage == "avkrysning":
            rig.register.fail_next(RegisterUnreachable("borte"), after_effect=True)
            await pilot.press("enter")
            await settle(pilot)
        assert (tmp_path / "loggbok.voter").read_text(encoding="utf-8") == stage
        # the app stops here with the voter at the table (as a kill or a power cut would)

    async def after_restart(rig: Rig, pilot: Pilot[Any]) -> None:
        entries = [e for e in rig.app.shell.journal.entries() if e.kind == "voter_interrupted"]
        assert [dict(e.data) for e in entries] == [{"fase": stage}]
        assert not (tmp_path / "loggbok.voter").exists()
        await pilot.press("f11")
        await settle(pilot)
        assert words in seen(rig)
        await pilot.press("escape", "f1")
        await settle(pilot)
        dialog = rig.app.screen
        assert isinstance(dialog, printing.PrinterDialog)
        await pick(pilot, rig, "Avslutningsrapport for stemmestyrets leder")
        line = next(t for t in rig.printer.last_text.splitlines() if t.startswith("Avkrysninger ikke bekreftet"))
        assert line.split()[-1] == ("1" if stage == "avkrysning" else "0")

    drive(stopped_mid_voter, rig_at(tmp_path))
    drive(after_restart, rig_at(tmp_path))


def test_a_free_table_leaves_no_marker_and_no_entry(tmp_path: Path) -> None:
    async def voter_done(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.scan(rig.card("Klar til avkrysning"))
        await settle(pilot)
        await pilot.press("enter", "escape")
        await settle(pilot)
        assert not (tmp_path / "loggbok.voter").exists()

    async def after_restart(rig: Rig, pilot: Pilot[Any]) -> None:
        assert "voter_interrupted" not in kinds(rig)

    drive(voter_done, rig_at(tmp_path))
    drive(after_restart, rig_at(tmp_path))


def test_an_emergency_vote_for_a_voter_checked_off_here_is_flagged(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        card = rig.card("Klar til avkrysning")
        rig.scanner.scan(card)
        await settle(pilot)
        await pilot.press("enter", "escape")  # checked off electronically
        await settle(pilot)
        when = peopletime.clock(rig.register.checkoffs[card].checked_off_at)  # the register's stamp
        rig.clock.advance(60)
        await cut_router(rig, pilot)
        await enter_pin(pilot)
        rig.scanner.scan(card)
        await settle(pilot)
        assert f"ble krysset av elektronisk ved dette bordet {when}" in seen(rig)
        for _ in range(4):
            await pilot.press("enter")
            await settle(pilot)
        [vote] = [e for e in rig.app.shell.journal.entries() if e.kind == "emergency_vote"]
        assert peopletime.clock(datetime.fromisoformat(vote.data["krysset_av_her"])) == when
        await pilot.press("f11")
        await settle(pilot)
        assert "legg konvolutten til side for valgstyret" in seen(rig)
        await pilot.press("escape")
        await settle(pilot)
        await enter_pin(pilot)  # the routine ends
        await pilot.press("f1")
        await settle(pilot)
        await pick(pilot, rig, "Avslutningsrapport for stemmestyrets leder")
        paper = " ".join(rig.printer.last_text.split())
        assert "LEGG TIL SIDE FOR VALGSTYRET" in paper
        assert f"manntallsnr. {card[:10]} {card[10:]}; krysset av {when}." in paper

    drive(script, rig_at(tmp_path))


def test_an_emergency_vote_without_an_earlier_check_off_is_not_flagged(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await cut_router(rig, pilot)
        await enter_pin(pilot)
        await one_voter(rig, pilot, rig.card("Klar til avkrysning"))
        [vote] = [e for e in rig.app.shell.journal.entries() if e.kind == "emergency_vote"]
        assert "krysset_av_her" not in vote.data

    drive(script, rig_at(tmp_path))
