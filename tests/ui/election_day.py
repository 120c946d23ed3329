"""A scripted election day at one table, driven through the real kiosk app (Textual's
pilot, the simulated scanner, caretaker box, network and printer, the in-memory demo
register, a real loggbok file): what the tests of the paper read, and what
``docs/printer/render.py`` draws the pictures from.

The day, on the kiosk's clock (which reports UTC, as a kiosk image without a zone would):
the kiosk starts at 07.45; voters are checked off; at 09.02 the router loses power, the
alarm sounds and is acknowledged, the chair starts the emergency routine; two emergency
votes (one with a valgkort, one with a typed manual valgkort); the router comes back,
the chair ends the routine and the votes are uploaded; a misregistration is reported
(08.04); the voter of the first emergency vote is checked off electronically later (the
register still says "ready"), which the closing report flags;
the scanner is pulled out and plugged back in; the printer runs out of paper once; at
21.05 the chair prints the closing report, the station report and the day's log.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from valgkiosk.bootstrap import _print_place
from valgkiosk.config import load
from valgkiosk.core import outage
from valgkiosk.demo import DEMO_PIN
from valgkiosk.journal import Journal
from valgkiosk.ports.printer import Paper, Receipt
from valgkiosk.ui import printing
from valgkiosk.ui.testing import SIZE, Rig, make_rig, probe, settle, settle_power, type_text

ROOT = Path(__file__).resolve().parents[2]

#: 07.45 in Oslo (summer time), on a clock that reports UTC.
MORNING = datetime(2025, 9, 8, 5, 45, tzinfo=timezone.utc)


@dataclass
class Day:
    """What the day left behind: every receipt the printer took, and the loggbok file."""

    receipts: list[Receipt] = field(default_factory=list)
    loggbok: Path | None = None

    def last(self, kind: str) -> Receipt:
        return next(r for r in reversed(self.receipts) if r.kind == kind)


def day_rig(folder: Path, columns: int = 48) -> Rig:
    """The kiosk as bootstrap wires it for the sim station file, on a clock that says UTC."""
    rig = make_rig(journal=Journal(folder / "loggbok.jsonl"), print_dir=folder / "queue")
    rig.printer._columns = columns  # the TM-T88V (42) or the TM-T20II (48)
    rig.clock.epoch = MORNING
    rig.register.now = rig.clock.now  # the register stamps check-offs on the same clock
    config = load(ROOT / "config" / "sim-offline.toml")
    rig.app.printing.place = _print_place(config, rig.printer)  # "0301 Oslo", "Stortingsvalget 2025"
    rig.app.printing.place = printing.Place(rig.app.printing.place.kommune, rig.app.printing.place.krets,
                                            rig.app.printing.place.election, printer="sim TM-T20II",
                                            image_version="2025.09.1")  # fmt: skip
    rig.app.printing.now = rig.clock.now
    return rig


async def _until(rig: Rig, pilot: Pilot[Any], hh: int, mm: int) -> None:
    """Let the kiosk's clock run to ``hh.mm`` Oslo time (summer: UTC+2)."""
    target = MORNING.replace(hour=hh - 2, minute=mm)
    seconds = (target - rig.clock.now()).total_seconds()
    if seconds > 0:
        rig.clock.advance(seconds)
        rig.app.shell.tick()
    await settle(pilot)


async def _pin(pilot: Pilot[Any]) -> None:
    await pilot.press("f5")
    await settle(pilot)
    await type_text(pilot, DEMO_PIN)
    await pilot.press("enter")
    await settle(pilot)


async def _scan(rig: Rig, pilot: Pilot[Any], label: str, *keys: str) -> None:
    rig.clock.advance(5)  # past the duplicate-scan window
    rig.scanner.scan(rig.card(label))
    await settle(pilot)
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def _choose(rig: Rig, pilot: Pilot[Any], label_start: str) -> None:
    await pilot.press("f1")
    await settle(pilot)
    dialog = rig.app.screen
    assert isinstance(dialog, printing.PrinterDialog), type(dialog)
    labels = list(dialog.dialog.labels)
    index = next(i for i, label in enumerate(labels) if label.startswith(label_start))
    await pilot.press("home", *["down"] * index, "enter")
    await settle(pilot)


