"""The composition root: the one place that turns a station configuration into a running
kiosk, picking real or simulated adapters.

``run_kiosk(config_path, sim)`` is what ``valgkiosk run [--sim] [--config PATH]`` calls.
"""

from __future__ import annotations

import logging
from importlib import resources
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valgkiosk import config as cfg
from valgkiosk.ports.clock import Clock, SystemClock
from valgkiosk.ports.indicators import Indicators
from valgkiosk.ports.power import PowerSensors
from valgkiosk.ports.register import Register
from valgkiosk.ports.scanner import Scanner

log = logging.getLogger("valgkiosk.bootstrap")

#: The demo configuration ``run --sim`` uses when no path is given: package data, so that an
#: installed wheel runs ``valgkiosk run --sim`` from any folder (``config/sim-offline.toml``
#: in the repository is a link to it).
SIM_CONFIG = Path(str(resources.files("valgkiosk") / "sim-offline.toml"))


def build_register(config: cfg.StationConfig, *, base: Path | None = None) -> tuple[Register, list[Any]]:
    """The Register adapter: HTTP for a URL, the in-memory demo register for ``memory:``."""
    reg = config.register_
    st = config.station
    if reg.url.startswith("memory:"):
        from valgkiosk.register_memory import demo_register

        memory, cards = demo_register(kommune=st.kommune, krets=st.krets, krets_navn=st.navn or "Demoskolen",
                                      bord=st.bord, election_year=config.election.year)  # fmt: skip
        # the offline demo shows real times
        from datetime import datetime, timezone

        memory.now = lambda: datetime.now(timezone.utc)
        return memory, cards
    from valgkiosk.register_client import HttpRegister

    verify: str | bool = str(cfg.resolve(reg.ca_file, base or Path.cwd())) if reg.ca_file else True
    credential = config.credential_value(base)
    nodes = [HttpRegister(url, credential, timeout=config.timings.register_timeout_seconds, verify=verify)
             for url in (reg.url, *reg.urls)]  # fmt: skip
    if len(nodes) == 1:
        return nodes[0], []
    from valgkiosk.register_failover import FailoverRegister

    return FailoverRegister(nodes, names=[reg.url, *reg.urls]), []


def build_scanner(config: cfg.StationConfig, *, sim: bool) -> Scanner:
    """The Scanner adapter: evdev, serial, or the simulated one (always in sim mode)."""
    from valgkiosk.drivers import scanner as drivers

    sc = config.scanner
    if sim or sc.kind == "sim":
        return drivers.SimulatedScanner()
    if sc.kind == "serial":
        assert sc.device is not None
        return drivers.SerialScanner(sc.device, baudrate=sc.baudrate)
    return drivers.EvdevScanner(vendor=sc.vendor, product=sc.product, name=sc.name, path=sc.path, layout=sc.layout)


def build_printing(config: cfg.StationConfig, *, sim: bool, config_path: Path | None = None) -> tuple[Any, Any]:
    """The receipt printer and its persistent PrintQueue, or (None, None) without one.

    Sim mode (``run --sim`` or ``kind = "sim"``): the simulated printer, which the app shows
    on screen and which writes each receipt to ``output``. The queue's directory
    (``queue_dir``) is on the data partition, so a job that has not printed survives a
    restart; the app offers it again, never prints it by itself.
    """
    from valgkiosk.drivers.printer import PrinterSettings, build_printer
    from valgkiosk.printqueue import PrintQueue

    section = config.printer
    if section.kind == "none" and not sim:
        return None, None
    overrides: dict[str, Any] = {}
    queue_dir = Path(section.queue_dir)
    if section.kind != "sim" and sim:
        # --sim with a real station's file: never the station's data partition
        scratch = Path(tempfile.gettempdir()) / "valgkiosk-sim"
        overrides["output"] = str(scratch / "siste-kvittering.txt")
        queue_dir = scratch / "print-queue"
    if sim or section.kind == "sim":
        overrides["kind"] = "sim"
    printer = build_printer(PrinterSettings.from_config(section, **overrides))
    try:
        queue = PrintQueue(printer, queue_dir, personal_data_until=section.personal_data_time())
    except OSError as exc:
        raise cfg.ConfigError(config_path or "station.toml", [
            f"{config_path or 'station.toml'}: nøkkelen «printer.queue_dir» peker på en mappe som ikke kan "
            f"brukes ({exc.strerror or exc})."]) from None  # fmt: skip
    return printer, queue


