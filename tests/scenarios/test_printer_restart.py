"""A job survives a kiosk restart: it is listed again, never printed on its own, and
printed once when the clerk asks. A kiosk killed while printing leaves an
"interrupted" job that may be on paper."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from valgkiosk.core.manntallsnummer import parse
from valgkiosk.core.receipts import ManualValgkort, StationInfo, ValgkortReason, manual_valgkort
from valgkiosk.drivers.printer import SimulatedPrinter
from valgkiosk.printqueue import JobState, PrintQueue
from valgkiosk.ports.printer import Paper

pytestmark = pytest.mark.timeout(15)

STATION = StationInfo("Stortingsvalget 2025", "0301 Oslo", "0101 Sentrum", 3)


def valgkort(columns: int = 48):  # type: ignore[no-untyped-def]
    card = ManualValgkort(STATION, datetime(2025, 9, 8, 14, 32), ValgkortReason.EMERGENCY,
                          "Kari Nordmann", date(1980, 2, 1), "Storgata 1, 0155 Oslo",
                          parse("000001234582"))
    return manual_valgkort(card, columns)


def test_failed_job_survives_a_restart_and_prints_once_on_request(tmp_path: Path) -> None:
    printer = SimulatedPrinter(columns=48, output=tmp_path / "receipt.txt")
    printer.device.paper = Paper.OUT
    assert not PrintQueue(printer, tmp_path / "jobs").submit(valgkort()).printed
    files = list((tmp_path / "jobs").iterdir())
    assert len(files) == 1 and json.loads(files[0].read_text())["state"] == "failed"

    # the kiosk restarts with the paper changed: a new queue over the same directory
    printer = SimulatedPrinter(columns=48, output=tmp_path / "receipt.txt")
    printed: list[str] = []
    queue = PrintQueue(printer, tmp_path / "jobs", on_printed=lambda job: printed.append(job.receipt.kind))
    [job] = queue.pending()
    assert job.receipt == valgkort() and job.state is JobState.FAILED and job.attempts == 1
    assert printer.printed == []  # not printed by itself

    outcome = queue.retry(job.id)
    assert outcome.printed and outcome.job.attempts == 2
    assert printer.printed == [valgkort()] and printed == ["manual_valgkort"]
    assert "Kari Nordmann" in (tmp_path / "receipt.txt").read_text()
    assert queue.pending() == [] and list((tmp_path / "jobs").iterdir()) == []
    with pytest.raises(KeyError):
        queue.retry(job.id)  # gone: it cannot be printed twice


CHILD = """
import sys, time
from valgkiosk.drivers.printer import SimulatedPrinter
from valgkiosk.printqueue import PrintQueue
from valgkiosk.ports.printer import Receipt, Text, Cut

class Stuck(SimulatedPrinter):
    def print(self, receipt):
        print("printing", flush=True)
        time.sleep(60)

PrintQueue(Stuck(columns=48), sys.argv[1]).submit(Receipt("log", "Loggbok", 48, (Text("x"), Cut())))
"""


def test_kiosk_killed_while_printing_leaves_an_interrupted_job(tmp_path: Path) -> None:
    jobs = tmp_path / "jobs"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(jobs)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline() == "printing\n"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(5)
    printer = SimulatedPrinter(columns=48)
    [job] = PrintQueue(printer, jobs).pending()
    assert job.state is JobState.INTERRUPTED and job.may_have_printed
    assert "Sjekk om kvitteringen kom ut" in job.error
    assert printer.printed == []
    assert [p.name.endswith(".job.json") for p in jobs.iterdir()] == [True]
