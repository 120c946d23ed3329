"""The kiosk's service shell, outside Textual: the ports, the ticks and the workers around
the pure kiosk core.

:class:`KioskShell` collects inputs (scans, scanner and power changes, probe rounds, the
clerk's requests), stamps them with the injected clock, steps
:func:`valgkiosk.core.kiosk.step`, carries out the effects through the ports (register
calls run as workers and come back as events; the loggbok is written before the step
returns) and publishes what to show as an immutable :class:`KioskView`. It imports no
Textual: the app (valgkiosk.ui.app) renders the view and hands the clerk's requests in,
and the shell runs as well under a plain asyncio loop (tests/kiosk/test_shell.py).

Workers are started through ``spawn`` (a coroutine and a group name) and run as the
shell's own asyncio tasks (:class:`Tasks`), under the app as on their own: the test rig
waits for their groups, the training kiosk stops the watchdog group, and ``stop`` cancels
them all.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from valgkiosk.core import checkoff as co
from valgkiosk.core import emergency as em
from valgkiosk.core import entries as ent
from valgkiosk.core import kiosk
from valgkiosk.core import outage
from valgkiosk.core import peopletime
from valgkiosk.core.outage import Layer
from valgkiosk.core import receipts
from valgkiosk.core import sensing
from valgkiosk.core import views
from valgkiosk.inprogress import VoterInProgress
from valgkiosk.inprogress import stage as voter_stage
from valgkiosk.journal import MemoryJournal
from valgkiosk.ports.clock import Clock, SystemClock
from valgkiosk.ports.connectivity import Connectivity
from valgkiosk.ports.indicators import Indicators
from valgkiosk.ports.power import PowerChange, PowerSensors, PowerSource
from valgkiosk.ports.printer import Receipt
from valgkiosk.ports.register import KioskInfo, Register, RegisterError, Voter
from valgkiosk.ports.scanner import Scan, Scanner, ScannerStatus
from valgkiosk.service import ServiceNotifier
from valgkiosk.station import JOURNAL_FAILED, Station, StationRefused

log = logging.getLogger("valgkiosk.kiosk")

_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

NO_PIN = ("Ingen PIN-kode for stemmestyrets leder er satt opp: beredskapsrutinen kan ikke startes. "
          "Varsle IKT-ansvarlig.")

Spawn = Callable[[Coroutine[Any, Any, Any], str], Any]


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


class PrintingLike(Protocol):
    """The receipt printer as the shell uses it (valgkiosk.ui.printing.Printing)."""

    @property
    def columns(self) -> int: ...

    def station(self) -> receipts.StationInfo: ...
    def learn(self, info: KioskInfo) -> None: ...
    def print_manual_valgkort(self, voter: Voter, reason: receipts.ValgkortReason) -> None: ...
    def print_receipt(self, receipt: Receipt, *, journal_kind: str | None = None,
                      journal_data: Mapping[str, Any] | None = None) -> None: ...
    def status_line(self) -> str: ...


class LayerResultLike(Protocol):
    """One layer of one probe round (valgkiosk.ports.connectivity.LayerResult fits)."""

    @property
    def layer(self) -> Layer: ...
    @property
    def ok(self) -> bool: ...
    @property
    def failed(self) -> bool: ...
    @property
    def detail(self) -> str: ...


@dataclass(frozen=True, slots=True)
class NetworkLayers:
    """What the latest probe round says about each network layer: ``True`` works,
    ``False`` fails, missing or ``None`` unknown (not probed, or not tried because a
    lower layer failed). ``details`` holds a short Norwegian note per layer."""

    layers: Mapping[Layer, bool | None] = field(default_factory=dict)
    details: Mapping[Layer, str] = field(default_factory=dict)

    @classmethod
    def unknown(cls) -> NetworkLayers:
        """No probe data (the state until the watchdog reports)."""
        return cls()

    @classmethod
    def after_round(cls, failed: Layer | None) -> NetworkLayers:
        """From the detector's view of a round: every layer below ``failed`` works,
        ``failed`` fails, the ones above were not tried. ``None``: every layer works."""
        layers: dict[Layer, bool | None] = {}
        for layer in Layer:
            if failed is None or layer < failed:
                layers[layer] = True
            elif layer is failed:
                layers[layer] = False
        return cls(layers)

    @classmethod
    def from_results(cls, results: Iterable[LayerResultLike]) -> NetworkLayers:
        """From one round's per-layer results (ok, failed, or skipped: unknown)."""
        layers: dict[Layer, bool | None] = {}
        details: dict[Layer, str] = {}
        for r in results:
            layers[r.layer] = True if r.ok else False if r.failed else None
            if r.detail:
                details[r.layer] = r.detail
        return cls(layers, details)

    def state(self, layer: Layer) -> bool | None:
        return self.layers.get(layer)

    @property
    def first_failed(self) -> Layer | None:
        """The lowest failing layer (``None``: none failing, or nothing known)."""
        return next((layer for layer in Layer if self.layers.get(layer) is False), None)


