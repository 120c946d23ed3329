"""One screen per mode of the check-off flow. Screens render only the view the shell
published (valgkiosk.shell.KioskView) and ask for things only by posting the small
Message dataclasses nested on the screens; the app hands those to the shell, which does
everything else (tests/ui/test_screens_ask.py checks that no screen reaches further)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from valgkiosk.core import checkoff as co
from valgkiosk.core.checkoff import Phase, State, birth_date_text
from valgkiosk.ports.power import PowerSource
from valgkiosk.ports.register import SearchQuery

from . import platform_rows, status, texts
from .printing import PRINTER_KEY, REASON_LABELS, VALGKORT_KEY
from .widgets import BigText, Line, plain

if TYPE_CHECKING:
    from valgkiosk.shell import KioskView


#: Waiting for the register: Esc leaves (read-only asks, or a report the core says was left).
LEAVE_WAITING = frozenset({Phase.LOOKING_UP, Phase.SEARCHING, Phase.REPORTING_MISREGISTRATION})

#: The one key that opens the caretaker's screen from the clerk's, and closes it again.
CARETAKER_KEY = "f6"
CARETAKER_HINT = "F6 Vaktmester"
#: The receipt printer's keys (valgkiosk.ui.printing): the printer's dialog, a manual valgkort.
PRINTER_HINT = "F1 Skriver"
VALGKORT_HINT = "M Manuelt valgkort"
#: The chair's keys on every screen (valgkiosk.ui.emergency): acknowledge the alarm, the PIN, the loggbok.
ACK_KEY, EMERGENCY_KEY, LOG_KEY = "f3", "f5", "f11"


def key_binding(key: str, action: str) -> Binding:
    """A screen's key as the footer names it: a letter works with and without Shift or Caps Lock."""
    keys = f"{key},{key.upper()}" if len(key) == 1 and key.isalpha() else key
    return Binding(keys, action, show=False)


#: How long a new lookup may wait for the register before the screen says so (and hides the
#: last voter's details). An answer within it replaces the screen in one redraw instead of
#: two (the wait, then the answer), which was half of a scan's drawing (docs/benchmarks.md).
#: Far below what a person notices: the previous voter stays on screen that much longer.
BUSY_GRACE = 0.05


