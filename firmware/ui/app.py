"""The kiosk's Textual app: the service shell around the pure check-off core.

The app collects inputs (scanner callbacks, keys, ticks), stamps them with the injected
clock, feeds them to :func:`valgkiosk.core.checkoff.step`, carries out the effects
through the ports (register calls run as workers and come back as events) and shows the
screen for the new phase. It is locked down: no command palette, no quit key; the
terminal's own keys (ctrl+q, ctrl+c, …) are priority no-op bindings.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType

from valgkiosk.core import checkoff as co
from valgkiosk.core import emergency as em
from valgkiosk.core import entries as ent
from valgkiosk.core import kiosk
from valgkiosk.core import outage
from valgkiosk.core.outage import Layer
from valgkiosk.core import receipts
from valgkiosk.core import sensing
from valgkiosk.journal import MemoryJournal
from valgkiosk.ports.clock import Clock, SystemClock
from valgkiosk.ports.connectivity import Connectivity
from valgkiosk.ports.indicators import Indicators
from valgkiosk.ports.printer import Receipt
from valgkiosk.ports.power import PowerChange, PowerSensors, PowerSource
from valgkiosk.ports.register import KioskInfo, Register, RegisterError, Voter
from valgkiosk.ports.scanner import Scan, Scanner, ScannerStatus
from valgkiosk.inprogress import VoterInProgress
from valgkiosk.inprogress import stage as voter_stage
from valgkiosk.service import ServiceNotifier
from valgkiosk.station import JOURNAL_FAILED, Station, StationRefused

from . import emergency as ui_em
from . import texts
from .printing import Place, Printing
from .emergency import ACK_KEY, EMERGENCY_KEY, LOG_KEY, EmergencyScreen, LogScreen, PinScreen
from .screens import (
    SIM_POWER_KEYS,
    CaretakerScreen,
    CheckingOffScreen,
    ConfigErrorScreen,
    ConfirmScreen,
    IdleScreen,
    KioskScreen,
    MisregistrationScreen,
    OutcomeScreen,
    SearchScreen,
    ValgkortScreen,
    birth_date_problem,
    parse_birth_date,
)
from .status import NetworkLayers

log = logging.getLogger("valgkiosk.kiosk")

#: Keys that must do nothing on the kiosk (the terminal's and Textual's own).
LOCKED_KEYS = ("ctrl+q", "ctrl+c", "ctrl+p", "ctrl+z", "ctrl+backslash", "ctrl+d", "ctrl+s", "ctrl+w")
LOCKDOWN_BINDINGS: list[BindingType] = [Binding(key, "noop", show=False, priority=True) for key in LOCKED_KEYS]

_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

CARETAKER_REFUSED = kiosk.CARETAKER_REFUSED
NO_PIN = ("Ingen PIN-kode for stemmestyrets leder er satt opp: beredskapsrutinen kan ikke startes. "
          "Varsle IKT-ansvarlig.")
CHAIR_REFUSED = kiosk.CHAIR_REFUSED

#: The screen for each of the core's routes (valgkiosk.core.kiosk.route).
SCREENS: dict[kiosk.Screen, type[KioskScreen]] = {
    kiosk.Screen.IDLE: IdleScreen,
    kiosk.Screen.CONFIRM: ConfirmScreen,
    kiosk.Screen.CHECKING_OFF: CheckingOffScreen,
    kiosk.Screen.OUTCOME: OutcomeScreen,
    kiosk.Screen.SEARCH: SearchScreen,
    kiosk.Screen.MISREGISTRATION: MisregistrationScreen,
    kiosk.Screen.VALGKORT: ValgkortScreen,
    kiosk.Screen.EMERGENCY: EmergencyScreen,
    kiosk.Screen.CARETAKER: CaretakerScreen,
    kiosk.Screen.PIN: PinScreen,
    kiosk.Screen.LOG: LogScreen,
}


class JournalLike(Protocol):
    """The loggbok (valgkiosk.journal.Journal): durable before ``append`` returns."""

    def append(self, kind: str, data: dict[str, Any], *, at: Any = None) -> Any: ...
    def entries(self) -> Any: ...
    def verify(self) -> Any: ...


class ModemStatusLike(Protocol):
    """One modem reading (valgkiosk.drivers.modem.ModemStatus)."""

    @property
    def state(self) -> Any: ...
    @property
    def registered(self) -> bool: ...
    @property
    def detail(self) -> str: ...


class ModemLike(Protocol):
    """The mobile-fallback modem (valgkiosk.drivers.modem.Modem): never raises."""

    async def read_status_async(self) -> Any: ...


class SimScanner(Protocol):
    """The simulated scanner's control surface (drivers/scanner/simulated.py)."""

    def scan(self, text: str) -> None: ...
    def send_garbage(self) -> None: ...
    def unplug(self) -> None: ...
    def replug(self) -> None: ...


