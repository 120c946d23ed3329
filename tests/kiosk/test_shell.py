"""The kiosk's service shell without Textual: driven with scans, probe rounds, ticks on a
manual clock and the chair's requests, against the in-memory register behind the
simulated network, checking the views it publishes (valgkiosk.shell.KioskView)."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from valgkiosk.core import checkoff as co
from valgkiosk.core import kiosk
from valgkiosk.core import outage
from valgkiosk.core.outage import Layer
from valgkiosk.demo import DEMO_PIN, DEMO_PIN_HASH
from valgkiosk.drivers.network import SimulatedConnectivity
from valgkiosk.drivers.scanner import SimulatedScanner
from valgkiosk.ports.clock import ManualClock
from valgkiosk.register_memory import MemoryRegister, demo_register
from valgkiosk.shell import KioskShell, KioskView
from valgkiosk.sim_register import ThroughSimulatedNetwork

TIMINGS = co.Timings(personal_data=15, confirm=60, duplicate_window=1.0, retry_interval=2.0, register_timeout=3.0)


class Recording:
    """The register as the kiosk reaches it, with the request id of every check-off sent."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.check_offs: list[str] = []

    async def check_off(self, request_id: str, manntallsnummer: str) -> Any:
        self.check_offs.append(request_id)
        return await self.inner.check_off(request_id, manntallsnummer)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclasses.dataclass
class Table:
    """A shell and what drives it."""

    shell: KioskShell
    register: MemoryRegister
    sent: Recording
    scanner: SimulatedScanner
    clock: ManualClock
    network: SimulatedConnectivity
    cards: dict[str, str]
    request_ids: list[str]
    views: list[KioskView]

    async def settle(self) -> None:
        for _ in range(3):
            await asyncio.sleep(0)
            await self.shell.tasks.settle()

    async def scan(self, text: str) -> None:
        self.scanner.scan(text)
        await self.settle()

    async def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.shell.tick()
        await self.settle()

    async def probe(self, rounds: int) -> None:
        for _ in range(rounds):
            self.clock.advance(self.shell.station.timings.probe_interval)
            await self.shell.station.probe_once()
        await self.settle()

    @property
    def view(self) -> KioskView:
        return self.shell.view


def table() -> Table:
    register, cards = demo_register()
    scanner, clock = SimulatedScanner(), ManualClock()
    network = SimulatedConnectivity(named=False, now=clock.now)
    ids: list[str] = []

    def new_id() -> str:
        ids.append(str(uuid.UUID(int=len(ids) + 1)))
        return ids[-1]

    views: list[KioskView] = []
    sent = Recording(ThroughSimulatedNetwork(register, network))
    shell = KioskShell(register=sent, scanner=scanner,  # type: ignore[arg-type]
                       settings=co.Settings(election_year=2025, reported_by="Avkrysser bord 1", timings=TIMINGS),
                       station_label="Prøveskolen", bord=1, clock=clock, new_request_id=new_id, auto_tick=False,
                       connectivity=network, chair_pin_hash=DEMO_PIN_HASH,
                       on_change=lambda: views.append(shell.view))  # fmt: skip
    return Table(shell, register, sent, scanner, clock, network, {c.label: c.number for c in cards}, ids, views)


def run(script: Callable[[Table], Awaitable[None]]) -> Table:
    t = table()

    async def main() -> None:
        t.shell.start()
        await t.settle()
        try:
            await script(t)
        finally:
            await t.shell.stop()

    asyncio.run(main())
    return t


def test_the_shell_imports_no_textual() -> None:
    code = "import sys, valgkiosk.shell; print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_scan_publishes_the_voter_to_confirm_and_a_confirm_checks_off() -> None:
    async def script(t: Table) -> None:
        assert t.view.screen is kiosk.Screen.IDLE and t.view.station_label == "Prøveskolen"
        await t.scan(t.cards["Klar til avkrysning"])
        assert t.view.phase is co.Phase.CONFIRMING and t.view.screen is kiosk.Screen.CONFIRM
        assert t.view.core.checkoff.status is not None
        assert t.shell.confirm()
        await t.settle()
        assert t.view.phase is co.Phase.OUTCOME and t.register.checkoff_count == 1
        assert t.view.core.checkoff.outcome is co.Outcome.CHECKED_OFF

    t = run(script)
    kinds = [e.kind for e in t.shell.journal.entries()]
    assert kinds == ["start", "stop"]  # check-offs live in the register; the loggbok says the kiosk ran
    assert t.views and all(dataclasses.is_dataclass(v) for v in t.views)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.views[-1].notice = "x"  # type: ignore[misc]