class KioskScreen(Screen[None]):
    """The frame every mode shares: station and count, scanner banner, notice, the mode's
    body, key hints, and (sim mode only) the dev dock."""

    HINTS: ClassVar[str] = ""
    #: The keys every screen shares; a screen adds its own (Textual merges the classes' BINDINGS).
    BINDINGS: ClassVar[list[BindingType]] = [
        key_binding(CARETAKER_KEY, "toggle_caretaker"),
        key_binding(ACK_KEY, "acknowledge_alarm"),
        key_binding(EMERGENCY_KEY, "chair_view('pin')"),
        key_binding(LOG_KEY, "chair_view('log')"),
        key_binding(PRINTER_KEY, "printer_dialog"),
        key_binding("escape", "escape"),
    ]
    #: What Esc does on this screen (an action's name) when no wait for the register is left with it.
    ESCAPE: ClassVar[str] = ""

    # What the clerk asks for from every screen; the app hands each to the shell (valgkiosk.ui.app).
    @dataclass
    class Ask(Message):
        """A clerk's event for the check-off flow (``event`` is a valgkiosk.core.checkoff
        event class, made with ``args`` and ``fields``); the shell stamps it with its clock."""

        event: type
        args: tuple[Any, ...] = ()
        fields: Mapping[str, Any] = field(default_factory=dict)

    @dataclass
    class StartMisregistration(Message):
        """F4: report the last check-off at this table as made on the wrong person."""

    @dataclass
    class StartManualValgkort(Message):
        """M: a manual valgkort for the voter on screen."""

    @dataclass
    class ToggleCaretaker(Message):
        """F6: open the caretaker's screen, or close it."""

    @dataclass
    class AcknowledgeAlarm(Message):
        """F3: the alarm is acknowledged (the buzzer stops)."""

    @dataclass
    class OpenChairView(Message):
        """F5 (``"pin"``) or F11 (``"log"``): the chair's screens."""

        view: str

    @dataclass
    class OpenPrinterDialog(Message):
        """F1: the printer's dialog."""

    @dataclass
    class Resumed(Message):
        """The screen is on top again (a dialog over it closed): the app checks that it is
        still the one the core's routing picks (the state may have moved on under the dialog)."""

    @property
    def view(self) -> KioskView:
        """What to show, as the kiosk's shell last published it (valgkiosk.shell.KioskView)."""
        return self.app.view  # type: ignore[attr-defined, no-any-return]

    def ask(self, message: Message) -> None:
        """Ask the app for something (one of the screens' messages): it hands it to the shell."""
        self.app.post_message(message)

    def compose(self) -> ComposeResult:
        yield Line(id="topbar", markup=False)
        yield Line(id="alarm-banner", markup=False)
        yield Line(texts.SCANNER_GONE, id="scanner-banner", markup=False)
        yield Line(id="notice", markup=False)
        yield Line(id="unresolved-line", markup=False)
        yield Line(id="printer-line", markup=False)
        yield Line(texts.LOOKING_UP, id="busy-title", markup=False)
        with Vertical(id="body"):
            yield from self.compose_body()
        if self.view.sim is not None:
            yield DevDock(id="devdock")
        yield Line(id="hints", markup=False)

    def compose_body(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.show(self.view.checkoff)

    def on_screen_resume(self) -> None:
        """A reused screen comes back: show the state as it is now, never what it last showed."""
        self._end_busy_grace()
        if self.is_mounted:
            self.show(self.view.checkoff)
        self.post_message(self.Resumed())

    def on_screen_suspend(self) -> None:
        self._end_busy_grace()

    #: The grace timer of a lookup not shown yet (see BUSY_GRACE), and whether it ran out.
    _busy_timer: Timer | None = None
    _busy_due: bool = False

    def _end_busy_grace(self) -> None:
        if self._busy_timer is not None:
            self._busy_timer.stop()
        self._busy_timer, self._busy_due = None, False

    def _busy_late(self) -> None:
        """The register has not answered within BUSY_GRACE: show that the kiosk waits."""
        self._busy_timer, self._busy_due = None, True
        if self.is_current:
            self.show(self.view.checkoff)

    def show(self, s: State) -> None:
        """Bring the screen up to date with ``s``."""
        if s.phase is Phase.LOOKING_UP and not self._busy_due and not self.query_one("#busy-title").display:
            # a new lookup: its answer usually comes within the grace and then replaces the
            # screen in one redraw; else the timer shows the wait (and hides the body) then
            if self._busy_timer is None:
                self._busy_timer = self.set_timer(BUSY_GRACE, self._busy_late)
            return
        if s.phase is not Phase.LOOKING_UP:
            self._end_busy_grace()
        v = self.view
        count = "–" if s.count_today is None else str(s.count_today)
        top = f" {v.station_label}  ·  Bord {v.bord}"
        if v.mark:  # øvingsmodus (valgkiosk.training): on every screen
            top = f" {v.mark}  ·" + top
        right = f"Avkrysset ved bordet i dag: {count} "
        width = max(self.size.width, 80)
        self.query_one("#topbar", Static).update(top + " " * max(1, width - len(top) - len(right)) + right)
        scanner_banner = self.query_one("#scanner-banner", Static)
        scanner_banner.display = not s.scanner_connected
        if not s.scanner_connected:
            scanner_banner.update(texts.scanner_banner(v.register_answers))
        unresolved = self.query_one("#unresolved-line", Static)
        unresolved.display = bool(s.unresolved)
        if s.unresolved:
            unresolved.update(texts.unresolved_line(len(s.unresolved), in_routine=v.station.emergency))
        self._show_banner(v.banner)
        notice = self.query_one("#notice", Static)
        notice.update(v.notice)
        notice.display = bool(v.notice)
        printer_line = self.query_one("#printer-line", Static)
        printer_line.update(v.printer_line)
        printer_line.display = bool(v.printer_line)
        # While the register is asked about a new card, every screen shows that in place
        # (no screen switch, which would cost a full layout on the hot path) with its body
        # hidden, so the last voter's details leave the screen at the scan.
        busy = s.phase is Phase.LOOKING_UP
        self.query_one("#busy-title").display = busy
        self.query_one("#body").display = not busy
        hints = "Esc Avbryt" if busy else self.hints(s)
        sim = v.sim
        if sim is not None:
            hints += "   " + sim.hint
            if sim.typed:
                hints = f"Tastatur som skanner: {sim.typed}_   " + hints
        self.query_one("#hints", Static).update(" " + hints)
        if sim is not None:
            dock = self.query_one(DevDock)
            dock.display = sim.dock_open
            if sim.dock_open:
                dock.update(sim.dock)
        if not busy:
            self.show_body(s)

    def show_body(self, s: State) -> None:
        pass

    def _show_banner(self, view: tuple[str, str] | None) -> None:
        """The alarm / emergency-routine banner (valgkiosk.ui.emergency.banner)."""
        widget = self.query_one("#alarm-banner", Static)
        widget.display = view is not None
        if view is not None:
            tone, text = view
            widget.update(plain(text))
            for name in ("-ok", "-bad", "-warn"):
                widget.set_class(name == f"-{tone}", name)

    def hints(self, s: State) -> str:
        return self.HINTS

    def action_toggle_caretaker(self) -> None:
        self.ask(self.ToggleCaretaker())

    def action_acknowledge_alarm(self) -> None:
        self.ask(self.AcknowledgeAlarm())

    def action_chair_view(self, view: str) -> None:
        self.ask(self.OpenChairView(view))

    def action_printer_dialog(self) -> None:
        self.ask(self.OpenPrinterDialog())

    async def action_escape(self) -> None:
        if self.view.phase in LEAVE_WAITING:
            self.action_cancel()  # a lookup, a search or a report waiting for the register
        elif self.ESCAPE:
            await self.run_action(self.ESCAPE)

    # actions shared by several screens
    def action_go_search(self) -> None:
        if self.view.register_answers:  # offered only while the register answers
            self.ask(self.Ask(co.StartSearch))

    def action_go_misregistration(self) -> None:
        self.ask(self.StartMisregistration())

    def action_cancel(self) -> None:
        self.ask(self.Ask(co.Cancel))

    def action_manual_valgkort(self) -> None:
        self.ask(self.StartManualValgkort())


class DevDock(Static):
    """Sim mode only: the dev dock's lines, as the view carries them (valgkiosk.ui.app.SimView)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", markup=False, **kwargs)  # type: ignore[arg-type]


class IdleScreen(KioskScreen):
    """Waiting for the next voter."""

    HINTS = f"F2 Søk uten valgkort  F4 Feilregistrering  {CARETAKER_HINT}  F11 Logg"  # fits 80 columns
    BINDINGS = [key_binding("f2", "go_search"), key_binding("f4", "go_misregistration")]

    def hints(self, s: State) -> str:
        if not self.view.register_answers:
            return f"{PRINTER_HINT}  F4 Feilregistrering  {CARETAKER_HINT}  F11 Logg"
        return f"{PRINTER_HINT}  {self.HINTS}"

    def compose_body(self) -> ComposeResult:
        yield Line("SKANN VALGKORT", id="idle-title", markup=False)
        yield Line("Velgeren viser legitimasjon og valgkort. Uten valgkort: F2.", id="idle-lead", classes="lead",
                     markup=False)  # fmt: skip
        yield Line("Avkrysset ved dette bordet i dag:", classes="label", markup=False)
        yield BigText("", id="idle-count")
        yield Line("", id="idle-count-unknown", markup=False)

    def show_body(self, s: State) -> None:
        # one headline per state: the scanner's banner or the alarm's stands alone
        ready = s.scanner_connected and self.view.banner is None
        self.query_one("#idle-title").display = ready
        lead = self.query_one("#idle-lead", Static)
        lead.display = ready or (s.scanner_connected and self.view.register_answers)
        lead.update("Velgeren viser legitimasjon og valgkort." + (" Uten valgkort: F2." if self.view.register_answers
                                                                  else ""))  # fmt: skip
        known = s.count_today is not None
        big = self.query_one("#idle-count", BigText)
        big.set_text(str(s.count_today) if known else "")
        big.display = known
        unknown = self.query_one("#idle-count-unknown", Static)
        unknown.update("" if known else "(ukjent: manntallet har ikke svart)")
        unknown.display = not known


class ConfirmScreen(KioskScreen):
    """Name and date of birth, large, to compare with the ID; Enter checks off."""

    HINTS = "Enter KRYSS AV   Esc Avbryt"
    ESCAPE = "cancel"

    @dataclass
    class Confirm(Message):
        """Enter: check off the voter on screen."""

    BINDINGS = [key_binding("enter", "confirm"), key_binding(VALGKORT_KEY, "manual_valgkort")]

    def hints(self, s: State) -> str:
        return f"{self.HINTS}   {VALGKORT_HINT}"

    def compose_body(self) -> ComposeResult:
        yield Line("Kontroller legitimasjonen:", classes="label", markup=False)
        yield Line(id="voter-name", markup=False)
        yield Line("Født:", classes="label", markup=False)
        yield BigText("", id="voter-born")
        yield Line(id="voter-sami", classes="note", markup=False)
        yield Line("Stemmer det med legitimasjonen?  Trykk Enter for å krysse av.", id="confirm-prompt",
                     markup=False)  # fmt: skip

    def show_body(self, s: State) -> None:
        voter = s.status.voter if s.status else None
        if voter is None:
            return
        self.query_one("#voter-name", Static).update(plain(voter.navn.upper()))
        self.query_one("#voter-born", BigText).set_text(birth_date_text(voter.fodselsdato))
        sami = self.query_one("#voter-sami", Static)
        note = texts.sami_note(voter, s.settings.election_year)
        sami.update(note)
        sami.display = bool(note)

    def action_confirm(self) -> None:
        self.ask(self.Confirm())


class CheckingOffScreen(KioskScreen):
    """A check-off is on its way, or its answer was lost and it is being asked again. Esc
    leaves it to go on in the background (the core keeps it, and every screen says so)."""

    HINTS = "Esc Gå videre (kiosken spør manntallet videre i bakgrunnen)"
    ESCAPE = "cancel"

    def compose_body(self) -> ComposeResult:
        yield Line(id="verdict", markup=False)
        yield Line(id="voter-line", markup=False)
        yield Line(id="todo", markup=False)
        yield Line(id="details", markup=False)

    def show_body(self, s: State) -> None:
        view = texts.uncertain_view(s)
        _show_view(self, view, s)


class OutcomeScreen(KioskScreen):
    """The verdict: colour, words and a symbol, and what to do next."""

    HINTS = f"Esc Ferdig   F2 Søk uten valgkort   F4 Meld feilregistrering   {CARETAKER_HINT}"
    ESCAPE = "cancel"
    BINDINGS = [key_binding("f2", "go_search"), key_binding("f4", "go_misregistration"),
                key_binding(VALGKORT_KEY, "manual_valgkort")]

    def hints(self, s: State) -> str:
        search = "   F2 Søk" if self.view.register_answers else ""
        if s.status is not None and s.status.voter is not None:  # a voter from the register: M prints
            return f"Esc Ferdig   {VALGKORT_HINT}{search}   F4 Feilregistrering   {CARETAKER_HINT}"
        if not self.view.register_answers:
            return f"Esc Ferdig   F4 Meld feilregistrering   {CARETAKER_HINT}"
        return self.HINTS

    def compose_body(self) -> ComposeResult:
        yield Line(id="verdict", markup=False)
        yield Line(id="voter-line", markup=False)
        yield Line(id="todo", markup=False)
        yield Line(id="details", markup=False)

    def show_body(self, s: State) -> None:
        _show_view(self, texts.outcome_view(s), s)


def _show_view(screen: KioskScreen, view: texts.View, s: State) -> None:
    verdict = screen.query_one("#verdict", Static)
    verdict.update(plain(f"{view.symbol}  {view.title}"))
    for tone in (texts.OK, texts.BAD, texts.WARN):
        verdict.set_class(tone == view.tone, f"-{tone}")
    screen.query_one("#todo", Static).update(plain(view.todo))
    voter = s.status.voter if s.status else None
    line = screen.query_one("#voter-line", Static)
    line.update(plain(texts.voter_line(voter)) if voter else "")
    line.display = voter is not None
    details = screen.query_one("#details", Static)
    details.update(plain("\n".join(view.details)))
    details.display = bool(view.details)


_DATE = re.compile(r"^\s*(\d{1,2})[.\-/ ]?(\d{1,2})[.\-/ ]?(\d{4})\s*$")


def parse_birth_date(text: str) -> date | None:
    """``01.04.1980``, ``1.4.1980``, ``01041980`` or ``1980-04-01``; None if not a date."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    m = _DATE.match(text)
    if not m:
        return None
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    except ValueError:
        return None


def birth_date_problem(text: str, *, today: date | None = None) -> str:
    """Why ``text`` is no date of birth (Norwegian), or "" when it is one."""
    text = text.strip()
    if not text:
        return "Skriv inn velgerens fødselsdato (DD.MM.ÅÅÅÅ)."
    born = parse_birth_date(text)
    if born is None:
        if _DATE.match(text) or re.match(r"^\s*\d{4}-\d{2}-\d{2}\s*$", text):
            return f"Datoen {text} finnes ikke: sjekk fødselsdatoen på legitimasjonen."
        return "Fødselsdatoen må skrives som DD.MM.ÅÅÅÅ."
    if born > (today or date.today()):
        return f"Fødselsdatoen {text} er fram i tid: sjekk fødselsdatoen på legitimasjonen."
    return ""


def _steady(field: Input) -> Input:
    """A steady cursor: calmer on the console, and stable in snapshots."""
    field.cursor_blink = False
    return field


class SearchScreen(KioskScreen):
    """No valgkort: find the voter by fødselsnummer, or by name and date of birth."""

    ESCAPE = "cancel"
    _shown_hits: tuple[object, ...] | None = None

    def compose_body(self) -> ComposeResult:
        yield Line("SØK UTEN VALGKORT", id="search-title", markup=False)
        yield Line("Fødselsnummer (11 sifre):", classes="label", markup=False)
        yield _steady(Input(id="fnr", placeholder="11 sifre", max_length=11, restrict=r"[0-9 ]*"))
        yield Line("– eller navn og fødselsdato –", classes="label", markup=False)
        with Horizontal(id="name-row"):
            yield _steady(Input(id="navn", placeholder="Navn", max_length=200))
            yield _steady(Input(id="born", placeholder="DD.MM.ÅÅÅÅ", max_length=10))
        yield Line(id="search-error", markup=False)
        yield OptionList(id="hits")

    def hints(self, s: State) -> str:
        if s.phase is Phase.SEARCHING:
            return "Søker …"
        if s.search_hits:
            return "Pil opp/ned og Enter Velg   Tab Neste felt   Esc Avbryt"
        return "Enter Søk   Tab Neste felt   Esc Avbryt"

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#fnr", Input).focus()

    def on_screen_suspend(self) -> None:
        """The search is left: no fødselsnummer, name or date stays in the form."""
        self.clear_form()

    def on_screen_resume(self) -> None:
        self.clear_form()
        super().on_screen_resume()

    def clear_form(self) -> None:
        if not self.is_mounted:
            return
        for field in self.query(Input):
            field.value = ""
        self._shown_hits = None
        self.query_one("#hits", OptionList).clear_options()
        self.query_one("#fnr", Input).focus()

    def show_body(self, s: State) -> None:
        err = self.query_one("#search-error", Static)
        err.update(plain(s.search_error))
        err.display = bool(s.search_error)
        hits = self.query_one("#hits", OptionList)
        if s.search_hits != self._shown_hits:
            self._shown_hits = s.search_hits
            hits.clear_options()
            for v in s.search_hits:
                place = f"   {v.krets_navn}" if v.krets_navn else ""
                hits.add_option(Option(plain(f"{v.navn}   født {birth_date_text(v.fodselsdato)}{place}")))
            if s.search_truncated:
                hits.add_option(Option(plain("Flere treff: søk mer presist."), disabled=True))
            if s.search_hits:
                hits.highlighted = 0
                hits.focus()
        hits.display = bool(s.search_hits)

    @on(Input.Submitted)
    def submit(self) -> None:
        """Search by fødselsnummer, or by name and date of birth; never by one when the
        other is filled in too (the clerk is asked to use one)."""
        fnr = self.query_one("#fnr", Input).value.replace(" ", "")
        navn = self.query_one("#navn", Input).value.strip()
        born_text = self.query_one("#born", Input).value.strip()
        problem = birth_date_problem(born_text) if born_text else ""
        query = SearchQuery(fodselsnummer=fnr or None, navn=navn or None,
                            fodselsdato=parse_birth_date(born_text) if born_text and not problem else None)  # fmt: skip
        # both kinds filled in: the core asks for one; a date that cannot be a birth date says why
        self.ask(self.Ask(co.SubmitSearch, (query,), {"born_problem": problem}))

    @on(OptionList.OptionSelected)
    def pick(self, event: OptionList.OptionSelected) -> None:
        self.ask(self.Ask(co.Pick, (event.option_index,)))


class MisregistrationScreen(KioskScreen):
    """Report that the last check-off at this table was made on the wrong person."""

    ESCAPE = "cancel"
    BINDINGS = [key_binding("enter", "confirm")]

    def compose_body(self) -> ComposeResult:
        yield Line("!  MELD FEILREGISTRERING", id="misreg-title", classes="-warn", markup=False)
        yield Line(id="misreg-text", markup=False)

    def hints(self, s: State) -> str:
        return "Melder …" if s.phase is Phase.REPORTING_MISREGISTRATION else "Enter Meld   Esc Avbryt"

    def show_body(self, s: State) -> None:
        last = s.last_checkoff
        when = f" ({texts.clock_time(last.checked_off_at)})" if last and last.checked_off_at else ""
        text = (f"Meldes: den siste avkrysningen ved dette bordet{when}. Den ble gjort på feil person.\n\n"
                "Trykk Enter for å melde det til manntallet. Velgeren foran deg: ikke stemple; henvis velgeren "
                "til stemmestyrets leder, som tar imot en særskilt stemmegivning. Varsle lederen om "
                "feilregistreringen.")  # fmt: skip
        if s.phase is Phase.REPORTING_MISREGISTRATION:
            text = "Melder feilregistreringen til manntallet …"
        self.query_one("#misreg-text", Static).update(plain(text))

    def action_confirm(self) -> None:
        self.ask(self.Ask(co.ConfirmMisregistration))


class CaretakerScreen(KioskScreen):
    """For the vaktmester: power and network at a glance, and the one next thing to check.

    Opened from the clerk's idle or outcome screen with F6 and closed with F6 or Esc; a
    scan while it is up takes the kiosk back to the check-off (the voter comes first)."""

    HINTS = "F6 eller Esc Tilbake til avkrysningen"
    ESCAPE = "close"

    @dataclass
    class Close(Message):
        """Esc: back to the check-off."""

    TONE_CLASS = {texts.OK: "-ok", texts.BAD: "-bad", status.UNKNOWN: "-unknown"}

    def compose_body(self) -> ComposeResult:
        yield Line("VAKTMESTER: STRØM OG NETT", id="caretaker-title", markup=False)
        yield Line("Strøm", classes="label", markup=False)
        for row in status.power_rows({}):
            yield from self._compose_row(row)
        if self.view.has_ups:
            yield from self._compose_row(platform_rows.ups_row(None, None), tall=True)
        yield Line("Nett", classes="label", markup=False)
        for row in status.network_rows(status.NetworkLayers.unknown()):
            yield from self._compose_row(row)
        if self.view.has_modem:
            yield Line("Mobilt reservenett", classes="label", markup=False)
            yield from self._compose_row(status.modem_row(None), tall=True)
        if self.view.has_clock:
            yield Line("Klokke", classes="label", markup=False)
            yield from self._compose_row(platform_rows.clock_row(None), tall=True)
        yield Line(id="next-check", markup=False)

    @staticmethod
    def _compose_row(row: status.Row, *, tall: bool = False) -> ComposeResult:
        with Horizontal(classes="status-row -tall" if tall else "status-row"):
            yield Line(row.label, classes="status-label", markup=False)
            yield Line(id=f"status-{row.key}", classes="status-state", markup=False)

    def show_body(self, s: State) -> None:
        v = self.view
        power = v.power_states
        rows = [*status.power_rows(power), *status.network_rows(v.network)]
        if v.has_ups:
            rows.append(platform_rows.ups_row(power[PowerSource.MAINS], v.ups_reading))
        if v.has_modem:
            rows.append(status.modem_row(v.modem_status))
            if v.modem_note:  # issue 15: the last text message's result
                rows[-1] = replace(rows[-1], detail=v.modem_note)
        if v.has_clock:
            rows.append(platform_rows.clock_row(v.clock_status))
        for row in rows:
            self._set_tone(self.query_one(f"#status-{row.key}", Static), row.tone,
                           f"{row.symbol}  {row.words}" + (f"  ({row.detail})" if row.detail else ""))  # fmt: skip
        nxt = status.next_view(power, v.network)
        warnings = [f"! {w}\n" for w in v.config_warnings]  # e.g. insecure http (valgkiosk.config)
        text = plain("".join(warnings) + f"{nxt.symbol}  NESTE: {nxt.title}\n", "bold")
        text.append(nxt.reason)
        tone = texts.WARN if nxt.tone == texts.BAD else nxt.tone
        tone = texts.WARN if warnings and tone == texts.OK else tone
        self._set_tone(self.query_one("#next-check", Static), tone, text)

    def _set_tone(self, widget: Static, tone: str, content: object) -> None:
        widget.update(plain(content) if isinstance(content, str) else content)  # type: ignore[arg-type]
        for name in ("-ok", "-bad", "-warn", "-unknown"):
            widget.set_class(name == self.TONE_CLASS.get(tone, f"-{tone}"), name)

    def action_close(self) -> None:
        self.ask(self.Close())


class ValgkortScreen(KioskScreen):
    """A manual valgkort for the voter the register found: the clerk picks the reason,
    Enter prints (valgkiosk.ui.printing), Esc goes back without printing."""

    ESCAPE = "cancel"
    HINTS = "Pil opp/ned og Enter Skriv ut   Esc Tilbake"

    def compose_body(self) -> ComposeResult:
        yield Line("MANUELT VALGKORT", id="valgkort-title", markup=False)
        yield Line(id="valgkort-voter", markup=False)
        yield Line("Hvorfor skrives valgkortet ut?", classes="label", markup=False)
        yield OptionList(*[Option(label) for label in REASON_LABELS.values()], id="valgkort-reasons")

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        reasons = self.query_one("#valgkort-reasons", OptionList)
        reasons.highlighted = 0
        reasons.focus()

    def on_mount(self) -> None:
        super().on_mount()
        self.on_screen_resume()

    def show_body(self, s: State) -> None:
        voter = s.status.voter if s.status else None
        if voter is None:
            return
        lines = [voter.navn, f"Født {birth_date_text(voter.fodselsdato)}", voter.adresse or "(adressen hentes fra manntallet ved utskrift)"]
        self.query_one("#valgkort-voter", Static).update(plain("\n".join(lines)))

    @on(OptionList.OptionSelected, "#valgkort-reasons")
    def pick(self, event: OptionList.OptionSelected) -> None:
        self.ask(self.Ask(co.ChooseValgkortReason, (list(REASON_LABELS)[event.option_index],)))


class ConfigErrorScreen(Screen[None]):
    """The kiosk refuses to start: what is wrong with the configuration, and who fixes it."""

    def __init__(self, path: str, problems: list[str]) -> None:
        super().__init__()
        self.path, self.problems = path, problems

    def compose(self) -> ComposeResult:
        yield Line("✖  KIOSKEN KAN IKKE STARTE", id="config-title", classes="-bad", markup=False)
        yield Line(plain(f"Konfigurasjonsfilen {self.path} har feil:"), classes="label")
        yield Line(plain("\n".join(f"• {p}" for p in self.problems)), id="config-problems")
        yield Line("Ring IKT-ansvarlig (valgtelefonen, tast 3). Stemmestyrets leder avgjør om "
                     "beredskapsrutinen skal tas i bruk.", id="config-help", markup=False)  # fmt: skip


#: The dev dock's keys for the simulated supplies (sim mode only; each toggles).
SIM_POWER_KEYS: dict[str, tuple[PowerSource, str]] = {
    "f7": (PowerSource.ROUTER, "Strøm til ruteren"),
    "f8": (PowerSource.SIMULA, "Strøm til SIMULA"),
    "f9": (PowerSource.MAINS, "Strømnett"),
}