class SimGpio(Protocol):
    """The simulated caretaker box's control surface (drivers/gpio/simulated.py)."""

    pins: Any  # GpioPins: .inputs() gives the fitted power inputs

    def set_power(self, source: PowerSource, present: bool) -> None: ...
    def powered(self, source: PowerSource) -> bool: ...


@dataclass
class SimControls:
    """Sim mode: the simulated scanner to drive, the demo cards the dev dock offers, and
    the simulated caretaker box whose supplies the dock can cut and restore."""

    scanner: SimScanner
    cards: Sequence[Any]  # objects with .label and .number
    gpio: SimGpio | None = None
    network: Any = None  # the simulated network (drivers/network/simulated.py)
    printer: Any = None  # the SimulatedPrinter, whose faults the dock switches

    @property
    def card_keys(self) -> str:
        return "abcdefghijklmnopqstvwyz"[: len(self.cards)]


def failure_of(exc: BaseException) -> co.Failure:
    """A port error (or anything unexpected) as the core's Failure."""
    if isinstance(exc, RegisterError):
        return co.Failure(exc.kind, str(exc), definite=not exc.uncertain, code=getattr(exc, "code", "") or "")
    return co.Failure("error", "Uventet feil i kiosken under samtalen med manntallet.")


class KioskApp(App[int]):
    """The clerk's screen at one check-off table."""

    CSS_PATH = "kiosk.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = LOCKDOWN_BINDINGS
    TITLE = "Valgkiosk"

    def __init__(
        self,
        *,
        register: Register,
        scanner: Scanner,
        settings: co.Settings,
        station_label: str,
        bord: int,
        clock: Clock | None = None,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        sim: SimControls | None = None,
        auto_tick: bool = True,
        on_verdict: Callable[[co.Outcome], None] | None = None,
        journal: JournalLike | None = None,
        service: ServiceNotifier | None = None,
        power: PowerSensors | None = None,
        connectivity: Connectivity | None = None,
        outage_timings: outage.Timings = outage.Timings(),
        indicators: Indicators | None = None,
        chair_pin_hash: str | None = None,
        print_queue: Any = None,
        print_place: Place | None = None,
        print_now: Callable[[], datetime] | None = None,
        print_preview: bool = False,
        modem: ModemLike | None = None,
        modem_interval: float = 5.0,
        clock_report: Callable[[], Any] | None = None,
        ups: Any = None,
    ) -> None:
        super().__init__()
        self.service = service or ServiceNotifier()
        self.theme = "ansi-dark"
        self.register = register
        self.scanner = scanner
        self.clock = clock or SystemClock()
        self.new_request_id = new_request_id
        self.sim = sim
        self.auto_tick = auto_tick
        self.on_verdict = on_verdict
        self.journal: JournalLike = journal if journal is not None else MemoryJournal()
        self.station_label = station_label
        self.bord = bord
        self.notice = ""
        self.dock_open = False
        self.sim_typed = ""
        self.kiosk_info_error = ""
        self.power = power
        #: The stable power states as the sensors last reported them (None: unknown).
        self.power_states: dict[PowerSource, bool | None] = {source: None for source in PowerSource}
        #: What the network probes last said (nothing, until a watchdog feeds it).
        self.network = NetworkLayers.unknown()
        # -- the watchdog and the emergency routine (valgkiosk.station) --
        self.indicators = indicators
        self.station = Station(journal=self.journal, register=register, now=self.clock.now,  # type: ignore[arg-type]
                               monotonic=self.clock.monotonic, connectivity=connectivity, timings=outage_timings,
                               indicators=indicators, power_states=self._power_for_log,
                               chair_pin_hash=chair_pin_hash, on_change=self._station_changed)  # fmt: skip
        self.kiosk_info: KioskInfo | None = None
        #: Everything that decides what the kiosk shows and does (valgkiosk.core.kiosk), stepped by ``feed``.
        self.core = kiosk.initial_state(settings, self.station.state)
        # -- the receipt printer (issue 5): print_queue is a PrintQueue, or None without a printer
        self.printing = Printing(self, print_queue, place=print_place or Place("", "", ""), journal=self._journal,
                                 entries=self.journal.entries, now=print_now or self.clock.now,
                                 sim_printer=sim.printer if sim is not None else None,
                                 preview=print_preview)  # fmt: skip
        #: The mobile-fallback modem, its latest reading (None: not read yet) and the poll interval.
        self.modem = modem
        self.modem_status: ModemStatusLike | None = None
        self.modem_interval = modem_interval
        #: The clock service's report (issue 17): a reader, and its latest answer.
        self.clock_report = clock_report
        self.clock_status: Any = None
        #: The UPS (valgkiosk.power_watch.Ups), its latest reading, and why it shut down.
        self.ups = ups
        self.ups_reading: Any = None
        self.power_shutdown: str | None = None
        #: Jobs that run beside the kiosk for as long as it runs (the office link, issue 15),
        #: and the banner's line about the election office ("" when there is none).
        self.background: list[Callable[[], Any]] = []
        self.office_note: Callable[[], str] = lambda: ""

        # -- issue 14: the voter in progress (for a restart) and this kiosk's check-offs today
        self.voter_marker = VoterInProgress.beside(self.journal)

    # -- life cycle ---------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.write_entry(ent.KioskStarted(self.bord))
        interrupted = self.voter_marker.take()
        if interrupted is not None:
            self.write_entry(ent.VoterInterrupted(interrupted))
        if self.station.chair_pin_hash is None and self.sim is None:
            log.error("no chair PIN configured ([emergency] chair_pin_hash): the routine cannot be started")
            self.notice = NO_PIN
        self.push_screen(self._screen_for(IdleScreen))
        self.run_worker(self._run_scanner(), group="scanner", exit_on_error=False)
        self.run_worker(self._start(), group="register", exit_on_error=False)
        if self.power is not None:
            self.power_states.update(self.power.states())
            self.run_worker(self._run_power(), group="power", exit_on_error=False)
        self._start_station_hardware()
        if self.auto_tick:
            self.set_interval(self.kiosk_state.settings.timings.tick, self.tick)
            if self.station.connectivity is not None:
                self.run_worker(self.station.run_watchdog(), group="watchdog", exit_on_error=False)
        for job in self.background:
            self.run_worker(job(), group="office", exit_on_error=False)
        self.call_after_refresh(self._report_ready)
        self.call_after_refresh(self.printing.offer_kept)

    def _report_ready(self) -> None:
        """The first screen is drawn: tell systemd, and pet its watchdog from this loop from now on."""
        # Everything made so far (modules, screens, widgets) lives as long as the kiosk:
        # taking it out of the collector's sight keeps full collections from stalling a
        # scan's verdict for tens of milliseconds (bench/kiosk_scan.py: p99 81 -> 33 ms).
        gc.freeze()
        self.service.ready(f"bord {self.bord}")
        if self.service.watchdog_interval is not None:
            self.set_interval(self.service.watchdog_interval, self.service.alive)

    async def on_unmount(self) -> None:
        self.service.stopping()
        self._stop_station_hardware()
        self.write_entry(ent.KioskStopped(self.bord))
        try:
            await self.register.aclose()
        except Exception:  # noqa: BLE001 - closing must not fail the shutdown
            log.exception("closing the register client failed")

    async def _run_scanner(self) -> None:
        await self.scanner.run(self._on_scan, self._on_scanner_status)

    async def _run_power(self) -> None:
        assert self.power is not None
        await self.power.run(self._on_power_change)

    async def _start(self) -> None:
        """Ask the register who we are (station name, election) and our count."""
        try:
            info = await self.register.kiosk_info()
        except RegisterError as exc:
            log.warning("kiosk info failed (%s): %s", exc.kind, exc)
        else:
            self.kiosk_info = info
            if info.krets_navn:
                self.station_label = info.krets_navn
            self.printing.learn(info)
            year = self.kiosk_state.settings.election_year
            if info.election_year != year:
                msg = (f"Manntallet gjelder {info.election_title}, men kiosken er satt opp for valget i {year}. "
                       "Varsle IKT-ansvarlig.")  # fmt: skip
                log.error(msg)
                self.set_notice(msg)
            self.render_state()
        await self._counts()

    def action_noop(self) -> None:
        """The locked keys end here."""

    # -- inputs -------------------------------------------------------------------------------
    def _on_scan(self, scan: Scan) -> None:
        self.feed(kiosk.Flow(co.Scanned(scan.text, self.clock.monotonic())))

    def _on_scanner_status(self, status: ScannerStatus) -> None:
        self.dispatch(co.ScannerChanged(status.connected, status.detail))

    def _on_power_change(self, change: PowerChange) -> None:
        """A stable power change (called on this loop by the sensors): log it, show it."""
        self.power_states[change.source] = change.present
        self.write_entry(ent.PowerChanged(change.source.value, change.present, change.previous))
        self._power_notice(change)
        self.check_battery()
        self._show_power_led()
        self.render_state()

    def set_network_status(self, network: NetworkLayers) -> None:
        """What the latest network probe round says, layer by layer (for the caretaker's
        screen). Call on the app's loop; from another thread use ``call_from_thread``."""
        self.network = network
        self.render_state()

    # -- the caretaker box's POWER LED and the modem ---------------------------------------
    def _start_station_hardware(self) -> None:
        """Show the POWER LED for what is known now, and start polling the modem."""
        self._show_power_led()
        if self.modem is not None:
            self.run_worker(self._poll_modem(), group="modem", exit_on_error=False)
        if self.clock_report is not None:
            self.run_worker(self._poll_clock(), group="clock", exit_on_error=False)
        if self.ups is not None:
            self.run_worker(self._poll_ups(), group="ups", exit_on_error=False)

    def _show_power_led(self) -> None:
        """POWER LED: steady on mains, slow blink on battery (unknown shows steady)."""
        if self.indicators is not None:
            self.indicators.set_power(sensing.power_led(self.power_states[PowerSource.MAINS]))

    async def _poll_modem(self) -> None:
        """Read the modem on a worker thread every ``modem_interval`` seconds; the driver
        never raises, and whatever it says is shown on the caretaker's screen."""
        assert self.modem is not None
        while True:
            status = await self.modem.read_status_async()
            if self.modem_status is None or status.state != self.modem_status.state:
                log.info("modem: %s", status.detail)
            self.modem_status = status
            if self.caretaker_open:
                self.render_state()
            await asyncio.sleep(self.modem_interval)

    async def _poll_clock(self) -> None:
        """Read the clock service's report every ``modem_interval`` seconds (issue 17)."""
        assert self.clock_report is not None
        while True:
            self.clock_status = await asyncio.to_thread(self.clock_report)
            if self.caretaker_open:
                self.render_state()
            await asyncio.sleep(self.modem_interval)

    async def _poll_ups(self) -> None:
        """Read the UPS every ``ups.interval`` seconds and act on a low battery (issue 17)."""
        assert self.ups is not None
        while True:
            self.ups_reading = await asyncio.to_thread(self.ups.read)
            self.check_battery()
            if self.caretaker_open:
                self.render_state()
            await asyncio.sleep(self.ups.interval)

    def check_battery(self) -> None:
        """On battery and nearly empty: the last loggbok entry, the clerk told, then the
        power-off request (once). The loggbok brings the kiosk back to the same state."""
        from valgkiosk.core import ups as up

        if self.ups is None or self.power_shutdown is not None:
            return
        now = up.supply(self.power_states[PowerSource.MAINS], self.ups_reading)
        reason = up.shutdown_reason(now, self.ups_reading, self.ups.policy)
        if reason is None:
            return
        self.power_shutdown = reason
        r = self.ups_reading
        self.write_entry(ent.PowerShutdown(reason, r.charge_percent, r.runtime_seconds))
        self.notice = up.SHUTDOWN_NOTICE
        self.render_state()
        self.ups.poweroff()

    def _power_notice(self, change: PowerChange) -> None:
        """Mains lost: the printer has no power, the clerk writes manual valgkort by hand."""
        from valgkiosk.core import ups as up

        if change.source is not PowerSource.MAINS or self.power_shutdown is not None:
            return
        if not change.present:
            self.notice = up.ON_BATTERY_NOTICE
        elif self.notice == up.ON_BATTERY_NOTICE:
            self.notice = ""

    @property
    def clock_trusted(self) -> bool | None:
        """Whether a source vouches for the clock (``None``: no clock service here). A
        receipt printed while this is ``False`` says so (core.timekeeping)."""
        if self.clock_report is None:
            return None
        return bool(self.clock_status is not None and self.clock_status.synchronized)

    def _stop_station_hardware(self) -> None:
        """The kiosk stops: LEDs and buzzer off, pins released."""
        if self.indicators is not None:
            try:
                self.indicators.close()
            except Exception:  # noqa: BLE001 - closing must not fail the shutdown
                log.exception("closing the indicators failed")

    # -- the kiosk core's state, as the screens read it ---------------------------------------
    @property
    def kiosk_state(self) -> co.State:
        """The check-off flow's state."""
        return self.core.checkoff

    @property
    def checked_off_here(self) -> dict[str, datetime]:
        """This kiosk's electronic check-offs today: manntallsnummer -> when (memory only)."""
        return dict(self.core.checked_off_here)

    @property
    def walk(self) -> em.Walk:
        """The voter going through the emergency routine now."""
        return self.core.walk

    @property
    def walk_message(self) -> tuple[str, str]:
        return self.core.walk_message

    @property
    def caretaker_open(self) -> bool:
        return self.core.overlay is kiosk.Overlay.CARETAKER

    @property
    def chair_view(self) -> str | None:
        """``"pin"`` or ``"log"``: the chair's screens, over everything else."""
        return {kiosk.Overlay.PIN: "pin", kiosk.Overlay.LOG: "log"}.get(self.core.overlay)

    @property
    def pin_error(self) -> str:
        return self.core.pin_error

    @property
    def outage_now(self) -> bool:
        """True while the watchdog says the register cannot be reached."""
        return self.core.outage

    @property
    def register_answers(self) -> bool:
        """Whether to offer what needs the register (the search): not during an outage or the routine."""
        return self.core.register_answers

    # -- the caretaker's screen ---------------------------------------------------------------
    def toggle_caretaker(self) -> bool:
        """F6: open the caretaker's screen, or close it when it is up (valgkiosk.core.kiosk's rules:
        refused mid check-off, except during an outage, when the flow is left first)."""
        self.feed(kiosk.OpenCaretaker(self.clock.monotonic()))
        return self.caretaker_open

    def open_caretaker(self) -> bool:
        if not self.caretaker_open:
            self.toggle_caretaker()
        return self.caretaker_open

    def close_caretaker(self) -> None:
        """Back to the clerk's screen for the current phase."""
        if self.caretaker_open:
            self.feed(kiosk.Back(self.clock.monotonic()))

    def tick(self) -> None:
        """Let time pass in the core (timeouts, retries)."""
        self.dispatch(co.Tick(self.clock.monotonic()))

    def send(self, event_type: type, *args: Any, **fields: Any) -> bool:
        """Send a clerk's event stamped with the clock; False if the phase does not take it."""
        return self.dispatch(event_type(*args, at=self.clock.monotonic(), **fields))

    def confirm(self) -> bool:
        """The clerk confirmed: make the request id here (it is kept for every retry)."""
        if not co.accepts(self.kiosk_state, co.Confirm):
            return False
        return self.dispatch(co.Confirm(self.new_request_id(), self.clock.monotonic()))

    def set_notice(self, text: str) -> None:
        self.notice = text
        self.render_state()

    # -- the core -----------------------------------------------------------------------------
    def dispatch(self, event: co.Event) -> bool:
        """Feed one event of the check-off flow; False if the flow does not take it now."""
        try:
            co.step(self.kiosk_state, event)  # pure: only asks whether the phase takes it
        except co.IllegalTransition as exc:
            log.debug("ignored: %s", exc)
            return False
        return self.feed(kiosk.Flow(event))

    def feed(self, event: kiosk.Event) -> bool:
        """Step the kiosk core with ``event``, carry out the effects and show the result;
        False when nothing changed."""
        before = self.core
        state, effects = kiosk.step(before, event)
        if state == before and not effects:
            return False
        self.core = state
        if state.checkoff.phase is not before.checkoff.phase or state.overlay is not before.overlay:
            self.notice = ""
        for effect in effects:
            self._carry_out(effect)
        self.render_state()
        return True

    def render_state(self) -> None:
        """Show the screen the core's routing table picks (switching only when it changes)."""
        self.voter_marker.set(voter_stage(self.kiosk_state.phase, emergency_voter=self.walk.started))
        if not self.is_running or not self.screen_stack:
            return
        self.printing.follow(self.kiosk_state.phase)
        current = self.screen
        where = kiosk.route(self.core)
        if where is kiosk.Screen.BUSY:
            target = type(current) if isinstance(current, KioskScreen) else IdleScreen  # a lookup shows in place
        else:
            target = SCREENS[where]
        if type(current) is target:
            if current.is_mounted:
                current.show(self.kiosk_state)
        elif isinstance(current, KioskScreen):
            self.switch_screen(self._screen_for(target))

    def _screen_for(self, kind: type[KioskScreen]) -> str:
        """One installed instance per screen, made on first use and reused after that:
        composing a fresh screen at every phase change costs a full layout each scan."""
        name = kind.__name__
        if not self.is_screen_installed(name):
            self.install_screen(kind(), name)
        return name

    def _carry_out(self, effect: object) -> None:
        match effect:
            case co.AskLookup(ticket=ticket, manntallsnummer=number):
                self.run_worker(self._lookup(ticket, number), group="register", exit_on_error=False)
            case co.AskCheckoff(request_id=rid, manntallsnummer=number):
                self.run_worker(self._check_off(rid, number), group="register", exit_on_error=False)
            case co.AskSearch(ticket=ticket, query=query):
                self.run_worker(self._search(ticket, query), group="register", exit_on_error=False)
            case co.AskMisregistration(ticket=ticket, manntallsnummer=number, reported_by=who, note=note):
                self.run_worker(self._misregistration(ticket, number, who, note), group="register",
                                exit_on_error=False)  # fmt: skip
            case co.AskCounts():
                self.run_worker(self._counts(), group="register", exit_on_error=False)
            case co.LogEntry(level=level, message=message):
                log.log(_LEVELS.get(level, logging.INFO), message)
            case co.JournalEntry(entry=entry):
                self.write_entry(entry)
            case co.Notice(text=text):
                self.notice = text
            case co.ShowVerdict(outcome=outcome):
                if self.on_verdict is not None:
                    self.on_verdict(outcome)
            case co.ClearPersonalData():
                pass  # the screens show only the state, which no longer holds the data
            case co.PrintManualValgkort(voter=voter, reason=reason):
                self.run_worker(self._manual_valgkort(voter, reason), group="printer-data", exit_on_error=False)
            case kiosk.RecordVote(manntallsnummer=number, manual_valgkort=manual, checked_off_at=earlier):
                try:
                    self.station.record_vote(number, manual_valgkort=manual, checked_off_at=earlier)
                except StationRefused as exc:
                    self.feed(kiosk.VoteAnswered(False, str(exc)))
                else:
                    self.feed(kiosk.VoteAnswered(True, f"✔ Beredskapsstemme nr. {self.station.state.vote_count} er "
                                                       "talt. Klar for neste velger."))  # fmt: skip
            case kiosk.PrintEmergencyValgkort(name=name, born=born, address=address):
                card = receipts.ManualValgkort(self.printing.station(), self.clock.now(),
                                               receipts.ValgkortReason.EMERGENCY, name, born, address)  # fmt: skip
                self.print_receipt(receipts.manual_valgkort(card, self.printing.columns),
                                   journal_kind="manual_valgkort",
                                   journal_data={"reason": "emergency", "manntallsnummer": False})  # fmt: skip

    async def _manual_valgkort(self, voter: Voter, reason: receipts.ValgkortReason) -> None:
        """Ask the register for the address (lookups carry none), then print the card; if the
        register cannot say, the card says so and the clerk writes the address by hand."""
        try:
            address = await self.register.voter_address(voter.manntallsnummer)
        except Exception as exc:  # noqa: BLE001 - the card is printed all the same
            log.info("no address for the manual valgkort: %s", exc)
            address = ""
        self.printing.print_manual_valgkort(replace(voter, adresse=address), reason)

    def write_entry(self, entry: ent.LoggbokEntry) -> None:
        """Write one typed entry to the loggbok (durable before this returns)."""
        kind, data = ent.record(entry)
        self._journal(kind, data)

    def _journal(self, kind: str, data: Mapping[str, Any]) -> None:
        """The loggbok by kind and data, for the print queue's kept jobs (valgkiosk.ui.printing)."""
        kind, data = ent.record(ent.parse(kind, data))  # the typed entry decides what is written
        try:
            self.journal.append(kind, data, at=self.clock.now())
        except OSError:
            log.exception("the loggbok could not be written")
            self.notice = JOURNAL_FAILED

    # -- the receipt printer (issue 5) ---------------------------------------------------------
    def print_receipt(self, receipt: Receipt, *, journal_kind: str | None = None,
                      journal_data: Mapping[str, Any] | None = None) -> None:
        """Queue ``receipt`` and print it off the UI loop; once the printer took it, write the
        loggbok entry ``journal_kind`` with ``journal_data`` (no names). A fault is shown to
        the clerk with what to do, logged as ``printer_fault``, and the job is kept until the
        clerk prints it again or drops it (valgkiosk.ui.printing)."""
        self.printing.print_receipt(receipt, journal_kind=journal_kind, journal_data=journal_data)

    # -- effects through the Register port ----------------------------------------------------
    async def _lookup(self, ticket: int, number: str) -> None:
        try:
            status = await self.register.lookup(number)
        except Exception as exc:  # noqa: BLE001 - every failure goes to the core
            self.dispatch(co.LookupFailed(ticket, failure_of(exc), self.clock.monotonic()))
        else:
            self.dispatch(co.LookupAnswered(ticket, status, self.clock.monotonic()))

    async def _check_off(self, request_id: str, number: str) -> None:
        try:
            status = await self.register.check_off(request_id, number)
        except Exception as exc:  # noqa: BLE001
            self.dispatch(co.CheckoffFailed(request_id, failure_of(exc), self.clock.monotonic()))
        else:
            self.dispatch(co.CheckoffAnswered(request_id, status, self.clock.monotonic()))

    async def _search(self, ticket: int, query: Any) -> None:
        try:
            result = await self.register.search(query)
        except Exception as exc:  # noqa: BLE001
            self.dispatch(co.SearchFailed(ticket, failure_of(exc), self.clock.monotonic()))
        else:
            self.dispatch(co.SearchAnswered(ticket, result, self.clock.monotonic()))

    async def _misregistration(self, ticket: int, number: str, who: str, note: str) -> None:
        try:
            m = await self.register.report_misregistration(number, reported_by=who, note=note)
        except Exception as exc:  # noqa: BLE001
            self.dispatch(co.MisregistrationFailed(ticket, failure_of(exc), self.clock.monotonic()))
        else:
            self.dispatch(co.MisregistrationAnswered(ticket, m, self.clock.monotonic()))

    async def _counts(self) -> None:
        try:
            counts = await self.register.counts()
        except Exception as exc:  # noqa: BLE001
            log.info("counts unavailable: %s", exc)
        else:
            self.dispatch(co.CountsAnswered(counts.checkoffs))

    # -- the watchdog, the alarm and the emergency routine ---------------------------------------
    def _power_for_log(self) -> dict[str, bool | None]:
        """The power sense states for an outage entry (None: not fitted or not known)."""
        return {source.value: present for source, present in self.power_states.items()}

    def _station_changed(self) -> None:
        """The station's state changed (probe round, alarm, routine): the core learns it."""
        probe = self.station.last_probe
        if probe is not None:
            self.network = NetworkLayers.from_results(probe.layers)
        if not self.feed(kiosk.StationUpdated(self.station.state, self.station.network)):
            self.render_state()  # the caretaker's rows follow the probes

    def banner_view(self) -> tuple[str, str] | None:
        """What the banner on every screen says now (None: nothing)."""
        view = ui_em.banner(self.station)
        note = self.office_note() if view is not None else ""
        return view if view is None or not note else (view[0], f"{view[1]}\n{note}")

    def station_key(self, key: str) -> bool:
        """F3 acknowledges the alarm, F5 asks for the chair's PIN, F11 shows the loggbok."""
        if key == ACK_KEY:
            try:
                if self.station.acknowledge_alarm():
                    self.set_notice("Alarmen er kvittert. Si fra til stemmestyrets leder.")
            except StationRefused as exc:
                self.set_notice(str(exc))
            return True
        if key == EMERGENCY_KEY:
            self.open_chair_view("pin")
            return True
        if key == LOG_KEY:
            self.open_chair_view("log")
            return True
        return False

    def open_chair_view(self, view: str) -> bool:
        """The chair's PIN or log screen (valgkiosk.core.kiosk's rules: refused mid check-off or
        mid voter, except during an outage, when the flow is left first)."""
        overlay = kiosk.Overlay.PIN if view == "pin" else kiosk.Overlay.LOG
        self.feed(kiosk.OpenChair(overlay, self.clock.monotonic()))
        return self.core.overlay is overlay

    def close_chair_view(self) -> None:
        if self.chair_view is not None:
            self.feed(kiosk.Back(self.clock.monotonic()))

    def submit_chair_pin(self, pin: str) -> None:
        """The chair's PIN: starts the routine, or ends it (and the upload follows)."""
        answer = self.station.check_pin(pin)
        if not answer.ok:
            self.feed(kiosk.PinAnswered(False, answer.message))
            return
        ending = self.station.state.emergency
        interrupted = self.walk.started  # a voter waited under the chair's screen
        try:
            if ending:
                self.station.end_emergency()
            else:
                self.station.start_emergency()
        except StationRefused as exc:
            self.feed(kiosk.PinAnswered(False, str(exc)))
            return
        self.feed(kiosk.PinAnswered(True))
        if ending:
            self.notice = "Beredskapsrutinen er avsluttet. Elektronisk avkrysning fortsetter."
            if interrupted:
                self.notice += " Velgeren som var i gang, fikk ingen beredskapsstemme talt."
            if self.station.state.pending:
                self.run_worker(self._upload_after_end(), group="register", exit_on_error=False)
        self.render_state()

    async def _upload_after_end(self) -> None:
        count = len(self.station.state.pending)
        if await self.station.upload_pending():
            self.set_notice(f"Beredskapsrutinen er avsluttet, og {count} beredskapsstemmer er overført til "
                            "manntallet. Elektronisk avkrysning fortsetter.")  # fmt: skip
            await self._counts()

    def emergency_without_valgkort(self) -> None:
        self.feed(kiosk.WalkWithoutValgkort())

    def emergency_next(self) -> None:
        """The current step is done; at the last step the vote is counted (durably)."""
        self.feed(kiosk.WalkNext())

    def emergency_cancel(self) -> None:
        """Esc: this voter leaves the routine without a counted vote."""
        self.feed(kiosk.Back(self.clock.monotonic()))

    def emergency_manual_valgkort(self, name: str, born: str, address: str) -> None:
        """Step 2: print the manual valgkort typed from the voter's ID, then on to step 3."""
        problem = ("Skriv inn velgerens fulle navn." if not name.strip() else
                   birth_date_problem(born, today=self.clock.now().date()) or
                   ("Skriv inn velgerens adresse." if not address.strip() else ""))  # fmt: skip
        self.feed(kiosk.ManualValgkortTyped(name, parse_birth_date(born), address, problem))

    # -- sim mode -----------------------------------------------------------------------------
    def handle_sim_key(self, event: events.Key) -> bool:
        """Sim mode only: F12 dev dock and its keys, digits + Enter as a scan, F7/F8/F9 cut
        and restore the simulated router, SIMULA and mains power, F10 quits."""
        sim = self.sim
        if sim is None:
            return False
        key = event.key
        if key == "f12":
            self.dock_open = not self.dock_open
            self.render_state()
            return True
        if key == "f10":
            self.exit(0)
            return True
        if self.dock_open and event.character and event.character in sim.card_keys and not self.sim_typed:
            sim.scanner.scan(sim.cards[sim.card_keys.index(event.character)].number)
            return True
        if self.dock_open and self.printing.handle_sim_key(key):
            return True
        if self.dock_open and key in ("x", "u", "r"):
            {"x": sim.scanner.send_garbage, "u": sim.scanner.unplug, "r": sim.scanner.replug}[key]()
            return True
        if key in SIM_POWER_KEYS and sim.gpio is not None:
            source = SIM_POWER_KEYS[key][0]
            if source in sim.gpio.pins.inputs():
                powered = not sim.gpio.powered(source)
                sim.gpio.set_power(source, powered)
                if source is PowerSource.ROUTER and sim.network is not None:
                    # a router without power: the uplink's carrier goes with it
                    (sim.network.restore_link if powered else sim.network.cut_link)()
                self.render_state()  # the dock shows the supply at once, the sensors after the stable time
            return True
        if self.dock_open and key == "n" and sim.network is not None:
            net = sim.network
            down = Layer.TCP in net.failing()
            (net.restore_layer if down else net.fail_layer)(Layer.TCP)
            self.render_state()
            return True
        if event.character is not None and event.character.isdigit():
            self.sim_typed += event.character
            self.render_state()
            return True
        if key == "backspace" and self.sim_typed:
            self.sim_typed = self.sim_typed[:-1]
            self.render_state()
            return True
        if key == "enter" and self.sim_typed:
            text, self.sim_typed = self.sim_typed, ""
            sim.scanner.scan(text)
            self.render_state()
            return True
        return False


class ConfigErrorApp(App[int]):
    """Shown instead of the kiosk when the configuration is bad: says why, and stays."""

    CSS_PATH = "kiosk.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = LOCKDOWN_BINDINGS
    TITLE = "Valgkiosk"

    def __init__(self, path: str, problems: list[str], *, allow_quit: bool = False) -> None:
        super().__init__()
        self.theme = "ansi-dark"
        self.path, self.problems, self.allow_quit = path, problems, allow_quit

    def on_mount(self) -> None:
        self.push_screen(ConfigErrorScreen(self.path, self.problems))

    def action_noop(self) -> None:
        pass

    def on_key(self, event: events.Key) -> None:
        if self.allow_quit and event.key == "f10":
            self.exit(2)
