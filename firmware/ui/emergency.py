"""The emergency routine on screen: the alarm banner every screen carries, the chair's PIN,
the six steps of the routine at the table, and the loggbok for the chair.

Pure view functions (banner, step lines, timeline) first, then the screens. The screens
only show the station's state and pass keys on to the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from valgkiosk.core import emergency as em
from valgkiosk.core import sentences
from valgkiosk.core.checkoff import State
from valgkiosk.core.loggbok import Entry
from valgkiosk.core.views import hhmm as hhmm, timeline as timeline  # re-exported: the view functions live in the core
from valgkiosk.core.views import banner as station_banner

# the chair's keys, defined with the other keys (re-exported: valgkiosk.ui.app reads them here)
from .screens import ACK_KEY as ACK_KEY, EMERGENCY_KEY as EMERGENCY_KEY, LOG_KEY as LOG_KEY
from .screens import KioskScreen, _steady, key_binding
from .widgets import plain


def banner(station: Any) -> tuple[str, str] | None:
    """The banner for a station (valgkiosk.station.Station): what the shell publishes as
    ``KioskView.banner`` (valgkiosk.core.views.banner), without the office's note."""
    return station_banner(station.state, space_warning=getattr(station.journal, "warning", ""),
                          upload_error=station.upload_error)  # fmt: skip


def step_lines(walk: em.Walk) -> list[tuple[str, str]]:
    """The six steps as (state, text): ``done``, ``now``, ``skipped`` or ``todo``."""
    lines = []
    for number, text in enumerate(em.STEPS_NB, start=1):
        if number == 2 and walk.step > 2 and not walk.manual_valgkort:
            state = "skipped"
        elif number < walk.step:
            state = "done"
        elif number == walk.step:
            state = "now"
        else:
            state = "todo"
        lines.append((state, text))
    return lines


STEP_MARK = {"done": "✔", "now": "▶", "skipped": "–", "todo": "·"}


def entry_line(entry: Entry, today: date | None = None) -> str:
    """One loggbok entry for the chair: its sentence (valgkiosk.core.sentences), the same
    words as on paper and in ``valgkiosk log show`` (never names)."""
    return sentences.sentence(entry, today)


@dataclass
class ChairViewClosed(Message):
    """Esc on the chair's PIN or loggbok screen: back to where the table was."""


# -- screens ------------------------------------------------------------------------------------


