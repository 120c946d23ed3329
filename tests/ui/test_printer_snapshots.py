"""Snapshots of the printer's screens: the manual valgkort's reasons, the printer's dialog
for a fault, for a job that may have printed, and for the chair's printouts, the frame's
line for a waiting job, sim mode's receipt on screen and the dock's printer keys.
Update deliberately with ``--snapshot-update`` and look at the SVGs before committing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from valgkiosk.core.receipts import TestPage, test_page
from valgkiosk.printqueue import JobState, PrintJob
from valgkiosk.journal import Journal
from valgkiosk.ports.printer import Paper
from valgkiosk.ui.testing import PRINT_TIME, SIZE, Rig, make_rig, settle

Steps = Callable[[Rig, Pilot[Any]], Awaitable[None]]


def a_page() -> Any:
    return test_page(TestPage("k-0101-1", "test", PRINT_TIME), 48)


async def valgkort_reasons(rig: Rig, pilot: Pilot[Any]) -> None:
    rig.scanner.scan(rig.card("Klar til avkrysning"))
    await settle(pilot)
    await pilot.press("m")
    await settle(pilot)


async def out_of_paper(rig: Rig, pilot: Pilot[Any]) -> None:
    rig.printer.device.paper = Paper.OUT
    rig.app.printing.print_receipt(a_page())
    await settle(pilot)


async def job_waiting(rig: Rig, pilot: Pilot[Any]) -> None:
    await out_of_paper(rig, pilot)
    await pilot.press("escape")
    await settle(pilot)


async def interrupted(rig: Rig, pilot: Pilot[Any]) -> None:
    await settle(pilot)  # the job was written before the kiosk started (see test_screen)


async def chairs_printouts(rig: Rig, pilot: Pilot[Any]) -> None:
    await pilot.press("f1")
    await settle(pilot)


async def sim_receipt(rig: Rig, pilot: Pilot[Any]) -> None:
    await valgkort_reasons(rig, pilot)
    await pilot.press("enter")
    await settle(pilot)


async def dock_with_printer(rig: Rig, pilot: Pilot[Any]) -> None:
    await pilot.press("f12", "P")
    await settle(pilot)


SCREENS: dict[str, Steps] = {
    "printer_valgkort_reasons": valgkort_reasons,
    "printer_out_of_paper": out_of_paper,
    "printer_job_waiting": job_waiting,
    "printer_interrupted": interrupted,
    "printer_chairs_printouts": chairs_printouts,
    "printer_sim_receipt": sim_receipt,
    "printer_dev_dock": dock_with_printer,
}


@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(name: str, snap_compare: Any, tmp_path: Path) -> None:
    def rig_now() -> Rig:  # sim mode as bootstrap wires it: each receipt shown on screen
        return make_rig(print_dir=tmp_path / "queue", journal=Journal(tmp_path / "loggbok.jsonl"), print_preview=True)

    rig = rig_now()
    if name == "printer_interrupted":
        rig.queue._store(PrintJob("cafe", a_page(), PRINT_TIME.isoformat(), JobState.PRINTING, 1))
        rig = rig_now()
    steps = SCREENS[name]

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await steps(rig, pilot)

    assert snap_compare(rig.app, terminal_size=SIZE, run_before=run_before)
