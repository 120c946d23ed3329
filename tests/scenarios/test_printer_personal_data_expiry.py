"""A manual valgkort that did not print keeps name, date of birth, address and
manntallsnummer in the print queue: it expires at the end of the day it was made and is
destroyed (overwritten, then unlinked), at the next look at the queue or the next start."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from valgkiosk.core.manntallsnummer import parse
from valgkiosk.core.receipts import ManualValgkort, StationInfo, ValgkortReason, manual_valgkort
from valgkiosk.drivers.printer import SimulatedPrinter
from valgkiosk.printqueue import PrintQueue
from valgkiosk.ports.printer import Cut, Paper, Receipt, Text

STATION = StationInfo("Stortingsvalget 2025", "0301 Oslo", "0101 Sentrum", 3)
MADE = datetime(2025, 9, 8, 14, 32).astimezone()


class Clock:
    def __init__(self) -> None:
        self.now = MADE

    def __call__(self) -> datetime:
        return self.now


def valgkort() -> Receipt:
    card = ManualValgkort(STATION, MADE, ValgkortReason.EMERGENCY, "Kari Nordmann", date(1980, 2, 1),
                          "Storgata 1, 0155 Oslo", parse("000001234582"))
    return manual_valgkort(card, 48)


def stuck_printer() -> SimulatedPrinter:
    printer = SimulatedPrinter(columns=48)
    printer.device.paper = Paper.OUT
    return printer


def test_a_kept_valgkort_is_destroyed_at_the_end_of_its_day(tmp_path: Path) -> None:
    clock = Clock()
    jobs = tmp_path / "jobs"
    queue = PrintQueue(stuck_printer(), jobs, now=clock)
    assert not queue.submit(valgkort()).printed
    queue.submit(Receipt("log", "Loggbok", 48, (Text("no personal data"), Cut())))
    [path] = [p for p in jobs.iterdir() if "Kari" in p.read_text(encoding="utf-8")]
    assert json.loads(path.read_text(encoding="utf-8"))["expires_at"].startswith("2025-09-08T23:59")
    witness = tmp_path / "witness"
    os.link(path, witness)  # a second name for the same blocks: shows overwrite, not just unlink
    clock.now = MADE.replace(hour=23, minute=58)
    assert len(queue.pending()) == 2
    clock.now = MADE.replace(hour=23, minute=59)
    assert [j.receipt.kind for j in queue.pending()] == ["log"]
    assert not path.exists()
    assert set(witness.read_bytes()) == {0}, "the job's bytes are still there"


def test_expiry_is_configurable_and_happens_at_the_next_start(tmp_path: Path) -> None:
    clock = Clock()
    jobs = tmp_path / "jobs"
    PrintQueue(stuck_printer(), jobs, now=clock, personal_data_until=time(20, 0)).submit(valgkort())
    clock.now = MADE.replace(hour=20, minute=0)
    restarted = PrintQueue(stuck_printer(), jobs, now=clock)
    assert restarted.pending() == [] and list(jobs.iterdir()) == []


def test_a_job_from_before_expiry_existed_expires_by_its_kind(tmp_path: Path) -> None:
    clock = Clock()
    jobs = tmp_path / "jobs"
    PrintQueue(stuck_printer(), jobs, now=clock).submit(valgkort())
    [path] = jobs.iterdir()
    old = json.loads(path.read_text(encoding="utf-8"))
    del old["expires_at"]
    path.write_text(json.dumps(old), encoding="utf-8")
    clock.now = MADE + timedelta(days=1)
    assert PrintQueue(stuck_printer(), jobs, now=clock).pending() == []


def test_a_printed_job_leaves_no_bytes_behind(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    printer = stuck_printer()
    queue = PrintQueue(printer, jobs, now=Clock())
    job = queue.submit(valgkort()).job
    [path] = jobs.iterdir()
    os.link(path, tmp_path / "witness")
    printer.device.paper = Paper.OK
    assert queue.retry(job.id).printed
    assert set((tmp_path / "witness").read_bytes()) == {0}
