"""The training kiosk: the real kiosk app (sim mode) against the embedded training register,
with the drill's panel where the dev dock was.

The panel is the voter in front of the clerk (what the voter says and shows; the ID when
asked for), what happens at the table (the router loses power, the printer runs out of
paper), and the trainee's actions towards the people the kiosk cannot see (ask for ID,
call the chair, send the voter to the chair's table). F12 arms the panel's keys: the
next letter is a panel action (the kiosk's own keys stay as they are otherwise).

Scoring listens where the shell feeds events to the pure core (:meth:`TrainingKioskApp.feed`
steps the core once more, which is pure, to see the effects) and where it writes the
loggbok; never at the screen.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from valgkiosk.core import kiosk
from valgkiosk.ports.power import PowerSource
from valgkiosk.ports.printer import Cut, Receipt, Separator, Text
from valgkiosk.ui.app import KioskApp

from . import TRAINING_MARK
from . import scoring as sc
from .drills import Catalogue, Drill, DrillVoter
from .register import (EmbeddedRegister, TrainingGuard, TrainingVoter, make_training_register,
                       voters as training_voters)

log = logging.getLogger("valgkiosk.training")

#: The panel's keys (after F12): key -> action.
PANEL_KEYS: dict[str, str] = {
    "l": "ask_id",
    "s": "scan_card",
    "k": "stamp",
    "c": "send_to_chair",
    "a": "send_elsewhere",
    "v": "call_chair",
    "p": "refill_paper",
    "n": "next_voter",
    "f": "finish",
}
#: The keys after a drill's report.
REPORT_KEYS = {"n": "next_drill", "g": "again", "u": "print_report", "r": "session_report"}
DEMO_PIN_TEXT = "1234"


def mark_receipt(receipt: Receipt) -> Receipt:
    """``receipt`` with the training mark at its head and foot."""
    mark = Text(TRAINING_MARK, bold=True, centred=True)
    blocks = list(receipt.blocks)
    tail: list[Any] = []
    while blocks and isinstance(blocks[-1], Cut):
        tail.insert(0, blocks.pop())
    return replace(receipt, blocks=(mark, Separator("="), *blocks, Separator("="), mark, *tail))


class MarkedPrinter:
    """A receipt printer that prints the training mark on every receipt (also reprints)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def print(self, receipt: Receipt) -> None:
        self.inner.print(mark_receipt(receipt))


@dataclass
class DrillResult:
    """One finished drill in the session report."""

    drill_id: str
    title: str
    score: sc.Score


@dataclass
class Session:
    """One trainee's session: the drills in order, where they are, what they scored."""

    catalogue: Catalogue
    folder: Path
    nickname: str = ""
    course_url: str = ""  # the course leader's page gets the progress here (no personal data)
    session_id: str = ""
    results: list[DrillResult] = field(default_factory=list)


class NicknameScreen(ModalScreen[str]):
    """A course in the browser: the trainee picks a nickname for the course leader's page."""

    DEFAULT_CSS = """
    NicknameScreen { align: center middle; }
    NicknameScreen > Vertical { width: 70; height: auto; border: thick $accent; padding: 1 2; background: $panel; }
    """

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(f"{TRAINING_MARK}\n\nVelkommen til øvingen! Velg et kallenavn (ikke ditt ekte navn): "
                         "kurslederen ser kallenavnet og poengene dine.", markup=False)
            yield Input(placeholder="Kallenavn", max_length=24, id="nickname")
            yield Static("Enter starter den første øvelsen.", markup=False)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)