def _print_place(config: cfg.StationConfig, printer: Any) -> Any:
    """What the receipts say before the register has told its names."""
    from importlib.metadata import PackageNotFoundError, version

    from valgkiosk.ui.printing import Place

    try:
        image = version("valgkiosk")
    except PackageNotFoundError:
        image = ""
    pr = config.printer
    described = "" if printer is None else f"{'sim' if printer.__class__.__name__.startswith('Sim') else pr.kind} {pr.profile}"
    st, election = config.station, config.election
    kommune = f"{st.kommune} {st.kommune_navn}".strip()
    return Place(kommune, st.krets, election.title or f"Valget {election.year}",
                 printer=described, image_version=image)  # fmt: skip


def build_app(
    config: cfg.StationConfig,
    *,
    sim: bool,
    base: Path | None = None,
    clock: Clock | None = None,
    register: Register | None = None,
    scanner: Scanner | None = None,
    config_path: Path | None = None,
    pin_factory: Any = None,
    app_class: Any = None,
) -> Any:
    """The kiosk app wired from ``config`` by the one wiring (valgkiosk.wiring.build_kiosk;
    adapters may be handed in, e.g. by the training kiosk; ``pin_factory`` replaces lgpio
    for a real kiosk's GPIO, e.g. a MockFactory in tests; ``app_class`` a KioskApp subclass)."""
    from valgkiosk import wiring

    overrides = wiring.Overrides(clock=clock, register=register, scanner=scanner, pin_factory=pin_factory,
                                 app_class=app_class)  # fmt: skip
    return wiring.build_kiosk(config, sim=sim, base=base, config_path=config_path, overrides=overrides).app


def attach_office(app: Any, config: cfg.StationConfig, *, register: Any, sim: bool) -> None:
    """The line to the election office (issue 15): status reports to the register, and on
    the station's messenger table the text messages through the modem (a simulated one in
    sim mode). Both run as the app's background jobs; the banner shows what the office knows."""
    from valgkiosk import office
    from valgkiosk.core import sms

    o, st = config.office, config.station
    receipt: list[Any] = [None]

    def clock_offset() -> float | None:
        """None on the kiosk: its sandbox forbids adjtimex (the unit's seccomp filter leaves
        out @clock, and the call kills the process with SIGSYS); valgkiosk-clock.service owns
        the clock, and its state is on the caretaker screen."""
        return None

    if sim:
        image_version = "sim"
    else:  # (the self-test module only here: sim mode never reads an image version)
        from valgkiosk.selftest import read_image_version

        image_version = read_image_version()

    def facts() -> office.Facts:
        power = {source.value: present for source, present in app.shell.power_states.items()}
        queue = app.printing.queue
        faults = [job.error_kind for job in app.printing.kept() if getattr(job, "error_kind", "")]
        return office.Facts(
            mains=power.get("mains"), router_power=power.get("router"), simula_power=power.get("simula"),
            printer_state="none" if queue is None else (faults[-1] if faults else "ready"),
            printer_paper="unknown" if queue is None else ("out" if "out_of_paper" in faults else "ok"),
            scanner_connected=app.shell.kiosk_state.scanner_connected, checkoffs=app.shell.kiosk_state.count_today or 0,
            clock_offset_s=clock_offset(), image_version=image_version)

    def on_receipt(answer: Any) -> None:
        before = note()
        receipt[0] = answer
        if note() != before:  # the office has seen it: show it on the banner now
            app.shell.publish()

    if hasattr(register, "report_status"):
        reporter = office.StatusReporter(app.shell.station, register, facts, now=app.shell.clock.now,
                                         monotonic=app.shell.clock.monotonic, interval=o.report_seconds,
                                         on_receipt=on_receipt)
        app.shell.background.append(reporter.run)
        app.office_reporter = reporter
    sender = None
    messenger = o.messenger_table is not None and o.messenger_table == st.bord
    modem = SIM_MODEM_FACTORY() if sim else app.shell.modem
    if messenger and o.sms_numbers and modem is not None:
        settings = sms.Settings(
            numbers=tuple(o.sms_numbers), station_name=st.navn or f"Krets {st.krets}", krets=st.krets,
            bord=st.bord, messenger=True, unreachable_after_s=o.sms_after_seconds,
            max_per_hour=o.sms_max_per_hour)
        sender = office.SmsSender(app.shell.station, modem, settings, now=app.shell.clock.now,
                                  power_states=lambda: {s.value: p for s, p in app.shell.power_states.items()},
                                  send_timeout=o.sms_send_timeout_seconds)
        app.shell.background.append(sender.run)
        app.sms_modem = modem
    elif messenger and o.sms_numbers:
        log.error("[office] names this table the messenger, but there is no [modem]: no texts will be sent")
    app.sms_sender = sender
    if sender is not None:  # the caretaker's modem row says how the last text went
        app.shell.modem_note = lambda: str(getattr(sender, "last_result", "") or "")

    def note() -> str:
        current = receipt[0]
        if app.shell.station.state.outage is None and not app.shell.station.state.emergency:
            return ""
        return office.office_note(current, sender)

    app.shell.office_note = note


