"""The one wiring: a station configuration plus overrides, made into a kiosk.

Every way of starting a kiosk goes through :func:`build_kiosk`: ``valgkiosk run`` (via
``bootstrap.run_kiosk`` / ``bootstrap.build_app``), the demo (which runs ``run_kiosk``),
the training kiosk (``build_app`` with its app class), the test rig
(``valgkiosk.ui.testing.make_rig``) and the benches. What a caller needs different from
the configured kiosk (a manual clock, the in-memory register it drives, deterministic
request ids, no caretaker box, …) it hands in as :class:`Overrides`; everything else is
picked from the configuration exactly as on a station.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from valgkiosk import bootstrap
from valgkiosk import config as cfg
from valgkiosk.core import checkoff as co
from valgkiosk.core import outage
from valgkiosk.core import peopletime
from valgkiosk.ports.clock import Clock, SystemClock
from valgkiosk.ports.register import Register
from valgkiosk.ports.scanner import Scanner


@dataclass
class Overrides:
    """What a caller hands in instead of what the configuration would pick (``None``: the
    configured one). Tests, the bench and the training kiosk use these; a station none."""

    clock: Clock | None = None
    register: Register | None = None  #: the register the kiosk talks to (still behind the simulated network)
    cards: Sequence[Any] | None = None  #: the dev dock's demo cards (objects with .label and .number)
    scanner: Scanner | None = None
    journal: Any = None  #: the loggbok
    timings: co.Timings | None = None  #: the check-off flow's timings
    outage_timings: outage.Timings | None = None  #: the watchdog's timings
    connectivity: Any = None  #: probes to use instead of the configured ones (the register is then reached directly)
    gpio: bool = True  #: False: no caretaker box at all (sim mode has a simulated one otherwise)
    network: bool = True  #: False: no simulated network in sim mode (no probes, the register reached directly)
    printing: tuple[Any, Any] | None = None  #: (printer, PrintQueue) instead of the configured printer
    print_place: Any = None  #: what the receipts say before the register told its names
    print_now: Callable[[], datetime] | None = None  #: the receipts' wall clock
    print_preview: bool | None = None  #: show each receipt on screen (sim mode's simulated printer: yes)
    dock: bool = True  #: sim mode's dev dock (SimControls); False: a sim kiosk without it
    new_request_id: Callable[[], str] | None = None
    auto_tick: bool = True  #: False: the caller delivers the ticks (tests on a manual clock)
    on_verdict: Callable[[co.Outcome], None] | None = None
    office: bool = True  #: the line to the election office (status reports, texts)
    pin_factory: Any = None  #: gpiozero's pin factory for a real kiosk's GPIO (a MockFactory in tests)
    app_class: Any = None  #: a KioskApp subclass (the training kiosk's)
    extra: dict[str, Any] = field(default_factory=dict)  #: further KioskShell arguments


@dataclass
class Kiosk:
    """A kiosk built and not yet running: the app and the adapters behind it."""

    app: Any  # KioskApp
    config: cfg.StationConfig
    register: Register  #: the register as built or handed in (the one tests and the dock drive)
    scanner: Scanner
    clock: Clock
    journal: Any
    cards: list[Any]
    gpio: Any = None  #: the simulated caretaker box (sim mode)
    network: Any = None  #: the connectivity the watchdog probes (the simulated network in sim mode)
    printer: Any = None
    queue: Any = None  #: the PrintQueue
    shell: Any = None  #: the KioskShell the app renders (valgkiosk.shell)


def build_kiosk(
    config: cfg.StationConfig,
    *,
    sim: bool,
    base: Path | None = None,
    config_path: Path | None = None,
    overrides: Overrides | None = None,
) -> Kiosk:
    """The kiosk for ``config``: real adapters, or the simulated ones in sim mode (``sim``
    or a simulated scanner), with ``overrides`` in their place where given."""
    from valgkiosk.shell import KioskShell
    from valgkiosk.ui.app import KioskApp, SimControls

    o = overrides or Overrides()
    peopletime.configure(config.election.time_zone)  # every time a person reads (screen, paper)
    cards: list[Any] = []
    register = o.register
    if register is None:
        register, cards = bootstrap.build_register(config, base=base)
    scanner = o.scanner if o.scanner is not None else bootstrap.build_scanner(config, sim=sim)
    cards = list(o.cards) if o.cards is not None else (cards or [c for c in config.sim.demo_cards])
    st = config.station
    settings = co.Settings(
        election_year=config.election.year,
        reported_by=f"Avkrysser bord {st.bord}",
        timings=o.timings if o.timings is not None else config.timings.timings(),
    )
    is_sim = sim or config.scanner.kind == "sim"
    journal = o.journal if o.journal is not None else bootstrap.build_journal(config, sim=is_sim, base=base)
    clock = o.clock if o.clock is not None else SystemClock()
    box = (bootstrap.build_gpio(config, sim=is_sim, clock=clock, pin_factory=o.pin_factory) if o.gpio
           else bootstrap.GpioBox())  # fmt: skip
    gpio = box.simulated
    reached = register
    if o.connectivity is not None:
        network = o.connectivity
    elif o.network or not is_sim:
        # a simulated scanner alone simulates no network
        network = bootstrap.build_connectivity(config, sim=sim, clock=clock, base=base)
        if hasattr(network, "fail_layer"):
            from valgkiosk.sim_register import ThroughSimulatedNetwork

            # sim mode is honest: the dock's cuts reach the register calls too, not only the probes
            reached = ThroughSimulatedNetwork(register, network)
    else:
        network = None
    if o.printing is not None:
        printer, print_queue = o.printing
    else:
        printer, print_queue = bootstrap.build_printing(config, sim=is_sim, config_path=config_path)
    sim_printer = printer if is_sim and hasattr(printer, "device") else None
    sim_network = network if hasattr(network, "fail_layer") else None  # what the dock can cut
    controls = (SimControls(scanner, cards, gpio, sim_network, printer=sim_printer)  # type: ignore[arg-type]
                if is_sim and o.dock and hasattr(scanner, "unplug") else None)
    preview = o.print_preview if o.print_preview is not None else sim_printer is not None
    knobs: dict[str, Any] = dict(o.extra)
    if o.new_request_id is not None:
        knobs["new_request_id"] = o.new_request_id
    shell = KioskShell(
        register=reached,
        scanner=scanner,
        settings=settings,
        station_label=st.navn or f"Krets {st.krets}",
        bord=st.bord,
        clock=clock,
        auto_tick=o.auto_tick,
        on_verdict=o.on_verdict,
        journal=journal,
        power=box.sensors,
        connectivity=network,
        outage_timings=o.outage_timings if o.outage_timings is not None else config.network.timings(),
        indicators=box.indicators,
        chair_pin_hash=config.emergency.chair_pin_hash,
        modem=bootstrap.build_modem(config),
        modem_interval=config.modem.poll_seconds if config.modem else 5.0,
        clock_report=None if is_sim else bootstrap.build_clock_report(config),
        ups=None if is_sim else bootstrap.build_ups(config, pin_factory=o.pin_factory),
        **knobs,
    )
    shell.config_warnings = config.warnings()  # the caretaker screen shows them
    app: Any = (o.app_class or KioskApp)(
        shell,
        sim=controls,
        print_queue=print_queue,
        print_place=o.print_place if o.print_place is not None else bootstrap._print_place(config, printer),
        print_now=o.print_now,
        print_preview=preview,  # sim mode shows each receipt on screen
    )
    if o.office:
        bootstrap.attach_office(app, config, register=reached, sim=is_sim)
    return Kiosk(app, config, register, scanner, clock, shell.journal, cards, gpio, network, printer, print_queue, shell)