class EmergencyScreen(KioskScreen):
    """The table runs the emergency routine: one voter at a time through the six steps."""

    ESCAPE = "cancel_voter"

    # What the clerk asks for in the routine; the app hands each to the shell (valgkiosk.ui.app).
    @dataclass
    class StepDone(Message):
        """The current step is done; at the last step the vote is counted."""

    @dataclass
    class VoterLeft(Message):
        """Esc: this voter leaves the routine without a counted vote."""

    @dataclass
    class NoValgkort(Message):
        """Step 1: the voter has no valgkort (a manual one is typed at step 2)."""

    @dataclass
    class ValgkortTyped(Message):
        """Step 2: the manual valgkort as typed from the voter's ID, to print."""

        name: str
        born: str
        address: str

    #: Enter and M belong to the routine; while the manual valgkort's fields are typed in, the
    #: focused field takes them first (there Enter moves on through the form).
    BINDINGS = [key_binding("enter", "next_step"), key_binding("m", "no_valgkort")]
    AUTO_FOCUS = ""  # (not None: that means the app's default) the form's fields take focus only at step 2

    def compose_body(self) -> ComposeResult:
        yield Static("BEREDSKAPSRUTINE", id="emergency-title", markup=False)
        yield Static(id="emergency-count", markup=False)
        yield Static(id="emergency-voter", markup=False)
        yield Static(id="emergency-steps", markup=False)
        with Vertical(id="emergency-form"):
            yield Static("Manuelt valgkort – skriv inn fra legitimasjonen:", classes="label", markup=False)
            yield _steady(Input(id="mv-navn", placeholder="Fullt navn", max_length=120))
            yield _steady(Input(id="mv-born", placeholder="Fødselsdato DD.MM.ÅÅÅÅ", max_length=10))
            yield _steady(Input(id="mv-adresse", placeholder="Adresse", max_length=160))
        yield Static(id="emergency-message", markup=False)

    def hints(self, s: State) -> str:
        walk = self.view.walk
        if walk.step == 1:
            return "Skann valgkort  M Uten valgkort  F5 Avslutt (leder)  F6 Vaktmester  F11 Logg"  # 80 columns
        if walk.step == 2:
            return "Tab Neste felt   Enter Skriv ut manuelt valgkort   Esc Avbryt velgeren"
        if walk.last_step:
            return "Enter Konvolutten er i urnen «Beredskap»: tell stemmen   Esc Avbryt velgeren"
        return "Enter Steget er gjort   Esc Avbryt velgeren"

    def show_body(self, s: State) -> None:
        state = self.view.station
        since = f"  (startet kl. {hhmm(state.emergency_since)})" if state.emergency_since else ""
        self.query_one("#emergency-title", Static).update(plain(f"BEREDSKAPSRUTINE{since}"))
        self.query_one("#emergency-count", Static).update(
            plain(f"Beredskapsstemmer ved dette bordet: {state.vote_count}"))
        walk = self.view.walk
        if walk.manntallsnummer:
            voter = f"Velger med valgkort {walk.manntallsnummer[:10]} {walk.manntallsnummer[10:]}"
        elif walk.manual_valgkort:
            voter = "Velger uten valgkort: manuelt valgkort"
        else:
            voter = "Neste velger: skann valgkortet, eller trykk M om velgeren ikke har valgkort."
        self.query_one("#emergency-voter", Static).update(plain(voter))
        # step 1's line says it at step 1, the form at step 2: no message twice
        self.query_one("#emergency-voter").display = walk.step > 2
        lines = [(n, st, text) for n, (st, text) in enumerate(step_lines(walk), start=1)]
        if walk.step == 2:  # the form needs the rows: only the step at hand
            lines = [line for line in lines if line[1] == "now"]
        steps = "\n".join(f"{STEP_MARK[st]} {n}. {text}" for n, st, text in lines if st in ("now", "todo"))
        if walk.step > 2:  # the steps done in one line: the step at hand stays on an 80×25 console under a full banner
            steps = f"{STEP_MARK['done']} Steg 1–{walk.step - 1} er gjort.\n{steps}"
        self.query_one("#emergency-steps", Static).update(plain(steps))
        form = self.query_one("#emergency-form")
        opening = walk.step == 2 and not form.display
        form.display = walk.step == 2
        if opening:
            for field in self.query(Input):
                field.value = ""
            self.call_after_refresh(self.query_one("#mv-navn", Input).focus)
        elif walk.step != 2 and self.focused is not None:
            self.set_focus(None)
        message = self.query_one("#emergency-message", Static)
        tone, text = self.view.walk_message
        message.update(plain(text))
        message.display = bool(text)
        for name in ("-ok", "-bad", "-warn"):
            message.set_class(name == f"-{tone}", name)

    def action_next_step(self) -> None:
        if self.view.walk.step != 2:
            self.post_message(self.StepDone())

    def action_cancel_voter(self) -> None:
        self.post_message(self.VoterLeft())

    def action_no_valgkort(self) -> None:
        if self.view.walk.step == 1:
            self.post_message(self.NoValgkort())

    @on(Input.Submitted)
    def submit_form(self, event: Input.Submitted) -> None:
        event.stop()
        order = ["mv-navn", "mv-born", "mv-adresse"]
        values = {name: self.query_one(f"#{name}", Input).value for name in order}
        missing = next((n for n in order if not values[n].strip()), None)
        if missing is not None and event.input.id != "mv-adresse":
            self.query_one(f"#{order[order.index(event.input.id or order[0]) + 1]}", Input).focus()
            return
        self.post_message(self.ValgkortTyped(values["mv-navn"], values["mv-born"], values["mv-adresse"]))