#: Makes the sim-mode modem (tests may replace it to keep a handle on the texts).
def SIM_MODEM_FACTORY() -> Any:  # noqa: N802 - a replaceable constant
    from valgkiosk.office import SimModem

    return SimModem()


def build_ups(config: cfg.StationConfig, *, pin_factory: Any = None) -> Any:
    """The UPS of the ``[ups]`` section (issue 17), or ``None`` without one. A low-battery
    line that cannot be opened is logged; the kiosk then relies on the UPS's own reading."""
    from valgkiosk.core.ups import UpsPolicy, UpsReading
    from valgkiosk.drivers import ups as drv
    from valgkiosk.power_watch import Ups

    u = config.ups
    if u is None:
        return None
    policy = UpsPolicy(u.shutdown_percent, u.shutdown_runtime_seconds)
    read: Any
    if u.kind == "sysfs":
        supply = Path("/sys/class/power_supply") / u.power_supply
        read = lambda: drv.read_sysfs(supply)  # noqa: E731
    elif u.kind == "nut":
        read = lambda: drv.read_nut(u.nut_ups)  # noqa: E731
    elif u.low_battery_pin is not None:
        try:
            line = drv.SenseLowBattery(u.low_battery_pin, active_high=u.low_battery_active_high,
                                       pin_factory=pin_factory if pin_factory is not None else real_pin_factory())
            read = line.read
        except Exception as exc:  # noqa: BLE001 - no lgpio, no chip, the pin in use
            log.error("the UPS's low-battery line cannot be opened: %s", exc)
            read = lambda: UpsReading()  # noqa: E731
    else:
        read = lambda: UpsReading()  # noqa: E731
    return Ups(read=read, poweroff=drv.request_poweroff, policy=policy, interval=u.poll_seconds, kind=u.kind)


def build_clock_report(config: cfg.StationConfig) -> Any:
    """A reader of valgkiosk-clock.service's report for the caretaker screen and the
    receipts (issue 17); a report older than three checks counts as none."""
    from valgkiosk.clockservice import max_state_age
    from valgkiosk.drivers.timesource import read_state

    path, age = Path(config.clock.state_file), max_state_age(config)
    return lambda: read_state(path, max_age=age)


#: The loggbok of a real kiosk when the configuration names none: on the data partition.
DEFAULT_LOGGBOK = Path("/var/lib/valgkiosk/loggbok.jsonl")


def build_journal(config: cfg.StationConfig, *, sim: bool, base: Path | None = None) -> Any:
    """The loggbok: the configured file (relative to the configuration's folder), the data
    partition's on a real kiosk, or one in memory for a sim-mode kiosk given none."""
    from valgkiosk.journal import Journal, MemoryJournal

    sign = None
    if config.log.signing_key:
        from valgkiosk.signing import load_signer

        sign, _ = load_signer(cfg.resolve(config.log.signing_key, base or Path.cwd()))
    if config.log.loggbok:
        path = Path(config.log.loggbok)
        if base is not None and not path.is_absolute():
            path = base / path
        return Journal(path, sign=sign)
    return MemoryJournal(sign=sign) if sim else Journal(DEFAULT_LOGGBOK, sign=sign)


def build_connectivity(config: cfg.StationConfig, *, sim: bool, clock: Clock, base: Path | None = None) -> Any:
    """The watchdog's probes: layered network probes towards the register on a real kiosk;
    the simulated network (driven from the dev dock) for the memory register; in sim mode
    against a real register, the simulated cable and router with the register probed for real."""
    url = config.register_.url
    from valgkiosk.drivers.network import NetworkProbes, SimulatedConnectivity

    net = config.network
    verify = str(cfg.resolve(config.register_.ca_file, base or Path.cwd())) if config.register_.ca_file else True
    if url.startswith("memory:"):
        return SimulatedConnectivity(named=False, now=clock.now)
    if sim:  # the cable and router are the dock's; a real register is probed for real (stopped = alarm)
        register = NetworkProbes(url, interface=None, check_gateway=False, timings=net.timings(), verify=verify,
                                 now=clock.now, other_urls=config.register_.urls)  # fmt: skip
        return SimulatedConnectivity(named=False, now=clock.now, register=register)
    return NetworkProbes(url, interface=net.interface, gateway_port=net.gateway_port,
                         check_gateway=net.check_gateway, timings=net.timings(), verify=verify, now=clock.now,
                         other_urls=config.register_.urls)  # fmt: skip


