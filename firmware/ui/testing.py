"""Test harness for the kiosk app: the app wired to the simulated scanner, the in-memory
demo register, a manual clock and deterministic request ids. Ships with the firmware (as
gpiozero ships its MockFactory) so that UI tests, scenario tests and the bench share it."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from dataclasses import dataclass, field
from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from valgkiosk.core import checkoff as co
from valgkiosk.core import outage
from valgkiosk.drivers.gpio import SimulatedGpio
from valgkiosk.drivers.network import SimulatedConnectivity
from valgkiosk.drivers.scanner import SimulatedScanner
from valgkiosk.ports.clock import ManualClock
from valgkiosk.ports.register import Register
from valgkiosk.register_memory import DemoCard, demo_register

from .app import KioskApp
from .printing import Place

PRINT_PLACE = Place("0301", "0101", "Stortingsvalget 2025", kiosk_id="k-0101-1", printer="sim TM-T20II",
                    image_version="test")  # fmt: skip

SIZE = (100, 32)
from valgkiosk.demo import DEMO_PIN, DEMO_PIN_HASH  # noqa: E402,F401 - the chair's PIN in tests and the demo
#: The wall clock the rig's receipts are printed at.
PRINT_TIME = datetime(2025, 9, 8, 14, 32, tzinfo=timezone(timedelta(hours=2)))
TIMINGS = co.Timings(personal_data=15, confirm=60, duplicate_window=1.0, retry_interval=2.0,
                     register_timeout=3.0)  # fmt: skip


@dataclass
class Rig:
    """Everything a test drives: the app and the adapters behind it."""

    app: KioskApp
    scanner: SimulatedScanner
    register: Any  # MemoryRegister or HttpRegister
    clock: ManualClock
    cards: dict[str, str] = field(default_factory=dict)  # label -> number
    request_ids: list[str] = field(default_factory=list)
    verdicts: list[co.Outcome] = field(default_factory=list)
    gpio: SimulatedGpio | None = None  # the simulated caretaker box, on the rig's clock
    network: SimulatedConnectivity | None = None  # the simulated way to the register
    printer: Any = None  # the SimulatedPrinter (make_rig(printer=True))
    queue: Any = None  # its PrintQueue

    def card(self, label: str) -> str:
        return self.cards[label]


def make_rig(
    *,
    register: Register | None = None,
    sim: bool = True,
    timings: co.Timings = TIMINGS,
    bord: int = 1,
    gpio: bool = True,
    network: bool = True,
    journal: Any = None,
    outage_timings: outage.Timings = outage.Timings(),
    connectivity: Any = None,
    printer: bool = False,
    print_dir: str | Path | None = None,
    print_preview: bool = False,
) -> Rig:
    """A kiosk app over the demo register (or ``register``), not yet running; with
    ``gpio`` a simulated caretaker box (all supplies on) feeds its power sensors. Built by
    the one wiring (valgkiosk.wiring.build_kiosk) from :func:`rig_config`, with the rig's
    manual clock, request ids and register handed in."""
    from valgkiosk import wiring

    cards: list[DemoCard] = []
    if register is None:
        register, cards = demo_register(bord=bord)
    ids: list[str] = []

    def new_id() -> str:
        rid = str(uuid.UUID(int=len(ids) + 1))
        ids.append(rid)
        return rid

    verdicts: list[co.Outcome] = []
    sim_printer = queue = None
    if printer or print_dir is not None:
        from valgkiosk.drivers.printer import SimulatedPrinter
        from valgkiosk.printqueue import PrintQueue

        sim_printer = SimulatedPrinter(columns=48)
        queue = PrintQueue(sim_printer, print_dir or tempfile.mkdtemp(prefix="valgkiosk-print-"))
    # sim mode is honest: the register is reached through the same simulated network the
    # probes use (the rig's ``register`` stays the inner one, whose controls the tests drive)
    overrides = wiring.Overrides(
        clock=ManualClock(), register=register, cards=cards, scanner=SimulatedScanner(), journal=journal,
        timings=timings, outage_timings=outage_timings, connectivity=connectivity, gpio=gpio, network=network,
        printing=(sim_printer, queue), print_place=PRINT_PLACE, print_now=lambda: PRINT_TIME,
        print_preview=print_preview, dock=sim, new_request_id=new_id, auto_tick=False,
        on_verdict=verdicts.append, office=False)  # fmt: skip
    built = wiring.build_kiosk(rig_config(bord), sim=True, overrides=overrides)
    app: KioskApp = built.app
    vote_numbers = iter(range(1, 1_000_000))
    app.shell.station.new_vote_id = lambda: f"vote-{next(vote_numbers):04d}"  # same loggbok hashes every run
    return Rig(app, built.scanner, register, built.clock, {c.label: c.number for c in cards}, ids,  # type: ignore[arg-type]
               verdicts, built.gpio, built.network if network and connectivity is None else None,
               sim_printer, queue)  # fmt: skip


def rig_config(bord: int = 1) -> Any:
    """The rig's station: a sim-mode table at Prøveskolen (Oslo, krets 0101), for 2025."""
    from valgkiosk import config as cfg

    return cfg.parse(f"""
[station]
kommune = "0301"
krets = "0101"
bord = {bord}
navn = "Prøveskolen"
[election]
year = 2025
[register]
url = "memory:"
[scanner]
kind = "sim"
[printer]
kind = "none"
[emergency]
chair_pin_hash = "{DEMO_PIN_HASH}"
""", "<testrigg>")