async def election_day(rig: Rig, pilot: Pilot[Any]) -> None:
    """The scripted day (see the module's docstring)."""
    timings = outage.Timings()
    await settle_power(rig, pilot)
    await _until(rig, pilot, 8, 3)
    await _scan(rig, pilot, "Klar til avkrysning", "enter")
    await _until(rig, pilot, 8, 4)
    await pilot.press("f4", "enter")  # the wrong voter was checked off: reported at once
    await settle(pilot)
    await pilot.press("escape")
    await settle(pilot)
    await _until(rig, pilot, 8, 41)
    await _scan(rig, pilot, "Har stemt før", "m", "down", "enter")  # a valgkort for the special vote
    await pilot.press("escape")
    await settle(pilot)
    # 09.02: the router loses power; the watchdog sounds the alarm
    await _until(rig, pilot, 9, 2)
    assert rig.gpio is not None and rig.network is not None
    rig.gpio.cut_router()
    rig.network.cut_link()
    await settle_power(rig, pilot)
    await probe(rig, pilot, timings.fail_after)
    await pilot.press("f3")
    await settle(pilot)
    await _until(rig, pilot, 9, 6)
    await _pin(pilot)  # the chair starts the emergency routine
    await _scan(rig, pilot, "Samisk manntall")
    for _ in range(4):
        await pilot.press("enter")
        await settle(pilot)
    await _until(rig, pilot, 9, 14)
    await pilot.press("m")  # a voter without a valgkort: a typed manual valgkort
    await settle(pilot)
    await type_text(pilot, "Kari Nordmann")
    await pilot.press("tab")
    await type_text(pilot, "01.02.1980")
    await pilot.press("tab")
    await type_text(pilot, "Storgata 1, 0150 Oslo")
    await pilot.press("enter")
    await settle(pilot)
    await _dismiss_receipt(rig, pilot)
    for _ in range(4):
        await pilot.press("enter")
        await settle(pilot)
    # 09.35: the router has power again; the chair ends the routine; the votes go up
    await _until(rig, pilot, 9, 35)
    rig.gpio.restore_router()
    rig.network.restore_link()
    await settle_power(rig, pilot)
    await probe(rig, pilot, timings.recover_after)
    await _until(rig, pilot, 9, 38)
    await _pin(pilot)
    await settle(pilot)
    # 11.20: the voter of the first emergency vote still shows "ready" and is checked off
    # here: the closing report flags the orange envelope for valgstyret
    await _until(rig, pilot, 11, 20)
    await _scan(rig, pilot, "Samisk manntall", "enter", "escape")
    await _scan(rig, pilot, "Annet valglokale", "escape")
    # 14.30: the scanner is pulled out and plugged back in
    await _until(rig, pilot, 14, 30)
    rig.scanner.unplug()
    await settle(pilot)
    await _until(rig, pilot, 14, 32)
    rig.scanner.replug()
    await settle(pilot)
    # 16.10: the printer runs out of paper on the test page; a new roll, printed again
    await _until(rig, pilot, 16, 10)
    rig.printer.device.paper = Paper.OUT
    await _choose(rig, pilot, "Testside")
    rig.printer.device.paper = Paper.OK
    await _dismiss_dialog_by_reprint(rig, pilot)
    # 21.05: the chair's printouts
    await _until(rig, pilot, 21, 5)
    for choice in ("Avslutningsrapport for stemmestyrets leder", "Avslutningsrapport for hele valglokalet",
                   "Loggboken for i dag"):
        await _choose(rig, pilot, choice)
        await _dismiss_receipt(rig, pilot)


async def _dismiss_receipt(rig: Rig, pilot: Pilot[Any]) -> None:
    if isinstance(rig.app.screen, printing.SimReceiptScreen):
        await pilot.press("escape")
        await settle(pilot)


async def _dismiss_dialog_by_reprint(rig: Rig, pilot: Pilot[Any]) -> None:
    dialog = rig.app.screen
    assert isinstance(dialog, printing.PrinterDialog), type(dialog)
    labels = list(dialog.dialog.labels)
    index = next(i for i, label in enumerate(labels) if label.startswith("Skriv ut på nytt"))
    await pilot.press("home", *["down"] * index, "enter")
    await settle(pilot)


def run_day(folder: Path, columns: int = 48) -> Day:
    """Run the whole day in a fresh kiosk and return what it printed."""
    rig = day_rig(folder, columns)

    async def main() -> None:
        async with rig.app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await election_day(rig, pilot)

    asyncio.run(main())
    return Day(list(rig.printer.printed), folder / "loggbok.jsonl")