@dataclass
class GpioBox:
    """The caretaker box as the app sees it: the sensors and indicators (``None``: not
    fitted or unavailable), and in sim mode the simulated box the dev dock drives."""

    sensors: PowerSensors | None = None
    indicators: Indicators | None = None
    simulated: Any = None  # SimulatedGpio in sim mode
    problem: str = ""  # Norwegian: why a configured box could not be opened


def gpio_pins(section: cfg.GpioSection | None) -> Any:
    """The ``[gpio]`` section as the driver's GpioPins (standard wiring when absent)."""
    from valgkiosk.drivers.gpio import DEFAULT_PINS, GpioPins, InputPin, OutputPin

    if section is None:
        return DEFAULT_PINS

    def inp(part: cfg.GpioInputSection | None) -> InputPin | None:
        return None if part is None else InputPin(part.pin, active_high=part.active_high, pull=part.pull)

    def out(part: cfg.GpioOutputSection | None) -> OutputPin | None:
        return None if part is None else OutputPin(part.pin, active_high=part.active_high)

    return GpioPins(mains=inp(section.mains), router=inp(section.router), simula=inp(section.simula),
                    power_led=out(section.power_led), network_led=out(section.network_led),
                    alarm_led=out(section.alarm_led), buzzer=out(section.buzzer))  # fmt: skip


def gpio_timings(section: cfg.GpioSection | None) -> Any:
    """The sensing timings, with the configured stable time."""
    from valgkiosk.core import sensing

    return sensing.Timings(stable=section.stable_seconds) if section is not None else sensing.Timings()


def real_pin_factory() -> Any:
    """gpiozero's lgpio factory: the one that works on every Pi, Pi 5 included (the image
    builds lgpio's wheel from source: image-build/lgpio-wheel.sh). Raises when there is
    no GPIO chip to open."""
    from gpiozero.pins.lgpio import LGPIOFactory

    return LGPIOFactory()


def build_gpio(config: cfg.StationConfig, *, sim: bool, clock: Clock, pin_factory: Any = None) -> GpioBox:
    """The caretaker box. Sim mode: the simulated box on gpiozero's MockFactory (the
    configured wiring, or the standard one; every supply on) on the kiosk's clock. A real
    kiosk: the adapters on ``pin_factory`` (lgpio unless given) for the ``[gpio]``
    section; none without one. A box that cannot be opened is logged and left out: the
    kiosk still serves voters, and the caretaker screen shows power as unknown."""
    section = config.gpio
    pins, timings = gpio_pins(section), gpio_timings(section)
    if sim:
        from valgkiosk.drivers.gpio import SimulatedGpio

        box = SimulatedGpio(pins, timings=timings, clock=clock, factory=pin_factory)
        return GpioBox(box.sensors, box.indicators, box)
    if section is None:
        return GpioBox()
    from valgkiosk.drivers.gpio import GpioIndicators, GpioPowerSensors

    try:
        factory = pin_factory if pin_factory is not None else real_pin_factory()
        sensors = GpioPowerSensors(pins.inputs(), pin_factory=factory, timings=timings, clock=clock)
    except Exception as exc:  # noqa: BLE001 - no lgpio, no GPIO chip, a pin in use
        log.error("the caretaker box's inputs cannot be opened: %s", exc)
        return GpioBox(problem=f"GPIO kan ikke åpnes: {exc}")
    try:
        indicators = GpioIndicators(pins.outputs(), pin_factory=factory, timings=timings)
    except Exception as exc:  # noqa: BLE001
        log.error("the caretaker box's outputs cannot be opened: %s", exc)
        return GpioBox(sensors, problem=f"Lampene og summeren kan ikke åpnes: {exc}")
    return GpioBox(sensors, indicators)


def build_modem(config: cfg.StationConfig) -> Any:
    """The mobile-fallback modem of the ``[modem]`` section, or ``None`` without one."""
    if config.modem is None:
        return None
    from valgkiosk.drivers.modem import Modem

    m = config.modem
    return Modem(m.device, baudrate=m.baudrate, timeout=m.timeout_seconds)