#: The shell's tasks ``settle`` waits for: register calls and print jobs (never the scanner).
SETTLE_GROUPS = frozenset({"register", "printer", "printer-data"})


async def settle(pilot: Pilot[Any], rounds: int = 3) -> None:
    """Let scans, register calls and screen switches finish (never waits for the scanner)."""
    app = pilot.app
    for _ in range(rounds):
        await pilot.pause()
        pending = app.shell.tasks.pending(SETTLE_GROUPS)  # type: ignore[attr-defined]
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        await pilot.pause()


async def advance(rig: Rig, pilot: Pilot[Any], seconds: float) -> None:
    """Let ``seconds`` pass on the kiosk's clock and deliver a tick."""
    rig.clock.advance(seconds)
    rig.app.shell.tick()
    await settle(pilot)


async def settle_power(rig: Rig, pilot: Pilot[Any]) -> None:
    """Let the simulated power inputs hold for the stable time, and show what they report."""
    assert rig.gpio is not None
    rig.clock.advance(rig.gpio.sensors.timings.stable)
    rig.gpio.sensors.poll()
    await settle(pilot)


async def probe(rig: Rig, pilot: Pilot[Any], rounds: int = 1) -> None:
    """Let the watchdog run ``rounds`` probe rounds, one probe interval apart on the clock."""
    station = rig.app.shell.station
    for _ in range(rounds):
        rig.clock.advance(station.timings.probe_interval)
        await station.probe_once()
    await settle(pilot)


async def type_text(pilot: Pilot[Any], text: str) -> None:
    """Type ``text`` key by key (digits and letters), as on the kiosk's keyboard."""
    await pilot.press(*[{" ": "space", ".": "full_stop", ",": "comma"}.get(c, c) for c in text])


def screen_text(app: KioskApp) -> str:
    """Everything on screen now, as plain text."""
    return "\n".join(strip.text.rstrip() for strip in app.screen._compositor.render_strips())


Script = Callable[[Rig, Pilot[Any]], Awaitable[None]]


def drive(script: Script, rig: Rig | None = None) -> Rig:
    """Run the app under Textual's pilot and play ``script`` against it."""
    rig = rig or make_rig()

    async def main() -> None:
        async with rig.app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await script(rig, pilot)

    asyncio.run(main())
    return rig


def seen(rig: Rig) -> str:
    """The screen's text with line breaks and runs of spaces collapsed (text wraps)."""
    return " ".join(screen_text(rig.app).split())