@dataclass(frozen=True, slots=True)
class LoggbokView:
    """What the chair's loggbok screen (F11) shows, made by the shell from the loggbok."""

    intact: bool  #: the chain verifies
    chain: str  #: the line about the chain (entries, head, problems)
    outages: str  #: today's outages, one per line ("Ingen." when none)
    timeline: str  #: the day as one row, with the hours below
    entries: str  #: the latest entries, newest first, in sentences


@dataclass(frozen=True)
class KioskView:
    """What the kiosk shows now, as the shell last published it: the core's state (itself
    frozen), where the routing table sends the clerk, and the shell's own facts (the
    station, power, network and the caretaker's readings). The screens read this."""

    core: kiosk.KioskState
    screen: kiosk.Screen
    notice: str
    station_label: str
    bord: int
    station: em.StationState
    network: NetworkLayers
    power: tuple[tuple[PowerSource, bool | None], ...]
    modem_status: Any = None  #: the modem's latest reading (None: not read yet)
    clock_status: Any = None  #: the clock service's latest report
    ups_reading: Any = None  #: the UPS's latest reading
    has_modem: bool = False
    has_clock: bool = False
    has_ups: bool = False
    power_shutdown: str | None = None
    config_warnings: tuple[str, ...] = ()
    banner: tuple[str, str] | None = None  #: the alarm / routine / loggbok line: (tone, text)
    printer_line: str = ""  #: the frame's printer line ("" when nothing prints or waits)
    loggbok: LoggbokView | None = None  #: the chair's loggbok, while its screen is up
    mark: str = ""  #: øvingsmodus' mark on every screen ("" on a real kiosk)
    modem_note: str = ""  #: the last text message's result, under the modem's row
    sim: Any = None  #: sim mode's dev dock and typed scan (valgkiosk.ui.app.SimView), None otherwise

    @property
    def phase(self) -> co.Phase:
        return self.core.checkoff.phase

    @property
    def checkoff(self) -> co.State:
        return self.core.checkoff

    @property
    def power_states(self) -> Mapping[PowerSource, bool | None]:
        return dict(self.power)

    @property
    def register_answers(self) -> bool:
        """Whether to offer what needs the register (the search)."""
        return self.core.register_answers

    @property
    def walk(self) -> em.Walk:
        return self.core.walk

    @property
    def walk_message(self) -> tuple[str, str]:
        return self.core.walk_message

    @property
    def pin_error(self) -> str:
        return self.core.pin_error


