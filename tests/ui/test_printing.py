"""Printing through the real app (Textual's pilot): the manual valgkort from the register,
every printer fault shown to the clerk and logged, the reprint only on request, a job
kept across a restart, the chair's printouts, and sim mode's printer keys. The printer
is the simulated one (its emulated ESC/POS device answers the status requests), the
queue is on disk in a temporary directory, the loggbok is the real Journal."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from valgkiosk.core import checkoff as co
from valgkiosk.core import entries as ent
from valgkiosk.core.outage import DIAGNOSIS_NB, Layer
from valgkiosk.core.receipts import TestPage, test_page
from valgkiosk.journal import Journal
from valgkiosk.ports.printer import Barcode, Paper
from valgkiosk.ui import printing, screens
from valgkiosk.ui.testing import PRINT_TIME, Rig, drive, make_rig, seen, settle

pytestmark = pytest.mark.timeout(120)


def rig_with(tmp_path: Path, **kwargs: Any) -> Rig:
    journal = Journal(tmp_path / "loggbok.jsonl")
    return make_rig(print_dir=tmp_path / "queue", journal=journal, **kwargs)


def journal_kinds(rig: Rig, kind: str) -> list[dict[str, Any]]:
    return [dict(e.data) for e in rig.app.shell.journal.entries() if e.kind == kind]  # type: ignore[union-attr]


def a_page() -> Any:
    return test_page(TestPage("k-0101-1", "test", PRINT_TIME), 48)


async def scan_then(rig: Rig, pilot: Pilot[Any], label: str, *keys: str) -> None:
    """Scan the demo card ``label``, then press ``keys`` (each settled)."""
    rig.scanner.scan(rig.card(label))
    await settle(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


def last_paper(rig: Rig) -> str:
    """The text of the last receipt the simulated printer took."""
    return rig.printer.last_text


async def pick(pilot: Pilot[Any], rig: Rig, label_start: str) -> None:
    """Pick the printer dialog's choice that starts with ``label_start``."""
    dialog = rig.app.screen
    assert isinstance(dialog, printing.PrinterDialog), type(dialog)
    labels = list(dialog.dialog.labels)
    index = next(i for i, label in enumerate(labels) if label.startswith(label_start))
    await pilot.press("home", *["down"] * index, "enter")
    await settle(pilot)


# -- the manual valgkort from the register ------------------------------------------------