class PinScreen(KioskScreen):
    """The chair confirms a decision about the routine with the PIN."""

    ESCAPE = "cancel_pin"

    @dataclass
    class PinGiven(Message):
        """The chair's PIN, to start or end the routine."""

        pin: str


    def compose_body(self) -> ComposeResult:
        yield Static(id="pin-title", markup=False)
        yield Static(id="pin-text", markup=False)
        yield Static("PIN-kode:", classes="label", markup=False)
        yield _steady(Input(id="pin", password=True, max_length=8, restrict=r"[0-9]*"))
        yield Static(id="pin-error", markup=False)

    def hints(self, s: State) -> str:
        return "Enter Bekreft   Esc Avbryt"

    def on_screen_resume(self) -> None:
        super().on_screen_resume()
        self.query_one("#pin", Input).value = ""
        self.query_one("#pin", Input).focus()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#pin", Input).focus()

    def show_body(self, s: State) -> None:
        ending = self.view.station.emergency
        if ending:
            title = "STEMMESTYRETS LEDER: AVSLUTT BEREDSKAPSRUTINEN"
            text = (f"{self.view.station.vote_count} beredskapsstemmer er registrert ved bordet. Når rutinen "
                    "avsluttes, overføres de til manntallet, og elektronisk avkrysning fortsetter.")
            if not self.view.station.reachable:
                text += "\nMerk: manntallet kan fortsatt ikke nås."
        else:
            title = "STEMMESTYRETS LEDER: START BEREDSKAPSRUTINEN"
            text = ("Bordet går over til beredskapsrutinen: oransje beredskapskonvolutter og urnen merket "
                    "«Beredskap». Kiosken veileder hver velger gjennom de seks stegene og teller stemmene.")
        self.query_one("#pin-title", Static).update(plain(title))
        self.query_one("#pin-text", Static).update(plain(text))
        error = self.query_one("#pin-error", Static)
        error.update(plain(self.view.pin_error))
        error.display = bool(self.view.pin_error)

    @on(Input.Submitted, "#pin")
    def submit_pin(self, event: Input.Submitted) -> None:
        event.stop()
        pin = event.input.value
        event.input.value = ""
        self.post_message(self.PinGiven(pin))

    def action_cancel_pin(self) -> None:
        self.post_message(ChairViewClosed())


class LogScreen(KioskScreen):
    """The loggbok for the chair: today's outages as a list and a timeline, and the latest entries."""

    ESCAPE = "close"

    def compose_body(self) -> ComposeResult:
        yield Static("LOGGBOK", id="log-title", markup=False)
        yield Static(id="log-chain", markup=False)
        yield Static("Brudd i forbindelsen til manntallet i dag:", classes="label", markup=False)
        yield Static(id="log-outages", markup=False)
        yield Static(id="log-timeline", markup=False)
        yield Static("Siste føringer:", classes="label", markup=False)
        yield Static(id="log-entries", markup=False)

    def hints(self, s: State) -> str:
        return "F11 eller Esc Tilbake"

    def show_body(self, s: State) -> None:
        log = self.view.loggbok  # the shell publishes it while this screen is up
        if log is None:
            return
        chain = self.query_one("#log-chain", Static)
        chain.update(plain(log.chain))
        chain.set_class(not log.intact, "-bad")
        chain.set_class(log.intact, "-ok")
        self.query_one("#log-outages", Static).update(plain(log.outages))
        self.query_one("#log-timeline", Static).update(plain(log.timeline))
        self.query_one("#log-entries", Static).update(plain(log.entries))

    def action_close(self) -> None:
        self.post_message(ChairViewClosed())