def _setup_logging(config: cfg.StationConfig | None, base: Path | None = None) -> None:
    """Log to the journal (stderr under systemd) or to the configured file, never onto the
    clerk's screen: while the UI runs, stderr belongs to the terminal."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    level = getattr(logging, (config.log.level if config else "info").upper())
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    from valgkiosk.console import journal_handler, stderr_is_journal

    if config and config.log.file:
        handler: logging.Handler = logging.FileHandler(cfg.resolve(config.log.file, base or Path.cwd()),
                                                       encoding="utf-8")  # fmt: skip
        handler.setFormatter(fmt)
    elif stderr_is_journal():
        handler = journal_handler()  # systemd: stderr is the journal, the UI draws on tty1 (console.py)
    elif not sys.stderr.isatty():
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(fmt)
    else:
        handler = logging.NullHandler()  # interactive terminal: keep the screen clean
    root.addHandler(handler)
    # Every probe and request would otherwise be a journal line (the health probe runs every
    # few seconds all day): the HTTP libraries say only what went wrong.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))


def _refuse(path: Path, problems: list[str], *, sim: bool) -> int:
    """The configuration error screen (and the journal first): the kiosk does not start."""
    print(f"Feil i konfigurasjonsfilen {path}:\n" + "\n".join(f"- {p}" for p in problems), file=sys.stderr, flush=True)
    for problem in problems:
        log.error("%s", problem)
    from valgkiosk.ui.app import ConfigErrorApp

    ConfigErrorApp(str(path), problems, allow_quit=sim).run()
    return 2


def run_kiosk(config_path: str | None, sim: bool) -> int:
    """Start the kiosk. Returns the exit code: 0 normally, 2 when the configuration is bad
    (after the error screen has been shown; the kiosk refuses to start)."""
    path = Path(config_path) if config_path else (SIM_CONFIG if sim else cfg.DEFAULT_PATH)
    try:
        config = cfg.load(path, real=not sim)
    except cfg.ConfigError as exc:
        # The journal first (stderr before the screen is taken), then the screen.
        _setup_logging(None)
        return _refuse(Path(exc.path), exc.problems, sim=sim)
    try:
        _setup_logging(config, path.parent)
    except OSError as exc:
        _setup_logging(None)
        return _refuse(path, [f"{path}: nøkkelen «log.file» peker på en fil som ikke kan skrives ({exc.strerror})."],
                       sim=sim)  # fmt: skip
    try:
        app = build_app(config, sim=sim, base=path.parent, config_path=path)
    except cfg.ConfigError as exc:  # a path in the file that cannot be used (printer.queue_dir)
        return _refuse(Path(exc.path), exc.problems, sim=sim)
    except OSError as exc:  # the loggbok or the credential cannot be opened
        return _refuse(path, [f"{path}: nøkkelen «log.loggbok» peker på en fil som ikke kan åpnes ({exc.strerror})."],
                       sim=sim)  # fmt: skip
    except ValueError as exc:  # a value no validator foresaw: still the error screen, never a traceback
        log.exception("the kiosk cannot be built from %s", path)
        return _refuse(path, [f"{path}: konfigurasjonen kan ikke brukes ({exc})."], sim=sim)
    log.info("kiosk starting: kommune %s krets %s bord %s (%s)", config.station.kommune, config.station.krets,
             config.station.bord, "sim" if sim else config.scanner.kind)  # fmt: skip
    if not sim:
        from valgkiosk.kiosklock import KioskBusy

        try:
            _hold_devices(config, path.parent, owner="kiosk")
        except KioskBusy:
            log.error("the self-test holds the table's devices: the kiosk starts when it is done")
            return 4
    result = app.run()
    return int(result or 0)


#: The lock descriptor of this process's claim on the table's devices (kiosklock.py).
_DEVICE_LOCK: list[int] = []


def _hold_devices(config: cfg.StationConfig, base: Path, *, owner: str) -> None:
    """Claim the table's devices for this process for its lifetime (raises KioskBusy)."""
    from valgkiosk import kiosklock

    loggbok = Path(config.log.loggbok) if config.log.loggbok else DEFAULT_LOGGBOK
    if not loggbok.is_absolute():
        loggbok = base / loggbok
    if not loggbok.parent.is_dir():
        return  # no loggbok folder: the loggbok's own error says so
    _DEVICE_LOCK.append(kiosklock.hold(kiosklock.lock_path(loggbok)))
    log.info("%s holds the table's devices (%s)", owner, kiosklock.lock_path(loggbok))


