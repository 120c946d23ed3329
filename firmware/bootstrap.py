"""The composition root: the one place that turns a station configuration into a running
kiosk, picking real or simulated adapters.

``run_kiosk(config_path, sim)`` is what ``valgkiosk run [--sim] [--config PATH]`` calls.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valgkiosk import config as cfg
from valgkiosk.core import checkoff as co
from valgkiosk.ports.clock import Clock, SystemClock
from valgkiosk.ports.indicators import Indicators
from valgkiosk.ports.power import PowerSensors
from valgkiosk.ports.register import Register
from valgkiosk.ports.scanner import Scanner

log = logging.getLogger("valgkiosk.bootstrap")

#: The demo configuration ``run --sim`` uses when no path is given.
SIM_CONFIG = Path(__file__).resolve().parent.parent / "config" / "sim-offline.toml"


@dataclass
class Wiring:
    """The adapters chosen for a configuration."""

    register: Register
    scanner: Scanner
    sim: Any  # SimControls or None
    demo_cards: list[Any]


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

    verify: str | bool = reg.ca_file if reg.ca_file else True
    client = HttpRegister(reg.url, config.credential_value(base), timeout=config.timings.register_timeout_seconds,
                          verify=verify)  # fmt: skip
    return client, []


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
    from valgkiosk.drivers.printer import PrinterSettings, PrintQueue, build_printer

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
        queue = PrintQueue(printer, queue_dir)
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
    return Place(config.station.kommune, config.station.krets, f"Valget {config.election.year}",
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
) -> Any:
    """The kiosk app wired from ``config`` (adapters may be handed in, e.g. by the bench;
    ``pin_factory`` replaces lgpio for a real kiosk's GPIO, e.g. a MockFactory in tests)."""
    from valgkiosk.ui.app import KioskApp, SimControls

    cards: list[Any] = []
    if register is None:
        register, cards = build_register(config, base=base)
    if scanner is None:
        scanner = build_scanner(config, sim=sim)
    cards = cards or [c for c in config.sim.demo_cards]
    st = config.station
    settings = co.Settings(
        election_year=config.election.year,
        reported_by=f"Avkrysser bord {st.bord}",
        timings=config.timings.timings(),
    )
    is_sim = sim or config.scanner.kind == "sim"
    journal = build_journal(config, sim=is_sim, base=base)
    clock = clock or SystemClock()
    box = build_gpio(config, sim=is_sim, clock=clock, pin_factory=pin_factory)
    gpio = box.simulated
    network = build_connectivity(config, sim=sim, clock=clock)  # a simulated scanner alone simulates no network
    if hasattr(network, "fail_layer"):
        from valgkiosk.sim_register import ThroughSimulatedNetwork

        # the dock's cuts reach the register calls too, not only the probes
        register = ThroughSimulatedNetwork(register, network)  # type: ignore[assignment]
    printer, print_queue = build_printing(config, sim=is_sim, config_path=config_path)
    sim_printer = printer if is_sim and hasattr(printer, "device") else None
    controls = (SimControls(scanner, cards, gpio, network, printer=sim_printer)
                if is_sim and hasattr(scanner, "unplug") else None)  # type: ignore[arg-type]
    return KioskApp(
        register=register,
        scanner=scanner,
        settings=settings,
        station_label=st.navn or f"Krets {st.krets}",
        bord=st.bord,
        clock=clock,
        sim=controls,
        journal=journal,
        power=box.sensors,
        print_queue=print_queue,
        print_place=_print_place(config, printer),
        print_preview=sim_printer is not None,  # sim mode shows each receipt on screen
        connectivity=network,
        outage_timings=config.network.timings(),
        indicators=box.indicators,
        chair_pin_hash=config.emergency.chair_pin_hash,
        modem=build_modem(config),
        modem_interval=config.modem.poll_seconds if config.modem else 5.0,
    )


#: The loggbok of a real kiosk when the configuration names none: on the data partition.
DEFAULT_LOGGBOK = Path("/var/lib/valgkiosk/loggbok.jsonl")


def build_journal(config: cfg.StationConfig, *, sim: bool, base: Path | None = None) -> Any:
    """The loggbok: the configured file (relative to the configuration's folder), the data
    partition's on a real kiosk, or one in memory for a sim-mode kiosk given none."""
    from valgkiosk.journal import Journal, MemoryJournal

    if config.log.loggbok:
        path = Path(config.log.loggbok)
        if base is not None and not path.is_absolute():
            path = base / path
        return Journal(path)
    return MemoryJournal() if sim else Journal(DEFAULT_LOGGBOK)


def build_connectivity(config: cfg.StationConfig, *, sim: bool, clock: Clock) -> Any:
    """The watchdog's probes: layered network probes towards the register on a real kiosk;
    the simulated network (driven from the dev dock) in sim mode and for the memory register."""
    url = config.register_.url
    if sim or url.startswith("memory:"):
        from valgkiosk.drivers.network import SimulatedConnectivity

        return SimulatedConnectivity(named=False, now=clock.now)
    from valgkiosk.drivers.network import NetworkProbes

    net = config.network
    return NetworkProbes(url, interface=net.interface, gateway_port=net.gateway_port,
                         check_gateway=net.check_gateway, timings=net.timings(),
                         verify=config.register_.ca_file or True, now=clock.now)  # fmt: skip


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
    installs Debian's python3-lgpio). Raises when there is no GPIO chip to open."""
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


def _setup_logging(config: cfg.StationConfig | None) -> None:
    """Log to the journal (stderr under systemd) or to the configured file, never onto the
    clerk's screen: while the UI runs, stderr belongs to the terminal."""
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    level = getattr(logging, (config.log.level if config else "info").upper())
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if config and config.log.file:
        handler: logging.Handler = logging.FileHandler(config.log.file, encoding="utf-8")
    elif os.environ.get("JOURNAL_STREAM") or not sys.stderr.isatty():
        handler = logging.StreamHandler(sys.stderr)  # systemd: stderr goes to the journal
    else:
        handler = logging.NullHandler()  # interactive terminal: keep the screen clean
    handler.setFormatter(fmt)
    root.addHandler(handler)


def run_kiosk(config_path: str | None, sim: bool) -> int:
    """Start the kiosk. Returns the exit code: 0 normally, 2 when the configuration is bad
    (after the error screen has been shown; the kiosk refuses to start)."""
    path = Path(config_path) if config_path else (SIM_CONFIG if sim else cfg.DEFAULT_PATH)
    try:
        config = cfg.load(path)
    except cfg.ConfigError as exc:
        # The journal first (stderr before the screen is taken), then the screen.
        print(str(exc), file=sys.stderr, flush=True)
        _setup_logging(None)
        log.error("%s", exc)
        from valgkiosk.ui.app import ConfigErrorApp

        ConfigErrorApp(exc.path, exc.problems, allow_quit=sim).run()
        return 2
    _setup_logging(config)
    try:
        app = build_app(config, sim=sim, base=path.parent, config_path=path)
    except cfg.ConfigError as exc:  # a path in the file that cannot be used (printer.queue_dir)
        print(str(exc), file=sys.stderr, flush=True)
        log.error("%s", exc)
        from valgkiosk.ui.app import ConfigErrorApp

        ConfigErrorApp(exc.path, exc.problems, allow_quit=sim).run()
        return 2
    except OSError as exc:  # the loggbok or the credential cannot be opened
        problem = f"{path}: nøkkelen «log.loggbok» peker på en fil som ikke kan åpnes ({exc.strerror})."
        print(problem, file=sys.stderr, flush=True)
        log.error("%s", problem)
        from valgkiosk.ui.app import ConfigErrorApp

        ConfigErrorApp(str(path), [problem], allow_quit=sim).run()
        return 2
    log.info("kiosk starting: kommune %s krets %s bord %s (%s)", config.station.kommune, config.station.krets,
             config.station.bord, "sim" if sim else config.scanner.kind)  # fmt: skip
    result = app.run()
    return int(result or 0)


# -- the self-test ------------------------------------------------------------------------------


def build_selftest(config_path: str | None, *, sim: bool, operator: Any, pin_factory: Any = None) -> Any:
    """The self-test's kit for the station file at ``config_path`` (the sim demo file
    with ``sim`` and no path): the same adapters the kiosk uses, or the simulated ones.
    A bad configuration gives a kit with only the problems (its check fails)."""
    from valgkiosk import selftest
    from valgkiosk.drivers.clocksync import read_clock_sync

    path = Path(config_path) if config_path else (SIM_CONFIG if sim else cfg.DEFAULT_PATH)
    try:
        config = cfg.load(path)
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
        connectivity=build_connectivity(config, sim=is_sim, clock=clock),
        register=register,
        read_clock=read_clock_sync,
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
