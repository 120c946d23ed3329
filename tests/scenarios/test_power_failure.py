"""Scenario: the school's power fails. The kiosk is on a UPS (its mains sense line and its
low-battery line on MockFactory pins), the router loses power with the building and the
register is out of reach (the real register on loopback, stopped; the real probes see it).

Mains lost: the clerk is told the printer has no power and to write manual valgkort by
hand, and the printer (gone) keeps its job. The chair starts the routine; a voter votes
in an emergency envelope on battery. Low battery: the kiosk writes its last loggbok
entry, tells the clerk, and asks once for the power-off. Power back: the kiosk starts
again on the same loggbok in the same state (the routine going on, the vote waiting for
upload), with the chain intact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from kiosk_servers import VOTERS, RegisterServer
from scenario import TIMINGS
from valgkiosk.core import outage
from valgkiosk.core.receipts import TestPage, test_page
from valgkiosk.core.ups import ON_BATTERY_NOTICE, SHUTDOWN_NOTICE, UpsPolicy
from valgkiosk.drivers.network import NetworkProbes
from valgkiosk.drivers.ups import SenseLowBattery
from valgkiosk.journal import Journal
from valgkiosk.power_watch import Ups
from valgkiosk.register_client import HttpRegister
from valgkiosk.ui import printing, screens
from valgkiosk.ui.emergency import EmergencyScreen
from valgkiosk.ui.testing import PRINT_TIME, Rig, drive, make_rig, probe, seen, settle, settle_power

pytestmark = pytest.mark.timeout(120)
DETECTOR = outage.Timings(tcp_timeout=1.0, health_timeout=2.0)
LOW_BATTERY_PIN = 26  # the UPS HAT's low-battery line, active low (open collector)


def kiosk(register: RegisterServer, tmp_path: Path) -> tuple[Rig, list[str]]:
    probes = NetworkProbes(register.url, interface=None, check_gateway=False, timings=DETECTOR)
    rig = make_rig(register=HttpRegister(register.url, register.credential, timeout=TIMINGS.register_timeout),
                   timings=TIMINGS, connectivity=probes, outage_timings=DETECTOR,
                   journal=Journal(tmp_path / "loggbok.jsonl"), print_dir=tmp_path / "queue")
    probes._now = rig.clock.now
    assert rig.gpio is not None
    line = SenseLowBattery(LOW_BATTERY_PIN, active_high=False, pin_factory=rig.gpio.factory)
    rig.gpio.factory.pin(LOW_BATTERY_PIN).drive_high()  # the battery is fine
    requests: list[str] = []
    rig.app.shell.ups = Ups(read=line.read, poweroff=lambda: requests.append("poweroff") or True,
                      policy=UpsPolicy(), interval=0.05)
    return rig, requests


async def until(pilot: Pilot[Any], predicate: Any, rounds: int = 100) -> None:
    for _ in range(rounds):
        if predicate():
            return
        await settle(pilot)
    raise AssertionError("timed out")


def kinds(rig: Rig) -> list[str]:
    return [e.kind for e in rig.app.shell.journal.entries()]


def test_power_failure_on_a_ups(register: RegisterServer, tmp_path: Path) -> None:
    from tests.ui.test_emergency import enter_pin, one_voter

    rig, requests = kiosk(register, tmp_path)

    async def before(rig: Rig, pilot: Pilot[Any]) -> None:
        await probe(rig, pilot, 2)
        assert rig.gpio is not None
        # -- mains lost (and the router with it); the register is out of reach --
        rig.gpio.cut_mains()
        rig.gpio.cut_router()
        register.stop()
        await settle_power(rig, pilot)
        assert ON_BATTERY_NOTICE in seen(rig)
        power = [e.data for e in rig.app.shell.journal.entries() if e.kind == "power"]
        assert {"source": "mains", "present": False, "previous": True} in power
        # -- the printer has no power: the job is kept, nothing printed --
        assert rig.printer is not None
        rig.printer.plugged = False
        rig.app.printing.print_receipt(test_page(TestPage("test-bord1", "1", PRINT_TIME), 48))
        await until(pilot, lambda: rig.queue is not None and len(rig.queue.pending()) == 1)
        assert rig.printer.printed == []
        # -- the caretaker sees the battery in use --
        if isinstance(rig.app.screen, printing.PrinterDialog):  # the fault, shown to the clerk
            await pilot.press("escape")
            await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.CaretakerScreen)
        ups = " ".join(str(rig.app.screen.query_one("#status-ups").render()).split())
        assert ups.startswith("✖") and "I bruk" in ups and "skriveren har ikke strøm" in ups
        await pilot.press("escape")
        await settle(pilot)
        # -- the routine on battery: alarm, the chair's PIN, one voter in an emergency envelope --
        await probe(rig, pilot, DETECTOR.fail_after)
        assert "ALARM" in seen(rig)
        await pilot.press("f3")
        await enter_pin(pilot)
        assert isinstance(rig.app.screen, EmergencyScreen)
        await one_voter(rig, pilot, VOTERS["kari"].number)
        assert rig.app.shell.station.state.vote_count == 1
        assert requests == []  # the battery is still fine
        # -- low battery: the last entry, the clerk told, one power-off request --
        rig.gpio.factory.pin(LOW_BATTERY_PIN).drive_low()
        await until(pilot, lambda: requests == ["poweroff"])
        assert kinds(rig)[-1] == "power_shutdown" and rig.app.shell.power_shutdown == "low_battery_signal"
        assert SHUTDOWN_NOTICE in seen(rig)
        await settle(pilot, 3)
        assert requests == ["poweroff"]  # once, however often the UPS is read

    drive(before, rig)
    assert kinds(rig)[-2:] == ["power_shutdown", "stop"]  # the loggbok closed cleanly

    # -- power back: the kiosk starts again on the same loggbok, in the same state --
    again, requests_after = kiosk(register, tmp_path)

    async def after(rig: Rig, pilot: Pilot[Any]) -> None:
        state = rig.app.shell.station.state
        assert state.emergency and state.vote_count == 1 and len(state.pending) == 1
        assert rig.queue is not None and len(rig.queue.pending()) == 1  # the kept job waits for the clerk
        assert isinstance(rig.app.screen, printing.PrinterDialog)  # and is offered, not printed
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, EmergencyScreen)
        assert ON_BATTERY_NOTICE not in seen(rig) and requests_after == []
        assert rig.app.shell.journal.verify() == []

    drive(after, again)