class TrainingKioskApp(KioskApp):
    """The kiosk app in øvingsmodus."""

    CSS_PATH = str(Path(__file__).resolve().parent.parent / "ui" / "kiosk.tcss")
    training_mark = TRAINING_MARK
    dock_hint = "F12 Øvelsens handlinger"

    def setup_training(self, session: Session, guard: TrainingGuard, embedded: EmbeddedRegister,
                       first: int = 0) -> None:
        """Called by :func:`build_training_app` once the app is wired."""
        self.session = session
        self.guard = guard
        self.embedded = embedded
        self.drill_index = first
        self.drill: Drill = session.catalogue.drills[first]
        self.voters: dict[str, TrainingVoter] = training_voters()
        self.voter_index = 0
        self.trace = sc.Trace(self.shell.clock.monotonic())
        self.fired: set[int] = set()
        self.happened: list[str] = []
        self.id_shown = False
        self.chair_called = False
        self.panel_armed = False
        self.report: sc.Score | None = None
        self.session_report_open = False
        self.dock_open = True  # the drill's panel is always shown
        queue = self.printing.queue
        if queue is not None:
            queue.printer = MarkedPrinter(queue.printer)

    # -- the drill ---------------------------------------------------------------------------
    @property
    def voter(self) -> DrillVoter:
        return self.drill.voters[min(self.voter_index, len(self.drill.voters) - 1)]

    @property
    def person(self) -> TrainingVoter:
        return self.voters[self.voter.role]

    def on_mount(self) -> None:
        # Textual calls KioskApp.on_mount too, after this one (handlers run down the MRO)
        self._fire_start()
        self._report_progress()
        if self.session.course_url and not self.session.nickname:
            self.call_after_refresh(self.push_screen, NicknameScreen(), self._named)

    def _named(self, nickname: str | None) -> None:
        self.session.nickname = (nickname or "").strip()[:24] or "Anonym"
        self._report_progress()
        self.shell.publish()

    def _fire_start(self) -> None:
        for n, injection in enumerate(self.drill.injections):
            if injection.at_start:
                self._inject(n)

    def start_drill(self, index: int) -> None:
        """A fresh drill: a new training register, a new loggbok and station, the world
        restored (power on, network up, paper in), the kiosk at its idle screen."""
        from valgkiosk.core import checkoff as co
        from valgkiosk.journal import MemoryJournal
        from valgkiosk.station import Station

        self.drill_index = index % len(self.session.catalogue.drills)
        self.drill = self.session.catalogue.drills[self.drill_index]
        old_register = self.embedded
        self.embedded = make_training_register(self.session.folder)
        self.guard.replace(self.embedded.client)
        self._restore_world()
        old = self.shell.station
        self.shell.journal = MemoryJournal()
        self.shell.station = Station(journal=self.shell.journal, register=old.register, now=old.now, monotonic=old.monotonic,
                               connectivity=old.connectivity, timings=old.timings, indicators=old.indicators,
                               power_states=old.power_states, chair_pin_hash=old.chair_pin_hash,
                               on_change=old.on_change, new_vote_id=old.new_vote_id)
        self.printing._entries = self.shell.journal.entries  # the chair's printouts read this drill's loggbok
        self.shell.tasks.cancel("watchdog")  # the old station's watchdog stops; the new one's starts
        if self.shell.auto_tick and self.shell.station.connectivity is not None:
            self.shell.spawn(self.shell.station.run_watchdog(), "watchdog")
        connected = self.shell.kiosk_state.scanner_connected
        fresh = kiosk.initial_state(self.shell.kiosk_state.settings, self.shell.station.state)
        self.shell.core = replace(fresh, checkoff=replace(fresh.checkoff, scanner_connected=connected))
        self.shell.notice = ""
        self.voter_index = 0
        self.trace = sc.Trace(self.shell.clock.monotonic())
        self.fired = set()
        self.happened = []
        self.id_shown = self.chair_called = self.panel_armed = self.session_report_open = False
        self.report = None
        self._fire_start()
        self.shell.spawn(self._start(), "register")
        self.run_worker(self._close_later(old_register), group="training", exit_on_error=False)
        self._report_progress()
        self.shell.publish()

    async def _close_later(self, embedded: EmbeddedRegister) -> None:
        try:
            await embedded.client.aclose()
        finally:
            embedded.close()

    def _restore_world(self) -> None:
        sim = self.sim
        if sim is None:
            return
        if sim.gpio is not None:
            for source in sim.gpio.pins.inputs():
                sim.gpio.set_power(source, True)
        if sim.network is not None:
            sim.network.restore_link()
        if sim.printer is not None:
            from valgkiosk.ports.printer import Paper

            sim.printer.device.paper = Paper.OK

    def _inject(self, n: int) -> None:
        """Let injection ``n`` happen to the simulated table."""
        if n in self.fired:
            return
        self.fired.add(n)
        injection = self.drill.injections[n]
        sim = self.sim
        if injection.event in ("router_power_off", "router_power_on") and sim is not None:
            on = injection.event == "router_power_on"
            if sim.gpio is not None and PowerSource.ROUTER in sim.gpio.pins.inputs():
                sim.gpio.set_power(PowerSource.ROUTER, on)
            if sim.network is not None:
                (sim.network.restore_link if on else sim.network.cut_link)()
        elif injection.event == "prelude_checkoff":
            self.run_worker(self._prelude_checkoff(), group="training", exit_on_error=False)
        elif injection.event == "printer_out_of_paper" and sim is not None and sim.printer is not None:
            from valgkiosk.ports.printer import Paper

            sim.printer.device.paper = Paper.OUT
        if injection.say:
            self.happened.append(injection.say)

    async def _prelude_checkoff(self) -> None:
        """The check-off the drill starts after: scan the voter's card, confirm when asked."""
        import asyncio

        from valgkiosk.core import checkoff as co

        number = self.person.manntallsnummer
        if number is None or self.sim is None:
            return
        await asyncio.sleep(0.2)  # the register has answered who we are
        self.sim.scanner.scan(number)
        for _ in range(100):
            if self.shell.kiosk_state.phase is co.Phase.CONFIRMING:
                self.shell.confirm()
                return
            await asyncio.sleep(0.05)

    def record(self, action: str) -> None:
        """One step of the trainee's (or of the kiosk's, or of the world's) in the trace."""
        if self.report is not None:
            return  # the drill is over: nothing more counts
        self.trace.add(action, self.shell.clock.monotonic())
        log.debug("training step: %s", action)
        count = self.trace.names().count(action)
        for n, injection in enumerate(self.drill.injections):
            if not injection.at_start and injection.after == action and count >= injection.count:
                self._inject(n)
        if action != "finish" and sc.complete(self.drill.expects, self.trace.steps):
            self.call_later(self.finish_drill)

    def finish_drill(self, *, finished: bool = True) -> sc.Score:
        """End the drill: its score and feedback (shown in the panel)."""
        if self.report is not None:
            return self.report
        seconds = self.shell.clock.monotonic() - self.trace.started
        self.report = sc.score(self.drill.expects, self.drill.avoids, self.trace.steps, seconds, finished=finished)
        self.session.results.append(DrillResult(self.drill.id, self.drill.title, self.report))
        self.panel_armed = False
        self._report_progress()
        self.shell.publish()
        return self.report

    # -- the hooks: the core's events, the loggbok --------------------------------------------
    def feed(self, event: kiosk.Event) -> bool:
        before = self.shell.core
        after, effects = kiosk.step(before, event)  # pure: the same step the shell takes next
        for action in sc.actions_of(before, event, after, effects):
            self.record(action)
        return super().feed(event)

    def _journal(self, kind: str, data: Any) -> None:
        super()._journal(kind, data)
        for action in sc.actions_of_entry(kind, data):
            if hasattr(self, "trace"):
                self.record(action)

    async def _start(self) -> None:
        await super()._start()
        if self.guard.refusal:
            self.shell.set_notice(self.guard.refusal)

    # -- keys --------------------------------------------------------------------------------
    def handle_sim_key(self, event: events.Key) -> bool:
        """F12 arms the panel; the next letter is a panel action. Digits + Enter scan (as
        in sim mode), F10 ends the session in a terminal; the dev dock's other keys are gone."""
        key = event.key
        if key == "f12":
            self.panel_armed = not self.panel_armed
            self.shell.publish()
            return True
        if self.panel_armed and event.character:
            self.panel_armed = False
            self.panel_key(event.character)
            return True
        if key in ("f7", "f8", "f9"):
            return True  # the drill decides what happens to the power
        if key == "f10" or (event.character and event.character.isdigit()) or key in ("enter", "backspace"):
            return super().handle_sim_key(event)
        return False

    def panel_key(self, char: str) -> bool:
        """One of the panel's keys (after F12); False when it means nothing now."""
        if self.report is not None:
            action = REPORT_KEYS.get(char)
            if action == "next_drill":
                self.start_drill(self.drill_index + 1)
            elif action == "again":
                self.start_drill(self.drill_index)
            elif action == "print_report":
                self.print_session_report()
            elif action == "session_report":
                self.session_report_open = not self.session_report_open
                self.shell.publish()
            return action is not None
        action = PANEL_KEYS.get(char)
        if action is None:
            self.shell.publish()
            return False
        self.panel_action(action)
        return True

    def panel_action(self, action: str) -> None:
        """The trainee does ``action`` at the table."""
        if action == "finish":
            self.record("finish")
            self.finish_drill(finished=sc.complete(self.drill.expects, self.trace.steps))
            return
        if action == "ask_id":
            self.id_shown = True
        elif action == "scan_card":
            number = self.person.manntallsnummer if self.voter.has_valgkort else None
            if number is None or self.sim is None:
                self.shell.set_notice("Velgeren har ikke med valgkort.")
                return
            self.sim.scanner.scan(number)
        elif action == "call_chair":
            self.chair_called = True
        elif action == "refill_paper" and self.sim is not None and self.sim.printer is not None:
            from valgkiosk.ports.printer import Paper

            self.sim.printer.device.paper = Paper.OK
        elif action == "next_voter":
            if self.voter_index + 1 < len(self.drill.voters):
                self.voter_index += 1
                self.id_shown = False
        self.record(action)
        self.shell.publish()

    # -- the panel ---------------------------------------------------------------------------
    def dock_text(self) -> str:
        """The drill's panel (in the dev dock's place)."""
        drills = self.session.catalogue.drills
        head = f"ØVELSE {self.drill_index + 1} av {len(drills)}: {self.drill.title}"
        if self.session.nickname:
            head += f"  ·  {self.session.nickname}"
        if self.session_report_open:
            return "\n".join([head, *self.session_lines(), "  F12 så r: tilbake"])
        if self.report is not None:
            lines = [head, "RESULTAT"] + [f"  {line}" for line in self.report.lines()]
            lines.append("  F12 så: n Neste øvelse   g Gjenta   r Øktrapport   u Skriv ut øktrapporten")
            return "\n".join(lines)
        v, p = self.voter, self.person
        who = f"Velger {self.voter_index + 1} av {len(self.drill.voters)}" if len(self.drill.voters) > 1 else "Velgeren"
        lines = [head, f"  {self.drill.lead}", f"  {who} sier: «{v.says}»  Viser: {v.shows}."]
        if self.voter.has_valgkort and p.manntallsnummer:
            lines[-1] += f"  Valgkort: {p.manntallsnummer}"
        if self.id_shown:
            lines.append(f"  Legitimasjon ({v.id_card}): {v.id_name or p.navn}, født {p.born_text}")
        for said in self.happened[-2:]:
            lines.append(f"  ! {said}")
        if self.chair_called:
            lines.append(f"  Leder: {self.drill.chair_says} (Lederens PIN-kode i øvingen: {DEMO_PIN_TEXT})")
        armed = "VELG HANDLING: " if self.panel_armed else "F12 så: "
        keys = "  ".join(f"{k} {sc.PANEL_SHORT[a]}" for k, a in PANEL_KEYS.items()
                         if a != "next_voter" or len(self.drill.voters) > 1)
        lines.append(f"  {armed}{keys}")
        return "\n".join(lines)

    def session_lines(self) -> list[str]:
        """The session report: every drill done, its score and time."""
        out = ["ØKTRAPPORT" + (f" for {self.session.nickname}" if self.session.nickname else "")]
        if not self.session.results:
            return out + ["  Ingen øvelser fullført ennå."]
        for r in self.session.results:
            out.append(f"  {r.title}: {r.score.earned} av {r.score.total} poeng, {sc.duration_nb(r.score.seconds)}")
            out += [f"      {line}" for line in r.score.lines()[2:] if line.startswith("✖")]
        earned = sum(r.score.earned for r in self.session.results)
        total = sum(r.score.total for r in self.session.results)
        out.append(f"  Sammenlagt: {earned} av {total} poeng i {len(self.session.results)} øvelser")
        return out

    def session_receipt(self) -> Receipt:
        """The session report laid out for the receipt printer (the mark is added on print)."""
        columns = self.printing.columns
        blocks: list[Any] = [Text("Øktrapport", bold=True, double=True, centred=True)]
        for line in self.session_lines()[1:]:
            text = line.strip()
            while text:
                blocks.append(Text(text[:columns]))
                text = text[columns:]
        blocks.append(Cut())
        return Receipt("training_report", "Øktrapport (øving)", columns, tuple(blocks))

    def print_session_report(self) -> None:
        self.printing.print_receipt(self.session_receipt())

    # -- the course leader's page --------------------------------------------------------------
    def progress(self) -> dict[str, Any]:
        """What the course leader's page shows of this trainee: nickname, drill, scores. No
        personal data (the voters are synthetic, and none of them is sent)."""
        return {
            "session": self.session.session_id,
            "nickname": self.session.nickname or "(uten kallenavn)",
            "drill": self.drill.title,
            "drill_number": self.drill_index + 1,
            "drills": len(self.session.catalogue.drills),
            "results": [{"drill": r.title, "earned": r.score.earned, "total": r.score.total,
                         "seconds": round(r.score.seconds), "full": r.score.full} for r in self.session.results],
            "at": time.time(),
        }

    def _report_progress(self) -> None:
        if not self.session.course_url:
            return
        body = json.dumps(self.progress()).encode("utf-8")

        def send() -> None:
            request = urllib.request.Request(self.session.course_url, data=body, method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                urllib.request.urlopen(request, timeout=2).close()  # noqa: S310 - loopback, our own page
            except OSError as exc:
                log.info("the course page did not take the progress: %s", exc)

        self.run_worker(send, thread=True, group="course", exit_on_error=False)


TRAINING_TOML = """# Made by valgkiosk train: the training kiosk (sim mode) against the embedded training register.
[station]
kommune = "{kommune}"
krets = "{krets}"
bord = {bord}
navn = "{navn}"
kommune_navn = "{kommune_navn}"

[election]
year = {year}
title = "Øvingsvalg: Stortingsvalget {year}"

[register]
url = "memory:"

[scanner]
kind = "sim"

[printer]
kind = "sim"
output = "{folder}/siste-kvittering.txt"
queue_dir = "{folder}/print-queue"

[timings]
personal_data_seconds = 60
confirm_seconds = 120
duplicate_scan_seconds = 1.0
register_timeout_seconds = 5.0
retry_interval_seconds = 2.0

[office]
report_seconds = 600

[emergency]
chair_pin_hash = "{pin_hash}"
"""


def training_config(folder: Path) -> Path:
    """The training kiosk's station file in ``folder``."""
    from valgkiosk.demo import DEMO_PIN_HASH

    from . import register as tr

    path = folder / "ovingskiosk.toml"
    path.write_text(TRAINING_TOML.format(kommune=tr.KOMMUNE, krets=tr.KRETS, bord=tr.BORD, navn=tr.KRETS_NAVN,
                                         kommune_navn=tr.KOMMUNE_NAVN, year=tr.TRAINING_YEAR,
                                         folder=folder.resolve(), pin_hash=DEMO_PIN_HASH), encoding="utf-8")
    return path


def build_training_app(catalogue: Catalogue, *, folder: Path | None = None, first: int = 0, nickname: str = "",
                       course_url: str = "", session_id: str = "", clock: Any = None,
                       register: Any = None) -> TrainingKioskApp:
    """The training kiosk for one trainee: the production wiring (valgkiosk.bootstrap.build_app)
    in sim mode, against a fresh embedded training register (or ``register``, e.g. a
    municipality's own training register server, which the guard checks first)."""
    from valgkiosk import config as cfg
    from valgkiosk.bootstrap import build_app

    if not catalogue.drills:
        raise ValueError("Ingen øvelser å kjøre: " + " ".join(catalogue.problems))
    folder = folder or Path(tempfile.mkdtemp(prefix="valgkiosk-oving-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = training_config(folder)
    config = cfg.load(path)
    embedded = make_training_register(folder)
    guard = TrainingGuard(register if register is not None else embedded.client)
    app = build_app(config, sim=True, base=folder, clock=clock, register=guard, config_path=path,
                    app_class=TrainingKioskApp)
    import uuid

    app.setup_training(Session(catalogue, folder, nickname, course_url, session_id or uuid.uuid4().hex), guard,
                       embedded, first)
    assert isinstance(app, TrainingKioskApp)
    return app
