"""The kiosk's Textual app: renders what the service shell publishes.

The shell (:class:`valgkiosk.shell.KioskShell`) owns the ports, the workers and the pure
kiosk core's state; it carries out the effects and publishes a view. The app is made
from the shell that valgkiosk.wiring.build_kiosk built, shows the screen the core's
routing table picks, and hands the clerk's requests (the messages of
the Message dataclasses nested on the screens, which they post) to the shell. It is locked down: no command palette, no quit key; the terminal's own keys
(ctrl+q, ctrl+c, …) are priority no-op bindings.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from textual import events, on
from textual.app import App
from textual.binding import Binding, BindingType

from valgkiosk.core import checkoff as co
from valgkiosk.core import kiosk
from valgkiosk.core import peopletime
from valgkiosk.core.outage import Layer
from valgkiosk.ports.power import PowerSource
from valgkiosk.shell import KioskShell, KioskView

from .printing import NO_PRINTER, NO_VOTER, Place, PrinterDialog, Printing
from .emergency import ACK_KEY, EMERGENCY_KEY, LOG_KEY, ChairViewClosed, EmergencyScreen, LogScreen, PinScreen
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

CARETAKER_REFUSED = kiosk.CARETAKER_REFUSED
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


NO_MISREGISTRATION = "Ingen avkrysning ved dette bordet å melde som feilregistrering."


@dataclass(frozen=True, slots=True)
class SimView:
    """Sim mode's part of the view: the dev dock (its lines while it is open) and the
    digits typed on the keyboard as a scan."""

    dock_open: bool
    typed: str
    hint: str  #: the footer's key for the dock
    dock: str = ""  #: the dock's lines ("" while it is closed)


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


class KioskApp(App[int]):
    """The clerk's screen at one check-off table: renders the shell's view and hands the
    clerk's requests to it (valgkiosk.shell.KioskShell owns the ports and the core)."""

    CSS_PATH = "kiosk.tcss"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS = LOCKDOWN_BINDINGS
    TITLE = "Valgkiosk"

    def __init__(
        self,
        shell: KioskShell,
        *,
        sim: SimControls | None = None,
        print_queue: Any = None,
        print_place: Place | None = None,
        print_now: Callable[[], datetime] | None = None,
        print_preview: bool = False,
    ) -> None:
        """The app for ``shell``, as valgkiosk.wiring.build_kiosk made it (the one wiring):
        the shell runs its own tasks (valgkiosk.shell.Tasks), the app renders each view the
        shell publishes and hands the clerk's requests in."""
        super().__init__()
        self.theme = "ansi-dark"
        #: The service shell: ports, workers, the core's state (valgkiosk.shell).
        self.shell = shell
        shell.on_change = self._show_view
        # the hooks go through the app's methods, which a subclass (the training kiosk) may extend
        shell.feed_hook = self.feed
        shell.journal_hook = self._journal
        shell.start_job = self._start
        self.sim = sim
        self.dock_open = False
        self.sim_typed = ""
        # -- the receipt printer (issue 5): print_queue is a PrintQueue, or None without a printer
        self.printing = Printing(self.shell, self, print_queue, place=print_place or Place("", "", ""), journal=self._journal,
                                 entries=shell.journal.entries, now=print_now or shell.clock.now,
                                 sim_printer=sim.printer if sim is not None else None,
                                 preview=print_preview)  # fmt: skip
        self.shell.printing = self.printing
        self.shell.mark = self.training_mark
        if sim is not None:
            self.shell.sim_view = self._sim_view
        self.shell.view = self.shell._make_view()  # with the printer's line and the dock

    #: øvingsmodus' mark on every screen (valgkiosk.training), "" on a real kiosk.
    training_mark = ""
    #: The footer's key for the dev dock (the training kiosk's panel names its own).
    dock_hint = "F12 Utviklerpanel"

    # -- life cycle ---------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.shell.begin(warn_no_pin=self.sim is None)
        self.push_screen(self._screen_for(IdleScreen))
        # the first screen first: the workers' first requests make the HTTP clients (httpcore,
        # the CA bundle), which the clerk need not wait for (docs/benchmarks.md, round 4)
        self.call_after_refresh(self.shell.ready)
        self.call_after_refresh(self.shell.start_workers)
        self.call_after_refresh(self.printing.offer_kept)

    async def on_unmount(self) -> None:
        await self.shell.stop()

    async def _start(self) -> None:
        """Ask the register who we are (station name, election) and our count."""
        await self.shell.learn_who_we_are()

    def action_noop(self) -> None:
        """The locked keys end here."""

    # -- what the app shows ---------------------------------------------------------------------
    @property
    def view(self) -> KioskView:
        """What to show, as the shell last published it (the screens read only this)."""
        return self.shell.view

    @property
    def kiosk_state(self) -> co.State:
        """The check-off flow's state (the bench reads it; tests read ``shell``)."""
        return self.shell.core.checkoff

    def _show_view(self) -> None:
        """Show the screen the core's routing table picks (switching only when it changes)."""
        if not self.is_running or not self.screen_stack:
            return
        view = self.shell.view
        self.printing.follow(view.phase)
        current = self.screen
        where = view.screen
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

    # -- the hooks a subclass (the training kiosk) extends -----------------------------------------
    def feed(self, event: kiosk.Event) -> bool:
        """Step the kiosk core with ``event`` (the shell carries out the effects and
        publishes the view); False when nothing changed."""
        return self.shell.step(event)

    def _journal(self, kind: str, data: Mapping[str, Any]) -> None:
        """The loggbok by kind and data, for the print queue's kept jobs (valgkiosk.ui.printing)."""
        self.shell.write_record(kind, data)

    # -- the clerk's requests (the screens' messages), handed to the shell -------------------------
    @on(KioskScreen.Ask)
    def _on_ask(self, message: KioskScreen.Ask) -> None:
        self.shell.send(message.event, *message.args, **dict(message.fields))

    @on(ConfirmScreen.Confirm)
    def _on_confirm(self) -> None:
        self.shell.confirm()

    @on(KioskScreen.StartMisregistration)
    def _on_start_misregistration(self) -> None:
        if not self.shell.send(co.StartMisregistration):
            self.shell.set_notice(NO_MISREGISTRATION)

    @on(KioskScreen.StartManualValgkort)
    def _on_start_manual_valgkort(self) -> None:
        if self.printing.queue is None:
            self.shell.set_notice(NO_PRINTER)
        elif not self.shell.send(co.StartManualValgkort):
            self.shell.set_notice(NO_VOTER)

    @on(KioskScreen.ToggleCaretaker)
    def _on_toggle_caretaker(self) -> None:
        self.shell.toggle_caretaker()

    @on(CaretakerScreen.Close)
    def _on_close_caretaker(self) -> None:
        if self.shell.caretaker_open:
            self.shell.back()

    @on(KioskScreen.AcknowledgeAlarm)
    def _on_acknowledge_alarm(self) -> None:
        self.shell.acknowledge_alarm()

    @on(KioskScreen.OpenChairView)
    def _on_open_chair_view(self, message: KioskScreen.OpenChairView) -> None:
        self.shell.open_chair_view(message.view)

    @on(ChairViewClosed)
    def _on_chair_view_closed(self) -> None:
        if self.shell.chair_view is not None:
            self.shell.back()

    @on(PinScreen.PinGiven)
    def _on_pin_given(self, message: PinScreen.PinGiven) -> None:
        self.shell.submit_chair_pin(message.pin)

    @on(EmergencyScreen.StepDone)
    def _on_step_done(self) -> None:
        self.feed(kiosk.WalkNext())  # at the last step the vote is counted (durably)

    @on(EmergencyScreen.VoterLeft)
    def _on_voter_left(self) -> None:
        self.shell.back()  # this voter leaves the routine without a counted vote

    @on(EmergencyScreen.NoValgkort)
    def _on_no_valgkort(self) -> None:
        self.feed(kiosk.WalkWithoutValgkort())

    @on(EmergencyScreen.ValgkortTyped)
    def _on_valgkort_typed(self, message: EmergencyScreen.ValgkortTyped) -> None:
        """Step 2: print the manual valgkort typed from the voter's ID, then on to step 3."""
        name, born, address = message.name, message.born, message.address
        problem = ("Skriv inn velgerens fulle navn." if not name.strip() else
                   birth_date_problem(born, today=self.shell.clock.now().date()) or
                   ("Skriv inn velgerens adresse." if not address.strip() else ""))  # fmt: skip
        self.feed(kiosk.ManualValgkortTyped(name, parse_birth_date(born), address, problem))

    @on(KioskScreen.Resumed)
    def _on_screen_resumed(self) -> None:
        self._show_view()

    @on(KioskScreen.OpenPrinterDialog)
    def _on_open_printer_dialog(self) -> None:
        self.printing.open_dialog()

    @on(PrinterDialog.Picked)
    def _on_printer_choice(self, message: PrinterDialog.Picked) -> None:
        self.printing.pick(message.index)

    @on(PrinterDialog.Recheck)
    def _on_recheck_printer(self) -> None:
        self.printing.recheck()

    # -- sim mode -----------------------------------------------------------------------------
    def _sim_view(self) -> SimView | None:
        """Sim mode's part of the view (the shell asks at every publish)."""
        if self.sim is None:
            return None
        return SimView(self.dock_open, self.sim_typed, self.dock_hint, self.dock_lines() if self.dock_open else "")

    def dock_lines(self) -> str:
        """The dock's lines, with the simulated supplies as they are now (a training kiosk
        shows its drill's panel here instead: valgkiosk.training.app)."""
        sim = self.sim
        assert sim is not None
        panel = getattr(self, "dock_text", None)
        if panel is not None:
            return str(panel())
        lines = ["UTVIKLERPANEL (kun simulering)  ·  F12 lukker  ·  F10 avslutter"]
        for key, card in zip(sim.card_keys, sim.cards):
            lines.append(f"  {key}  {card.label:<30} {card.number}")
        lines.append("  x  Uleselig strekkode    u  Koble fra skanneren    r  Koble til skanneren")
        gpio = sim.gpio
        if gpio is not None:
            supplies = []
            for key, (source, name) in SIM_POWER_KEYS.items():
                state = ("på" if gpio.powered(source) else "AV") if source in gpio.pins.inputs() else "ikke montert"
                supplies.append(f"{key.upper()}  {name}: {state}")
            lines.append("  " + "    ".join(supplies) + "   (av/på)")
        lines += self.printing.sim_lines()
        if sim.network is not None:
            down = Layer.TCP in sim.network.failing()
            lines.append(f"  n  Manntallet svarer {'IKKE' if down else 'normalt'} (av/på)")
        lines.append("  Sifre + Enter på tastaturet skanner som en håndskanner.")
        sender = getattr(self, "sms_sender", None)  # issue 15: the texts the simulated modem sent
        for at, number, sms in (sender.sent[-2:] if sender is not None else []):
            lines.append(f"  SMS {peopletime.clock(at)} til {number}: {sms[:120]}")
        return "\n".join(lines)

    def on_key(self, event: events.Key) -> None:
        """Sim mode's keys come first on the kiosk's screens (the dev dock, digits typed as a
        scan: keys a focused field did not take); the rest are the screens' BINDINGS."""
        if self.sim is not None and isinstance(self.screen, KioskScreen) and self.handle_sim_key(event):
            event.stop()
            event.prevent_default()

    def handle_sim_key(self, event: events.Key) -> bool:
        """Sim mode only: F12 dev dock and its keys, digits + Enter as a scan, F7/F8/F9 cut
        and restore the simulated router, SIMULA and mains power, F10 quits."""
        sim = self.sim
        if sim is None:
            return False
        key = event.key
        if key == "f12":
            self.dock_open = not self.dock_open
            self.shell.publish()
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
                self.shell.publish()  # the dock shows the supply at once, the sensors after the stable time
            return True
        if self.dock_open and key == "n" and sim.network is not None:
            net = sim.network
            down = Layer.TCP in net.failing()
            (net.restore_layer if down else net.fail_layer)(Layer.TCP)
            self.shell.publish()
            return True
        if event.character is not None and event.character.isdigit():
            self.sim_typed += event.character
            self.shell.publish()
            return True
        if key == "backspace" and self.sim_typed:
            self.sim_typed = self.sim_typed[:-1]
            self.shell.publish()
            return True
        if key == "enter" and self.sim_typed:
            text, self.sim_typed = self.sim_typed, ""
            sim.scanner.scan(text)
            self.shell.publish()
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