@dataclass
class Tasks:
    """The shell's worker runner: asyncio tasks by group. A task that fails is logged,
    never raised into the loop."""

    running: dict[asyncio.Task[Any], str] = field(default_factory=dict)

    def spawn(self, job: Coroutine[Any, Any, Any], group: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(job)
        self.running[task] = group
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.running.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("a worker failed", exc_info=task.exception())

    def pending(self, groups: frozenset[str] | None = None) -> list[asyncio.Task[Any]]:
        return [t for t, g in self.running.items() if groups is None or g in groups]

    async def settle(self, groups: frozenset[str] = frozenset({"register", "printer", "printer-data"})) -> None:
        """Wait until no task of ``groups`` runs (tasks they start included)."""
        while pending := self.pending(groups):
            await asyncio.gather(*pending, return_exceptions=True)

    def cancel(self, group: str | None = None) -> None:
        for task in self.pending(None if group is None else frozenset({group})):
            task.cancel()


def failure_of(exc: BaseException) -> co.Failure:
    """A port error (or anything unexpected) as the core's Failure."""
    if isinstance(exc, RegisterError):
        return co.Failure(exc.kind, str(exc), definite=not exc.uncertain, code=getattr(exc, "code", "") or "")
    return co.Failure("error", "Uventet feil i kiosken under samtalen med manntallet.")


class KioskShell:
    """The service shell of one check-off table: owns the ports and the kiosk core's state."""

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
        auto_tick: bool = True,
        on_verdict: Callable[[co.Outcome], None] | None = None,
        journal: JournalLike | None = None,
        service: ServiceNotifier | None = None,
        power: PowerSensors | None = None,
        connectivity: Connectivity | None = None,
        outage_timings: outage.Timings = outage.Timings(),
        indicators: Indicators | None = None,
        chair_pin_hash: str | None = None,
        modem: ModemLike | None = None,
        modem_interval: float = 5.0,
        clock_report: Callable[[], Any] | None = None,
        ups: Any = None,
        spawn: Spawn | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.tasks = Tasks()
        self.spawn: Spawn = spawn or self.tasks.spawn
        #: Called after every change the screen may show (the app renders the view).
        self.on_change: Callable[[], None] = on_change or (lambda: None)
        #: The hooks the events and the loggbok go through (the training kiosk's scoring listens there).
        self.feed_hook: Callable[[kiosk.Event], bool] = self.step
        self.journal_hook: Callable[[str, Mapping[str, Any]], None] = self.write_record
        self.start_job: Callable[[], Coroutine[Any, Any, None]] = self.learn_who_we_are
        self.service = service or ServiceNotifier()
        self.register = register
        self.scanner = scanner
        self.clock = clock or SystemClock()
        self.new_request_id = new_request_id
        self.auto_tick = auto_tick
        self.on_verdict = on_verdict
        self.journal: JournalLike = journal if journal is not None else MemoryJournal()
        self.station_label = station_label
        self.bord = bord
        self.notice = ""
        self.kiosk_info_error = ""
        self.power = power
        #: The stable power states as the sensors last reported them (None: unknown).
        self.power_states: dict[PowerSource, bool | None] = {source: None for source in PowerSource}
        #: What the network probes last said (nothing, until a watchdog feeds it).
        self.network = NetworkLayers.unknown()
        self.indicators = indicators
        self.station = Station(journal=self.journal, register=register, now=self.clock.now,  # type: ignore[arg-type]
                               monotonic=self.clock.monotonic, connectivity=connectivity, timings=outage_timings,
                               indicators=indicators, power_states=self._power_for_log,
                               chair_pin_hash=chair_pin_hash, on_change=self._station_changed)  # fmt: skip
        self.kiosk_info: KioskInfo | None = None
        #: Everything that decides what the kiosk shows and does (valgkiosk.core.kiosk), stepped by ``feed``.
        self.core = kiosk.initial_state(settings, self.station.state)
        #: The receipt printer (the app's Printing), None until it is attached.
        self.printing: PrintingLike | None = None
        self.modem = modem
        self.modem_status: ModemStatusLike | None = None
        self.modem_interval = modem_interval
        self.clock_report = clock_report
        self.clock_status: Any = None
        self.ups = ups
        self.ups_reading: Any = None
        self.power_shutdown: str | None = None
        #: Jobs that run beside the kiosk for as long as it runs (the office link, issue 15),
        #: and the banner's line about the election office ("" when there is none).
        self.background: list[Callable[[], Any]] = []
        self.office_note: Callable[[], str] = lambda: ""
        #: What the configuration warns about (the caretaker screen shows it).
        self.config_warnings: list[str] = []
        #: øvingsmodus' mark on every screen (the training kiosk sets it), the modem row's
        #: note (the office link's last text message, issue 15), sim mode's dock (the app's).
        self.mark = ""
        self.modem_note: Callable[[], str] = lambda: ""
        self.sim_view: Callable[[], Any] = lambda: None
        self.voter_marker = VoterInProgress.beside(self.journal)
        self.view = self._make_view()

    # -- life cycle ---------------------------------------------------------------------------
    def start(self, *, warn_no_pin: bool = True) -> None:
        """The kiosk starts (on the running loop): the loggbok says so, the workers start."""
        self.begin(warn_no_pin=warn_no_pin)
        self.start_workers()

    def begin(self, *, warn_no_pin: bool = True) -> None:
        """The loggbok says the kiosk started (and which voter a restart interrupted)."""
        self.write_entry(ent.KioskStarted(self.bord))
        interrupted = self.voter_marker.take()
        if interrupted is not None:
            self.write_entry(ent.VoterInterrupted(interrupted))
        if self.station.chair_pin_hash is None and warn_no_pin:
            log.error("no chair PIN configured ([emergency] chair_pin_hash): the routine cannot be started")
            self.notice = NO_PIN

    def start_workers(self) -> None:
        """The scanner, the register's first answers, the sensors, polls, ticks, watchdog, office."""
        self.spawn(self._run_scanner(), "scanner")
        self.spawn(self.start_job(), "register")
        if self.power is not None:
            self.power_states.update(self.power.states())
            self.spawn(self._run_power(), "power")
        self._start_station_hardware()
        if self.auto_tick:
            self.spawn(self._ticker(), "tick")
            if self.station.connectivity is not None:
                self.spawn(self.station.run_watchdog(), "watchdog")
        for job in self.background:
            self.spawn(job(), "office")

    def ready(self) -> None:
        """The first screen is drawn: tell systemd, and pet its watchdog from now on."""
        # Everything made so far (modules, screens, widgets) lives as long as the kiosk:
        # taking it out of the collector's sight keeps full collections from stalling a
        # scan's verdict for tens of milliseconds (bench/kiosk_scan.py: p99 81 -> 33 ms).
        gc.freeze()
        self.service.ready(f"bord {self.bord}")
        if self.service.watchdog_interval is not None:
            self.spawn(self._pet_watchdog(self.service.watchdog_interval), "service")

    async def stop(self) -> None:
        """The kiosk stops: the workers end, LEDs and buzzer off, the loggbok says so."""
        self.service.stopping()
        self.tasks.cancel()
        self._stop_station_hardware()
        self.write_entry(ent.KioskStopped(self.bord))
        try:
            await self.register.aclose()
        except Exception:  # noqa: BLE001 - closing must not fail the shutdown
            log.exception("closing the register client failed")

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(self.core.checkoff.settings.timings.tick)
            self.tick()

    async def _pet_watchdog(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.service.alive()

    async def _run_scanner(self) -> None:
        await self.scanner.run(self.on_scan, self.on_scanner_status)

    async def _run_power(self) -> None:
        assert self.power is not None
        await self.power.run(self.on_power_change)

    async def learn_who_we_are(self) -> None:
        """Ask the register who we are (station name, election) and our count."""
        try:
            info = await self.register.kiosk_info()
        except RegisterError as exc:
            log.warning("kiosk info failed (%s): %s", exc.kind, exc)
        else:
            self.kiosk_info = info
            if info.krets_navn:
                self.station_label = info.krets_navn
            if self.printing is not None:
                self.printing.learn(info)
            year = self.core.checkoff.settings.election_year
            if info.election_year != year:
                msg = (f"Manntallet gjelder {info.election_title}, men kiosken er satt opp for valget i {year}. "
                       "Varsle IKT-ansvarlig.")  # fmt: skip
                log.error(msg)
                self.set_notice(msg)
            self.publish()
        await self._counts()

    # -- inputs -------------------------------------------------------------------------------
    def on_scan(self, scan: Scan) -> None:
        self.feed(kiosk.Flow(co.Scanned(scan.text, self.clock.monotonic())))

    def on_scanner_status(self, status: ScannerStatus) -> None:
        self.dispatch(co.ScannerChanged(status.connected, status.detail))

    def on_power_change(self, change: PowerChange) -> None:
        """A stable power change (called on this loop by the sensors): log it, show it."""
        self.power_states[change.source] = change.present
        self.write_entry(ent.PowerChanged(change.source.value, change.present, change.previous))
        self._power_notice(change)
        self.check_battery()
        self._show_power_led()
        self.publish()

    def set_network_status(self, network: NetworkLayers) -> None:
        """What the latest network probe round says, layer by layer (for the caretaker's screen)."""
        self.network = network
        self.publish()

    # -- the caretaker box's POWER LED, the modem, the clock service, the UPS ------------------
    def _start_station_hardware(self) -> None:
        self._show_power_led()
        if self.modem is not None:
            self.spawn(self._poll_modem(), "modem")
        if self.clock_report is not None:
            self.spawn(self._poll_clock(), "clock")
        if self.ups is not None:
            self.spawn(self._poll_ups(), "ups")

    def _show_power_led(self) -> None:
        """POWER LED: steady on mains, slow blink on battery (unknown shows steady)."""
        if self.indicators is not None:
            self.indicators.set_power(sensing.power_led(self.power_states[PowerSource.MAINS]))

    async def _poll_modem(self) -> None:
        """Read the modem every ``modem_interval`` seconds; the driver never raises, and
        whatever it says is shown on the caretaker's screen."""
        assert self.modem is not None
        while True:
            status = await self.modem.read_status_async()
            if self.modem_status is None or status.state != self.modem_status.state:
                log.info("modem: %s", status.detail)
            self.modem_status = status
            if self.caretaker_open:
                self.publish()
            await asyncio.sleep(self.modem_interval)

    async def _poll_clock(self) -> None:
        """Read the clock service's report every ``modem_interval`` seconds (issue 17)."""
        assert self.clock_report is not None
        while True:
            self.clock_status = await asyncio.to_thread(self.clock_report)
            if self.caretaker_open:
                self.publish()
            await asyncio.sleep(self.modem_interval)

    async def _poll_ups(self) -> None:
        """Read the UPS every ``ups.interval`` seconds and act on a low battery (issue 17)."""
        assert self.ups is not None
        while True:
            self.ups_reading = await asyncio.to_thread(self.ups.read)
            self.check_battery()
            if self.caretaker_open:
                self.publish()
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
        self.publish()
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
        """Whether a source vouches for the clock (``None``: no clock service here)."""
        if self.clock_report is None:
            return None
        return bool(self.clock_status is not None and self.clock_status.synchronized)

    def _stop_station_hardware(self) -> None:
        if self.indicators is not None:
            try:
                self.indicators.close()
            except Exception:  # noqa: BLE001 - closing must not fail the shutdown
                log.exception("closing the indicators failed")

    # -- the core's state ---------------------------------------------------------------------
    @property
    def kiosk_state(self) -> co.State:
        return self.core.checkoff

    @property
    def walk(self) -> em.Walk:
        return self.core.walk

    @property
    def caretaker_open(self) -> bool:
        return self.core.overlay is kiosk.Overlay.CARETAKER

    @property
    def chair_view(self) -> str | None:
        """``"pin"`` or ``"log"``: the chair's screens, over everything else."""
        return {kiosk.Overlay.PIN: "pin", kiosk.Overlay.LOG: "log"}.get(self.core.overlay)

    # -- the clerk's requests -----------------------------------------------------------------
    def toggle_caretaker(self) -> bool:
        """F6: open the caretaker's screen, or close it (core.kiosk's rules)."""
        self.feed(kiosk.OpenCaretaker(self.clock.monotonic()))
        return self.caretaker_open

    def back(self) -> None:
        """Esc: leave the overlay or the phase (core.kiosk's rules)."""
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
        self.publish()

    def acknowledge_alarm(self) -> None:
        """F3: the alarm is acknowledged (the buzzer stops)."""
        try:
            if self.station.acknowledge_alarm():
                self.set_notice("Alarmen er kvittert. Si fra til stemmestyrets leder.")
        except StationRefused as exc:
            self.set_notice(str(exc))

    def open_chair_view(self, view: str) -> bool:
        """The chair's PIN or log screen (core.kiosk's rules: refused mid check-off or mid
        voter, except during an outage, when the flow is left first)."""
        overlay = kiosk.Overlay.PIN if view == "pin" else kiosk.Overlay.LOG
        self.feed(kiosk.OpenChair(overlay, self.clock.monotonic()))
        return self.core.overlay is overlay

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
                self.spawn(self._upload_after_end(), "register")
        self.publish()

    async def _upload_after_end(self) -> None:
        count = len(self.station.state.pending)
        if await self.station.upload_pending():
            votes = "1 beredskapsstemme" if count == 1 else f"{count} beredskapsstemmer"
            self.set_notice(f"Beredskapsrutinen er avsluttet, og {votes} er overført til "
                            "manntallet. Elektronisk avkrysning fortsetter.")  # fmt: skip
            await self._counts()

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
        """Step the kiosk core with ``event`` (through ``feed_hook``); False when nothing changed."""
        return self.feed_hook(event)

    def step(self, event: kiosk.Event) -> bool:
        """Step the kiosk core with ``event``, carry out the effects and publish the result;
        False when nothing changed."""
        before = self.core
        state, effects = kiosk.step(before, event)
        if state == before and not effects:
            return False
        self.core = state
        if state.checkoff.phase is not before.checkoff.phase or state.overlay is not before.overlay:
            self.notice = ""
        for effect in effects:
            self.carry_out(effect)
        self.publish()
        return True

    def publish(self) -> None:
        """A new view of the state, the voter in progress kept for a restart, and the app told."""
        self.voter_marker.set(voter_stage(self.kiosk_state.phase, emergency_voter=self.walk.started))
        self.view = self._make_view()
        self.on_change()

    def _make_view(self) -> KioskView:
        shown = views.banner(self.station.state, space_warning=getattr(self.station.journal, "warning", ""),
                             upload_error=self.station.upload_error)  # fmt: skip
        note = self.office_note() if shown is not None else ""
        if shown is not None and note:
            shown = (shown[0], f"{shown[1]}\n{note}")
        return KioskView(self.core, kiosk.route(self.core), self.notice, self.station_label, self.bord,
                         self.station.state, self.network, tuple(self.power_states.items()),
                         modem_status=self.modem_status, clock_status=self.clock_status,
                         ups_reading=self.ups_reading, has_modem=self.modem is not None,
                         has_clock=self.clock_report is not None, has_ups=self.ups is not None,
                         power_shutdown=self.power_shutdown, config_warnings=tuple(self.config_warnings),
                         banner=shown, printer_line=self.printing.status_line() if self.printing else "",
                         loggbok=self._loggbok_view() if self.core.overlay is kiosk.Overlay.LOG else None,
                         mark=self.mark, modem_note=self.modem_note() if self.modem is not None else "",
                         sim=self.sim_view())  # fmt: skip

    #: How many of the latest loggbok entries the chair's screen lists.
    LOGGBOK_ENTRIES_SHOWN = 12

    def _loggbok_view(self) -> LoggbokView:
        """The chair's loggbok: the chain, today's outages as a list and a timeline, the latest entries."""
        from valgkiosk.core import sentences

        journal = self.station.journal
        entries = list(journal.entries())
        problems = journal.verify()
        head = f"Kjedehode {journal.head().short()}…" if hasattr(journal, "head") else ""
        if problems:
            chain = ("✖  Loggboken er ikke intakt: " + " ".join(p.message for p in problems[:2])
                     + (f"\n   {head}" if head else ""))  # fmt: skip
        else:
            chain = f"✔  {len(entries)} føringer, kjeden er intakt. {head}".rstrip()
        now = self.clock.now()
        today = views.outages_today(self.station.state.outages, now)
        start = views.day_start([e.at for e in entries], now)
        latest = [sentences.sentence(e, peopletime.local_date(now))
                  for e in reversed(entries[-self.LOGGBOK_ENTRIES_SHOWN:])]  # fmt: skip
        return LoggbokView(not problems, chain, views.outage_rows(today, now), views.timeline(today, start, now, width=64),
                           "\n".join(latest) or "Ingen føringer.")  # fmt: skip

    def carry_out(self, effect: object) -> None:
        """One effect of a step, through the ports."""
        match effect:
            case co.AskLookup(ticket=ticket, manntallsnummer=number):
                self.spawn(self._lookup(ticket, number), "register")
            case co.AskCheckoff(request_id=rid, manntallsnummer=number):
                self.spawn(self._check_off(rid, number), "register")
            case co.AskSearch(ticket=ticket, query=query):
                self.spawn(self._search(ticket, query), "register")
            case co.AskMisregistration(ticket=ticket, manntallsnummer=number, reported_by=who, note=note):
                self.spawn(self._misregistration(ticket, number, who, note), "register")
            case co.AskCounts():
                self.spawn(self._counts(), "register")
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
                pass  # the view shows only the state, which no longer holds the data
            case co.PrintManualValgkort(voter=voter, reason=reason):
                self.spawn(self._manual_valgkort(voter, reason), "printer-data")
            case kiosk.RecordVote(manntallsnummer=number, manual_valgkort=manual, checked_off_at=earlier):
                try:
                    self.station.record_vote(number, manual_valgkort=manual, checked_off_at=earlier)
                except StationRefused as exc:
                    self.feed(kiosk.VoteAnswered(False, str(exc)))
                else:
                    self.feed(kiosk.VoteAnswered(True, f"✔ Beredskapsstemme nr. {self.station.state.vote_count} er "
                                                       "talt. Klar for neste velger."))  # fmt: skip
            case kiosk.PrintEmergencyValgkort(name=name, born=born, address=address):
                if self.printing is None:
                    return
                card = receipts.ManualValgkort(self.printing.station(), self.clock.now(),
                                               receipts.ValgkortReason.EMERGENCY, name, born, address)  # fmt: skip
                self.printing.print_receipt(receipts.manual_valgkort(card, self.printing.columns),
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
        if self.printing is not None:
            self.printing.print_manual_valgkort(replace(voter, adresse=address), reason)

    def write_entry(self, entry: ent.LoggbokEntry) -> None:
        """Write one typed entry to the loggbok (durable before this returns)."""
        kind, data = ent.record(entry)
        self.journal_hook(kind, data)

    def write_record(self, kind: str, data: Mapping[str, Any]) -> None:
        """The loggbok by kind and data (the print queue's kept jobs write through this)."""
        kind, data = ent.record(ent.parse(kind, data))  # the typed entry decides what is written
        try:
            self.journal.append(kind, data, at=self.clock.now())
        except OSError:
            log.exception("the loggbok could not be written")
            self.notice = JOURNAL_FAILED

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

    # -- the watchdog and the station ---------------------------------------------------------
    def _power_for_log(self) -> dict[str, bool | None]:
        """The power sense states for an outage entry (None: not fitted or not known)."""
        return {source.value: present for source, present in self.power_states.items()}

    def _station_changed(self) -> None:
        """The station's state changed (probe round, alarm, routine): the core learns it."""
        probe = self.station.last_probe
        if probe is not None:
            self.network = NetworkLayers.from_results(probe.layers)
        if not self.feed(kiosk.StationUpdated(self.station.state, self.station.network)):
            self.publish()  # the caretaker's rows follow the probes