# -- the self-test ------------------------------------------------------------------------------


def build_selftest(config_path: str | None, *, sim: bool, operator: Any, pin_factory: Any = None) -> Any:
    """The self-test's kit for the station file at ``config_path`` (the sim demo file
    with ``sim`` and no path): the same adapters the kiosk uses, or the simulated ones.
    A bad configuration gives a kit with only the problems (its check fails)."""
    from valgkiosk import selftest
    from valgkiosk.clockservice import build_clock_keeper
    from valgkiosk.drivers.clocksync import read_clock_sync

    path = Path(config_path) if config_path else (SIM_CONFIG if sim else cfg.DEFAULT_PATH)
    try:
        config = cfg.load(path, real=not sim)
    except cfg.ConfigError as exc:
        return selftest.SelftestKit(None, operator, config_problems=exc.problems)
    is_sim = sim or config.scanner.kind == "sim"
    clock = SystemClock()
    register, _ = build_register(config, base=path.parent)
    box = build_gpio(config, sim=is_sim, clock=clock, pin_factory=pin_factory)
    printer, label, printer_problem = build_selftest_printer(config, sim=is_sim)
    # sim mode without a configured loggbok: none (the self-test says so, rather than log to memory)
    journal = build_journal(config, sim=is_sim, base=path.parent) if config.log.loggbok or not is_sim else None
    return selftest.SelftestKit(
        config,
        operator,
        scanner=build_scanner(config, sim=sim),
        printer=printer,
        printer_label=label,
        printer_problem=printer_problem,
        inputs=box.sensors,  # type: ignore[arg-type]  # GpioPowerSensors has raw()
        indicators=box.indicators,
        gpio_problem=box.problem,
        connectivity=build_connectivity(config, sim=is_sim, clock=clock, base=path.parent),
        register=register,
        read_clock=read_clock_sync,
        clock_keeper=None if is_sim else build_clock_keeper(config, base=path.parent, may_set=False),
        journal=journal,
        image_version=selftest.read_image_version(),
    )


def build_selftest_printer(config: cfg.StationConfig, *, sim: bool) -> tuple[Any, str, str]:
    """The receipt printer for the self-test: (printer or None, label, problem). Sim mode:
    the simulated printer; ``kind = "none"``: no printer."""
    from valgkiosk.drivers.printer import PrinterSettings, build_printer

    section = config.printer
    if not sim and getattr(section, "kind", "none") == "none":
        return None, "", ""
    try:
        settings = PrinterSettings(kind="sim") if sim else PrinterSettings.from_config(section)
        return build_printer(settings), f"{settings.kind} {settings.profile}", ""
    except (ValueError, TypeError) as exc:
        return None, "", f"Skriveren kan ikke settes opp: {exc}."


def run_selftest(config_path: str | None, sim: bool) -> int:
    """``valgkiosk selftest``: the self-test screen on this terminal; then the verdicts on
    stdout for the IT team's scripts. Returns 0 only when every required check passed."""
    from valgkiosk import selftest
    from valgkiosk.core import manntallsnummer as mn
    from valgkiosk.ui.selftest import SelftestApp

    _setup_logging(None)
    if not sim:
        from valgkiosk.kiosklock import KioskBusy

        path = Path(config_path) if config_path else cfg.DEFAULT_PATH
        try:
            config = cfg.load(path)
        except cfg.ConfigError:
            config = None  # the self-test shows the problems and opens no device
        try:
            if config is not None and config.scanner.kind != "sim":
                _hold_devices(config, path.parent, owner="self-test")
        except KioskBusy as exc:
            print(f"Selvtesten starter ikke.\n{exc}", file=sys.stderr)
            log.error("self-test refused: the kiosk holds the table's devices")
            return 3
    kit_holder: list[Any] = []

    def make_kit(operator: Any) -> Any:
        kit = build_selftest(config_path, sim=sim, operator=operator)
        kit_holder.append(kit)
        return kit

    def sim_scan() -> None:
        kit = kit_holder[0]
        year = kit.config.election.year if kit.config is not None else 2025
        kit.scanner.scan(str(mn.make(1, year)))

    app = SelftestApp(make_kit, sim_scan=sim_scan if sim else None)
    code = app.run()
    for r in app.results:
        print(f"{selftest.VERDICT_NB[r.verdict]:<13} {r.title}: {r.detail}")
    return 1 if code is None else int(code)