def test_manual_valgkort_for_a_voter_found_by_search(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("tab", *"Kari Prøvesen", "tab", *"01.04.1980", "enter")
        await settle(pilot)
        await pilot.press("enter")  # the hit
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.ConfirmScreen)
        assert "M Manuelt valgkort" in seen(rig)
        await pilot.press("m")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.ValgkortScreen)
        text = seen(rig)
        assert "MANUELT VALGKORT" in text and "Kari Prøvesen" in text
        # a search answer carries no address (as the real register's): it is asked for at print
        assert "Øvingsveien" not in text and "adressen hentes fra manntallet ved utskrift" in text
        assert rig.printer.printed == []  # nothing before the clerk picks the reason
        await pilot.press("enter")  # "Velgeren har ikke valgkort"
        await settle(pilot)
        paper = last_paper(rig)
        [receipt] = rig.printer.printed
        assert receipt.kind == "manual_valgkort"
        number = rig.card("Klar til avkrysning")
        assert Barcode(number) in receipt.blocks
        for words in ("Navn: Kari Prøvesen", "Født: 01.04.1980", "Adresse: Øvingsveien 1, 0150 Oslo",
                      "Årsak: Velgeren har ikke valgkort", "Valg: Stortingsvalget 2025", "Bord: 1",
                      "08.09.2025 kl. 14.32"):  # fmt: skip
            assert words in paper, words
        assert journal_kinds(rig, "manual_valgkort") == [
            {"reason": "no_valgkort", "manntallsnummer": True, "fra_manntallet": True}]
        assert "Kari" not in (tmp_path / "loggbok.jsonl").read_text(encoding="utf-8")
        # back where the clerk was: the check-off still goes ahead
        assert isinstance(rig.app.screen, screens.ConfirmScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert rig.app.shell.kiosk_state.outcome is co.Outcome.CHECKED_OFF

    drive(script, rig_with(tmp_path))


def test_special_vote_valgkort_after_already_voted_and_esc_prints_nothing(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.scan(rig.card("Har stemt før"))
        await settle(pilot)
        await pilot.press("m", "escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.OutcomeScreen) and rig.printer.printed == []
        await pilot.press("m")
        await settle(pilot)
        await pilot.press("down", "enter")  # "Særskilt stemmegivning"
        await settle(pilot)
        paper = last_paper(rig)
        assert "Årsak: Særskilt stemmegivning" in paper and "Ole Eksempelsen" in paper
        assert journal_kinds(rig, "manual_valgkort")[0]["reason"] == "special_vote"

    drive(script, rig_with(tmp_path))


def test_no_manual_valgkort_without_a_voter_or_a_printer(tmp_path: Path) -> None:
    async def with_printer(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan_then(rig, pilot, "Ikke i manntallet", "m")
        assert isinstance(rig.app.screen, screens.OutcomeScreen)
        assert printing.NO_VOTER in seen(rig)

    drive(with_printer, rig_with(tmp_path))

    async def without_printer(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan_then(rig, pilot, "Klar til avkrysning", "m")
        assert isinstance(rig.app.screen, screens.ConfirmScreen)
        assert "Ingen kvitteringsskriver er satt opp" in seen(rig)
        rig.app.printing.print_receipt(a_page())  # the lead's emergency screen calls this
        await settle(pilot)
        assert "Ingen kvitteringsskriver er satt opp" in seen(rig)

    drive(without_printer, make_rig())


# -- faults ---------------------------------------------------------------------------------


def _out_of_paper(rig: Rig) -> None:
    rig.printer.device.paper = Paper.OUT


def _cover_open(rig: Rig) -> None:
    rig.printer.device.cover_open = True


def _offline(rig: Rig) -> None:
    rig.printer.device.online = False


def _silent(rig: Rig) -> None:
    rig.printer.device.silent = True


def _unplugged(rig: Rig) -> None:
    rig.printer.plugged = False


def _fixed(rig: Rig) -> None:
    d = rig.printer.device
    d.paper, d.cover_open, d.online, d.silent = Paper.OK, False, True, False
    rig.printer.plugged = True


FAULTS = {
    "out_of_paper": (_out_of_paper, "TOM FOR PAPIR", "Legg i en ny rull"),
    "cover_open": (_cover_open, "DEKSELET ER ÅPENT", "Lukk det"),
    "offline": (_offline, "SKRIVEREN ER IKKE KLAR", "Se på lampene"),
    "timeout": (_silent, "SKRIVEREN SVARER IKKE", "Slå den av og på"),
    "unplugged": (_unplugged, "FINNER IKKE SKRIVEREN", "Sjekk at kabelen sitter"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_is_shown_logged_kept_and_printed_again_only_when_asked(fault: str, tmp_path: Path) -> None:
    cause, title, todo = FAULTS[fault]

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        cause(rig)
        rig.app.printing.print_receipt(a_page(), journal_kind="manual_valgkort", journal_data={"årsak": "emergency"})
        await settle(pilot)
        assert isinstance(rig.app.screen, printing.PrinterDialog)
        text = seen(rig)
        assert title in text and todo in text and "Skriv ut på nytt: Testside" in text
        assert rig.printer.printed == [] and len(rig.queue.pending()) == 1
        [entry] = journal_kinds(rig, "printer_fault")
        assert entry == {"feil": fault, "utskrift": "test_page", "kan_være_skrevet_ut": False, "forsøk": 1}
        assert journal_kinds(rig, "manual_valgkort") == []  # not on paper: not logged as printed

        await pilot.press("escape")  # later: the job waits, the frame says so
        await settle(pilot)
        assert "Skriveren: 1 utskrift venter. F1 Skriveren" in seen(rig)
        rig.clock.advance(600)
        rig.app.shell.tick()
        await settle(pilot)
        assert rig.printer.printed == []  # never printed by itself

        _fixed(rig)
        await pilot.press("f1")
        await settle(pilot)
        # the fault is gone, so is its title; the job still waits for the clerk
        text = seen(rig)
        assert title not in text and "SKRIVEREN ER KLAR IGJEN" in text and "Skriv ut på nytt: Testside" in text
        await pick(pilot, rig, "Skriv ut på nytt")
        assert len(rig.printer.printed) == 1 and rig.queue.pending() == []
        assert journal_kinds(rig, "manual_valgkort") == [{"årsak": "emergency"}]
        assert "utskrift venter" not in seen(rig)

    drive(script, rig_with(tmp_path))


def test_the_fault_title_goes_while_the_dialog_is_open(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        _out_of_paper(rig)
        rig.app.printing.print_receipt(a_page())
        await settle(pilot)
        assert "TOM FOR PAPIR" in seen(rig)
        await pilot.pause(printing.FAULT_RECHECK + 0.5)  # still out of paper: still said
        await settle(pilot)
        assert "TOM FOR PAPIR" in seen(rig)
        _fixed(rig)  # a new roll, the dialog still open
        await pilot.pause(printing.FAULT_RECHECK + 0.5)
        await settle(pilot)
        text = seen(rig)
        assert "TOM FOR PAPIR" not in text and "SKRIVEREN ER KLAR IGJEN" in text
        assert isinstance(rig.app.screen, printing.PrinterDialog) and rig.printer.printed == []

    drive(script, rig_with(tmp_path))


def test_a_failed_job_can_be_given_up(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        _out_of_paper(rig)
        rig.app.printing.print_receipt(a_page(), journal_kind="manual_valgkort", journal_data={"årsak": "emergency"})
        await settle(pilot)
        await pick(pilot, rig, "Forkast")
        assert rig.queue.pending() == [] and rig.printer.printed == []
        assert journal_kinds(rig, "manual_valgkort") == []

    drive(script, rig_with(tmp_path))


def test_a_scan_takes_the_clerk_back_from_the_dialog_and_the_job_waits(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        _cover_open(rig)
        rig.app.printing.print_receipt(a_page())
        await settle(pilot)
        assert isinstance(rig.app.screen, printing.PrinterDialog)
        rig.scanner.scan(rig.card("Klar til avkrysning"))
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.ConfirmScreen)
        assert "1 utskrift venter" in seen(rig) and len(rig.queue.pending()) == 1

    drive(script, rig_with(tmp_path))


# -- a job that survives a restart ------------------------------------------------------------


def test_a_job_kept_at_shutdown_is_offered_after_restart_not_printed(tmp_path: Path) -> None:
    async def first(rig: Rig, pilot: Pilot[Any]) -> None:
        _out_of_paper(rig)
        rig.app.printing.print_receipt(a_page(), journal_kind="manual_valgkort", journal_data={"årsak": "emergency"})
        await settle(pilot)
        assert len(rig.queue.pending()) == 1

    drive(first, rig_with(tmp_path))

    async def after_restart(rig: Rig, pilot: Pilot[Any]) -> None:
        await settle(pilot)
        assert isinstance(rig.app.screen, printing.PrinterDialog)
        assert "UTSKRIFTER VENTER" in seen(rig) and "Skriveren er tom for papir" in seen(rig)
        assert rig.printer.printed == []
        await pick(pilot, rig, "Skriv ut på nytt")
        assert len(rig.printer.printed) == 1 and rig.queue.pending() == []
        assert journal_kinds(rig, "manual_valgkort") == [{"årsak": "emergency"}]

    drive(after_restart, rig_with(tmp_path))


def _interrupted(tmp_path: Path) -> None:
    """A job the kiosk was printing when it stopped (its file still says "printing")."""
    rig = rig_with(tmp_path)
    job = rig.queue._store  # the queue's own writer, so the file is what it writes
    from valgkiosk.printqueue import JobState, PrintJob

    job(PrintJob("cafe", a_page(), PRINT_TIME.isoformat(), JobState.PRINTING, 1, journal_kind="manual_valgkort",
                 journal_data={"årsak": "emergency"}))  # fmt: skip


def test_a_job_interrupted_by_a_restart_asks_whether_it_came_out(tmp_path: Path) -> None:
    _interrupted(tmp_path)

    async def came_out(rig: Rig, pilot: Pilot[Any]) -> None:
        await settle(pilot)
        text = seen(rig)
        assert "Kiosken stoppet under utskriften" in text
        assert "Kom ut helt: Testside. Ikke skriv ut igjen" in text
        assert "Kom ikke ut (helt): Testside. Skriv ut på nytt" in text
        assert "Skriv ut på nytt: Testside" not in text  # no plain reprint for a may-have-printed job
        await pick(pilot, rig, "Kom ut helt")
        assert rig.printer.printed == [] and rig.queue.pending() == []
        assert journal_kinds(rig, "manual_valgkort") == [{"årsak": "emergency", "bekreftet_av_avkrysser": True}]

    drive(came_out, rig_with(tmp_path))


def test_an_interrupted_job_prints_again_when_the_clerk_says_it_did_not_come_out(tmp_path: Path) -> None:
    _interrupted(tmp_path)

    async def reprint(rig: Rig, pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pick(pilot, rig, "Kom ikke ut")
        assert len(rig.printer.printed) == 1
        assert journal_kinds(rig, "manual_valgkort") == [{"årsak": "emergency"}]

    drive(reprint, rig_with(tmp_path))


# -- the chair's printouts --------------------------------------------------------------------


def _a_day(journal: Journal) -> None:
    """The loggbok of a day with an outage, emergency votes and a manual valgkort, written as
    the station and the printer write them (the tally reads typed entries: issue 12)."""
    t = PRINT_TIME.replace(hour=9, minute=0)
    end = t + timedelta(minutes=33, seconds=12)
    journal.append(*ent.record(ent.KioskStarted(1)), at=t - timedelta(hours=2))
    journal.append(*ent.record(ent.OutageStarted("GATEWAY", t.isoformat(), DIAGNOSIS_NB[Layer.GATEWAY])), at=t)
    journal.append(*ent.record(ent.EmergencyVoteRecorded("a", "000001234582", False)), at=t + timedelta(minutes=5))
    journal.append("manual_valgkort", {"reason": "emergency", "manntallsnummer": False}, at=t + timedelta(minutes=6))
    journal.append(*ent.record(ent.EmergencyVoteRecorded("b", "000000012344", False)), at=t + timedelta(minutes=7))
    journal.append(*ent.record(ent.OutageEnded("GATEWAY", t.isoformat(), end.isoformat(), 1992.0)), at=end)
    journal.append(*ent.record(ent.KioskStarted(1)), at=t - timedelta(days=1))  # yesterday's: not counted


def test_closing_report_from_the_register_and_the_loggbok(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        _a_day(rig.app.shell.journal)  # type: ignore[arg-type]
        rig.scanner.scan(rig.card("Klar til avkrysning"))
        await settle(pilot)
        await pilot.press("enter", "escape")  # one check-off at this table
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert "Avslutningsrapport for stemmestyrets leder" in seen(rig)
        await pick(pilot, rig, "Avslutningsrapport")
        paper = last_paper(rig)
        lines = paper.splitlines()
        for label, number in (("Avkrysninger ved bordet", "1"), ("Beredskapsstemmer (oransje)", "2"),
                              ("Manuelle valgkort skrevet ut", "1"), ("Feilregistreringer", "0"),
                              ("Brudd i forbindelsen til manntallet", "1")):  # fmt: skip
            line = next(t for t in lines if t.startswith(label))
            assert line.split()[-1] == number, line
        assert "09.00-09.33  33 min 12 s" in lines and "  ruteren svarer ikke" in lines
        assert rig.printer.printed[-1].kind == "closing_report"
        _assert_chain_head(rig, lines)
        assert "Kiosk: 0301-0101-bord1" in lines  # the register's name for this kiosk
        assert "kunne ikke leses" not in paper  # every entry of this day reads

    drive(script, rig_with(tmp_path))


def test_closing_report_says_how_many_entries_could_not_be_read(tmp_path: Path) -> None:
    """An entry the tally cannot read (a kind unknown to this firmware, a damaged one) is not
    silently left out of the chair's totals: the printed report says how many there were."""
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        _a_day(rig.app.shell.journal)  # type: ignore[arg-type]
        rig.app.shell.journal.append("a_kind_from_a_newer_firmware", {"x": 1}, at=PRINT_TIME.replace(hour=10))
        rig.app.shell.journal.append("emergency_vote", {"manntallsnummer": 12}, at=PRINT_TIME.replace(hour=10, minute=5))
        await pilot.press("f1")
        await settle(pilot)
        await pick(pilot, rig, "Avslutningsrapport")
        flat = " ".join(last_paper(rig).split())
        assert "2 oppføringer i loggboken kunne ikke leses" in flat, flat
        assert "Beredskapsstemmer (oransje) 2" in flat  # the two readable votes still count

    drive(script, rig_with(tmp_path))


def test_station_report_from_the_registers_counts(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.scan(rig.card("Klar til avkrysning"))
        await settle(pilot)
        await pilot.press("enter", "escape")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        await pick(pilot, rig, "Avslutningsrapport for hele valglokalet")
        assert rig.printer.printed[-1].kind == "station_report"
        rows = [t.split() for t in last_paper(rig).splitlines() if t.split()[:1] in (["1"], ["Sum"])]
        assert rows == [["1", "1", "0", "0"], ["Sum", "1", "0", "0"]]

    drive(script, rig_with(tmp_path))


def test_log_printout_has_the_days_entries_without_personal_data(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        _a_day(rig.app.shell.journal)  # type: ignore[arg-type]
        await pilot.press("f1")
        await settle(pilot)
        await pick(pilot, rig, "Loggboken for i dag")
        paper = last_paper(rig)
        flat = " ".join(paper.split())
        assert "Kl. 09.05 ble en beredskapsstemme (med valgkort) lagt i beredskapsurnen." in flat
        assert "Kl. 09.00 mistet kiosken kontakt med manntallet: ruteren svarer ikke." in flat
        assert "000001234582" not in paper and "000000012344" not in paper
        # today's starts (the day's first, and the app's own at the clock's 09:00), not yesterday's
        assert paper.count("startet kiosken") == 2
        _assert_chain_head(rig, paper.splitlines())

    drive(script, rig_with(tmp_path))


def _assert_chain_head(rig: Rig, lines: list[str]) -> None:
    """The whole loggbok's head is on the paper in full, for «valgkiosk log verify --expect»."""
    head = rig.app.shell.journal.head()  # type: ignore[attr-defined]
    at = next(i for i, t in enumerate(lines) if t.startswith("Loggbokens kjedehode: nr."))
    assert lines[at].split()[-1] == str(head.count)
    assert lines[at + 1] + lines[at + 2] == head.hash


def test_chairs_printouts_only_from_idle(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan_then(rig, pilot, "Har stemt før", "f1")
        assert isinstance(rig.app.screen, printing.PrinterDialog)
        assert "Avslutningsrapport" not in seen(rig)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.OutcomeScreen)

    drive(script, rig_with(tmp_path))


# -- sim mode -------------------------------------------------------------------------------


def test_the_dev_dock_switches_the_simulated_printers_faults(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await pilot.press("f12")
        await settle(pilot)
        assert "P Papir: ok" in seen(rig)
        await pilot.press("P", "D", "O", "K")
        await settle(pilot)
        d = rig.printer.device
        assert (d.paper, d.cover_open, d.online, rig.printer.plugged) == (Paper.OUT, True, False, False)
        assert "P Papir: TOMT" in seen(rig) and "K Kabel: UTE" in seen(rig)
        await pilot.press("P", "D", "O", "K")
        await settle(pilot)
        assert (d.paper, d.cover_open, d.online, rig.printer.plugged) == (Paper.OK, False, True, True)

    drive(script, rig_with(tmp_path))


def test_the_sim_printer_writes_the_receipt_to_its_file(tmp_path: Path) -> None:
    from valgkiosk import bootstrap
    from valgkiosk import config as cfg

    text = Path(bootstrap.SIM_CONFIG).read_text(encoding="utf-8")
    text = text.replace('"/tmp/valgkiosk-sim/siste-kvittering.txt"', json.dumps(str(tmp_path / "kvittering.txt")))
    text = text.replace('"/tmp/valgkiosk-sim/print-queue"', json.dumps(str(tmp_path / "queue")))
    config = cfg.parse(text)
    assert config.printer.kind == "sim" and config.printer.queue_dir == str(tmp_path / "queue")
    printer, queue = bootstrap.build_printing(config, sim=True)
    assert queue.submit(a_page()).printed
    assert "T e s t s i d e" in (tmp_path / "kvittering.txt").read_text(encoding="utf-8")  # double width
    assert printer.columns == 48


def test_sim_mode_shows_each_printed_receipt_until_esc(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.app.printing.print_receipt(a_page())
        await settle(pilot)
        assert isinstance(rig.app.screen, printing.SimReceiptScreen)
        assert "Strekkoden skal lese 123456789080" in seen(rig)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.IdleScreen)

    drive(script, make_rig(print_dir=tmp_path / "queue", print_preview=True))


def test_the_dialogs_items_do_not_move_as_jobs_pile_up(tmp_path: Path) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        before = [c.label for c in rig.app.printing.choices(co.Phase.IDLE)]
        _out_of_paper(rig)
        rig.app.printing.print_test_page()
        await settle(pilot, 6)
        dialog = rig.app.screen
        assert isinstance(dialog, printing.PrinterDialog)
        after = list(dialog.dialog.labels)
        assert after[: len(before)] == before and len(after) > len(before)  # the job's items come last
        assert dialog.dialog.labels[dialog.query_one("#printer-choices").highlighted].startswith("Skriv ut på nytt")

    drive(script, rig_with(tmp_path))