def test_a_hung_register_lets_the_chair_open_the_routine_while_the_checkoff_is_retried() -> None:
    """The register stops answering after Enter: the watchdog declares the outage, F5 and
    the PIN open the routine, and the unanswered check-off goes on being retried in the
    background with the same request id until the register answers it."""

    async def script(t: Table) -> None:
        await t.scan(t.cards["Klar til avkrysning"])
        t.network.fail_layer(Layer.HEALTH)  # the register takes the connection and never answers
        assert t.shell.confirm()
        await t.settle()
        assert t.view.phase is co.Phase.UNCERTAIN and t.register.checkoff_count == 0
        await t.probe(outage.Timings().fail_after)
        assert t.view.core.outage and t.view.station.outage is not None
        assert t.shell.open_chair_view("pin")
        assert t.view.screen is kiosk.Screen.PIN
        t.shell.submit_chair_pin(DEMO_PIN)
        await t.settle()
        assert t.view.screen is kiosk.Screen.EMERGENCY and t.view.station.emergency
        assert t.view.core.checkoff.unresolved  # the clerk and the routine are told it is open
        for _ in range(3):
            await t.advance(TIMINGS.retry_interval + 0.1)
        assert len(t.sent.check_offs) >= 4 and set(t.sent.check_offs) == {t.request_ids[0]}
        assert t.view.screen is kiosk.Screen.EMERGENCY  # the retries do not take the routine away
        t.network.restore_layer(Layer.HEALTH)  # the register answers again
        await t.advance(TIMINGS.retry_interval + 0.1)
        assert not t.view.core.checkoff.unresolved
        assert t.register.checkoff_count == 1 and t.request_ids == [t.request_ids[0]]
        assert set(t.sent.check_offs) == {t.request_ids[0]}

    run(script)


def test_a_timed_out_confirm_is_published_as_not_checked_off() -> None:
    async def script(t: Table) -> None:
        await t.scan(t.cards["Klar til avkrysning"])
        await t.advance(TIMINGS.confirm + 1)
        assert t.view.phase is co.Phase.IDLE and t.view.core.checkoff.status is None
        assert t.view.notice == co.CONFIRM_TIMED_OUT and "IKKE KRYSSET AV" in t.view.notice
        assert t.register.checkoff_count == 0

    run(script)


def test_a_scanner_pulled_out_is_published() -> None:
    async def script(t: Table) -> None:
        t.scanner.unplug()
        await t.settle()
        assert not t.view.core.checkoff.scanner_connected
        t.scanner.replug()
        await t.settle()
        assert t.view.core.checkoff.scanner_connected

    run(script)


def test_the_view_carries_what_the_caretaker_reads() -> None:
    from valgkiosk.ports.power import PowerChange, PowerSource

    async def script(t: Table) -> None:
        assert t.view.power_states[PowerSource.MAINS] is None and t.view.network.first_failed is None
        t.shell.on_power_change(PowerChange(PowerSource.MAINS, False, True, t.clock.monotonic(), t.clock.monotonic()))
        assert t.view.power_states[PowerSource.MAINS] is False
        assert "batteri" in t.view.notice.lower()  # the clerk is told the printer has no power
        t.network.fail_layer(Layer.TCP)
        await t.probe(1)
        assert t.view.network.first_failed is Layer.TCP
        assert not (t.view.has_modem or t.view.has_ups or t.view.has_clock)

    t = run(script)
    assert [e.kind for e in t.shell.journal.entries()][1] == "power"


def test_the_view_carries_the_banner_and_the_chair_s_loggbok_while_its_screen_is_up() -> None:
    """What the screens used to fetch from the app (the banner, the loggbok) is published:
    the banner from the outage on, the loggbok's summary only while F11's screen is up."""

    async def script(t: Table) -> None:
        assert t.view.banner is None and t.view.loggbok is None and t.view.printer_line == ""
        t.network.fail_layer(Layer.TCP)
        await t.probe(outage.Timings().fail_after)
        assert t.view.banner is not None
        tone, text = t.view.banner
        assert tone == "bad" and "ALARM: MANNTALLET KAN IKKE NÅS" in text
        assert t.shell.open_chair_view("log")
        log = t.view.loggbok
        assert log is not None and log.intact and "kjeden er intakt" in log.chain
        assert "pågår" in log.outages and "█" in log.timeline
        assert log.entries.splitlines()[0] and len(log.entries.splitlines()) <= t.shell.LOGGBOK_ENTRIES_SHOWN
        t.shell.back()
        assert t.view.screen is not kiosk.Screen.LOG and t.view.loggbok is None

    run(script)


def test_the_view_carries_the_printer_s_line_the_mark_and_the_office_note() -> None:
    class Printing:
        columns = 48

        def status_line(self) -> str:
            return "!  Skriveren: 1 utskrift venter. F1 Skriveren"

        def __getattr__(self, name: str) -> Any:
            raise AttributeError(name)

    async def script(t: Table) -> None:
        t.shell.printing = Printing()  # type: ignore[assignment]
        t.shell.mark = "ØVING"
        t.shell.office_note = lambda: "Valgkontoret vet det."
        t.shell.publish()
        assert t.view.printer_line.startswith("!  Skriveren") and t.view.mark == "ØVING"
        assert t.view.banner is None  # the office's note only under a banner
        t.network.fail_layer(Layer.TCP)
        await t.probe(outage.Timings().fail_after)
        assert t.view.banner is not None and t.view.banner[1].endswith("\nValgkontoret vet det.")

    run(script)
