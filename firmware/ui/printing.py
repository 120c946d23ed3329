"""Printing in the kiosk: the controller the app owns, and the printer's dialog.

Every receipt goes into the persistent :class:`~valgkiosk.printqueue.PrintQueue`
(on disk before a byte is sent) and prints in a worker thread (``asyncio.to_thread``),
never on the UI's loop. When the printer took a job, its loggbok entry is written (a
manual valgkort is logged only once it is on paper). A fault keeps the job, writes a
``printer_fault`` entry and opens the printer's dialog: what happened, what to do, and
the clerk's choices. Nothing is printed again unless the clerk picks it there; a job that
may already be partly on paper asks first whether it came out. Jobs kept from before a
restart are offered in the same dialog when the kiosk starts, never printed by
themselves.

The dialog (F1 from every screen) is also where the chair's printouts are: the closing
report and the day's log from the idle screen. Their numbers come from the register
(check-offs, misregistrations) and the loggbok (emergency votes, manual valgkort,
outages), counted by the pure :mod:`valgkiosk.core.tally`.

Sim mode: the simulated printer writes each receipt to its file, and the kiosk shows it
on screen; the dev dock puts the simulated printer out of paper, opens its cover, takes
it offline or unplugs it, and back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from valgkiosk.core import checkoff as co
from valgkiosk.core import peopletime
from valgkiosk.core import receipts as rc
from valgkiosk.core import tally
from valgkiosk.core.loggbok import Entry, head_of
from valgkiosk.core.manntallsnummer import InvalidManntallsnummer
from valgkiosk.core.manntallsnummer import parse as parse_manntallsnummer
from valgkiosk.core.timekeeping import mark_unsynchronised
from valgkiosk.ports.printer import Paper, Receipt
from valgkiosk.ports.register import KioskInfo, Voter

from .widgets import plain

if TYPE_CHECKING:
    from valgkiosk.printqueue import PrintJob, PrintOutcome, PrintQueue
    from valgkiosk.shell import KioskShell

log = logging.getLogger("valgkiosk.printing")

#: Opens the printer's dialog from every screen (the one F-key issue 4 left free).
PRINTER_KEY = "f1"
#: On the confirm and outcome screens: a manual valgkort for the voter on screen (M, as in
#: the emergency routine's "M Uten valgkort").
VALGKORT_KEY = "m"

NO_PRINTER = "Ingen kvitteringsskriver er satt opp på denne kiosken. Skriv for hånd, og varsle IKT-ansvarlig."
NO_VOTER = "Manuelt valgkort fra manntallet krever en velger på skjermen: søk med F2 først."
NO_LOGGBOK = "Loggboken er ikke satt opp på denne kiosken: utskriften kan ikke lages."
KIOSK_FAULT = "Feil i kiosken under utskrift. Varsle IKT-ansvarlig."
NO_STATION_COUNTS = ("Manntallet svarer ikke: rapporten for hele valglokalet kan ikke skrives ut nå. "
                     "Bordets egen avslutningsrapport kan skrives ut.")

#: How often (s) an open dialog that names a fault asks the printer whether it is still there.
FAULT_RECHECK = 2.0

#: What a fault is called in the dialog's title, by the port's error kind.
FAULT_TITLES = {
    "out_of_paper": "TOM FOR PAPIR",
    "cover_open": "DEKSELET ER ÅPENT",
    "offline": "SKRIVEREN ER IKKE KLAR",
    "timeout": "SKRIVEREN SVARER IKKE",
    "unplugged": "FINNER IKKE SKRIVEREN",
    "interrupted": "UTSKRIFTEN BLE AVBRUTT",
    "error": "FEIL VED UTSKRIFT",
}

#: The reasons the clerk can pick for a manual valgkort of a voter from the register.
REASON_LABELS = {
    rc.ValgkortReason.NO_VALGKORT: "Velgeren har ikke valgkort",
    rc.ValgkortReason.SPECIAL_VOTE: "Særskilt stemmegivning",
    rc.ValgkortReason.SAMI: "Sametingsvalget (ved lederens bord)",
}


class SimPrinter(Protocol):
    """The simulated printer's control surface (drivers/printer/simulated.py)."""

    device: Any  # EmulatedPrinter: .paper, .cover_open, .online
    plugged: bool
    last_text: str


@dataclass(frozen=True, slots=True)
class Place:
    """What the receipts say about where they come from, before the register says more."""

    kommune: str
    krets: str
    election: str
    kiosk_id: str = ""
    printer: str = ""  # backend and profile, for the test page
    image_version: str = ""


@dataclass(frozen=True, slots=True)
class DialogView:
    """What the printer's dialog shows: tone, title and message, its lines, where the
    highlight starts, and whether a fault is named (the dialog then asks for rechecks)."""

    tone: str
    title: str
    message: str
    labels: tuple[str, ...]
    highlighted: int = 0
    fault_named: bool = False


@dataclass(frozen=True, slots=True)
class Choice:
    """One line of the printer's dialog and what picking it does."""

    label: str
    act: Callable[[], None]


class Printing:
    """The app's printer: the queue, the jobs in flight, the dialog and its choices.

    ``shell`` is the kiosk's shell (the station, the register, the notice, the workers);
    ``app`` only shows and closes the dialogs. ``queue`` is None when the station has no
    printer (``kind = "none"``). With ``preview`` (sim mode) each receipt the simulated
    printer took is shown on screen. ``journal`` writes a loggbok entry (the shell's),
    ``entries`` reads the loggbook back (None without one), ``now`` is the wall clock for
    what is printed on the receipts.
    """

    def __init__(self, shell: KioskShell, app: App[Any], queue: PrintQueue | None, *, place: Place,
                 journal: Callable[[str, dict[str, Any]], None],
                 entries: Callable[[], Iterable[Entry]] | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
                 sim_printer: SimPrinter | None = None, preview: bool = False) -> None:  # fmt: skip
        self.shell = shell
        self.app = app
        self.queue = queue
        self.place = place
        self._journal = journal
        self._entries = entries
        self.now = now
        self.sim_printer = sim_printer
        self.preview = preview and sim_printer is not None  # sim mode: show each receipt on screen
        self.in_flight = 0
        self.last_printed = ""  # the title of the last receipt the printer took
        self.attention: str | None = None  # the job whose fault the dialog shows
        self.fault_gone = False  # the printer said it is ready again since that job's fault
        self._choices: list[Choice] = []  # the open dialog's lines
        self._rechecking = False

    # -- what the app asks ----------------------------------------------------------
    @property
    def columns(self) -> int:
        return self.queue.printer.columns if self.queue is not None else 48

    def learn(self, info: KioskInfo) -> None:
        """The register said who we are: its names go on the receipts."""
        self.place = Place(self.place.kommune or info.kommune, info.krets or self.place.krets,
                           info.election_title or self.place.election, info.kiosk_id or self.place.kiosk_id,
                           self.place.printer, self.place.image_version)  # fmt: skip

    def station(self) -> rc.StationInfo:
        """The station as printed: election, kommune, krets with its name, table."""
        shell = self.shell
        krets = f"{self.place.krets} {shell.station_label}".strip()
        return rc.StationInfo(self.place.election, self.place.kommune, krets, shell.bord, self.place.kiosk_id)

    def kept(self) -> list[PrintJob]:
        """Jobs that did not print (or may not have), oldest first."""
        return self.queue.pending() if self.queue is not None else []

    def status_line(self) -> str:
        """The frame's printer line: a job printing, or jobs waiting for the clerk ("" when neither)."""
        if self.in_flight:
            return "Skriver ut …"
        kept = self.kept()
        if kept:
            n = len(kept)
            what = f"{n} utskrift venter" if n == 1 else f"{n} utskrifter venter"
            return f"!  Skriveren: {what}. {PRINTER_KEY.upper()} Skriveren"
        return ""

    # -- printing ---------------------------------------------------------------------
    def print_receipt(self, receipt: Receipt, *, journal_kind: str | None = None,
                      journal_data: Mapping[str, Any] | None = None) -> None:
        """Queue ``receipt`` and print it in a worker thread; write the loggbok entry
        ``journal_kind`` once the printer took it; on a fault tell the clerk and keep it."""
        queue = self.queue
        if self.shell.clock_trusted is False:  # issue 17: no source vouches for the time
            receipt = mark_unsynchronised(receipt)
        if queue is None:
            log.warning("no printer configured: %s not printed", receipt.kind)
            self.shell.set_notice(NO_PRINTER)
            return

        def submit() -> PrintOutcome:
            return queue.submit(receipt, journal_kind=journal_kind or "", journal_data=journal_data)

        self._start(submit)

    def reprint(self, job_id: str) -> None:
        """The clerk asked to print a kept job again."""
        if self.queue is not None:
            queue = self.queue
            self._start(lambda: queue.retry(job_id))

    def discard(self, job_id: str, *, came_out: bool) -> None:
        """Drop a kept job: it came out after all (then it is logged as printed), or the
        clerk gives it up."""
        if self.queue is None:
            return
        from valgkiosk.printqueue import JobBusy

        try:
            job = self.queue.discard(job_id)
        except (JobBusy, KeyError):
            return
        if came_out and job.journal_kind:
            self._journal(job.journal_kind, {**dict(job.journal_data or {}), "bekreftet_av_avkrysser": True})
        log.info("print job %s (%s) %s", job_id, job.receipt.kind, "came out" if came_out else "given up")
        if self.attention == job_id:
            self.attention = None
        self.shell.publish()

    def _start(self, call: Callable[[], PrintOutcome]) -> None:
        self.in_flight += 1
        self.shell.publish()
        self.shell.spawn(self._run(call), "printer")

    async def _run(self, call: Callable[[], PrintOutcome]) -> None:
        try:
            outcome = await asyncio.to_thread(call)
        except Exception:  # noqa: BLE001 - a bug must not take the kiosk down; the job is kept
            log.exception("printing failed inside the kiosk")
            outcome = None
        finally:
            self.in_flight -= 1
        if outcome is None:  # the queue kept the job as failed, "may have printed"
            self._journal("printer_fault", {"feil": "error"})
            self.shell.set_notice(KIOSK_FAULT)
            self.open_dialog()
        elif outcome.printed:
            self._printed(outcome.job)
        else:
            self._failed(outcome.job)
        self.shell.publish()

    def _printed(self, job: PrintJob) -> None:
        if job.journal_kind:
            self._journal(job.journal_kind, dict(job.journal_data or {}))
        self.last_printed = job.receipt.title
        if self.attention == job.id:
            self.attention = None
        self.close_dialog()
        if self.preview and self.sim_printer is not None:
            self.app.push_screen(SimReceiptScreen(self.sim_printer.last_text, self.shell.core.checkoff.phase))

    def _failed(self, job: PrintJob) -> None:
        self._journal("printer_fault", {"feil": job.error_kind, "utskrift": job.receipt.kind,
                                        "kan_være_skrevet_ut": job.may_have_printed, "forsøk": job.attempts})
        self.attention = job.id
        self.fault_gone = False
        self.open_dialog()

    async def check_fault(self) -> None:
        """Ask the printer whether the fault the dialog names is still there (a printer that
        does not answer still has it): the title says a fault only while there is one."""
        if self.attention is None or self.queue is None:
            return
        printer = self.queue.printer
        try:
            status = await asyncio.to_thread(printer.status)
        except Exception:  # noqa: BLE001 - a status that cannot be read leaves the fault shown
            log.debug("printer status failed", exc_info=True)
            return
        self.fault_gone = status.online is True and status.paper is not Paper.OUT and status.cover_open is not True

    # -- the manual valgkort and the chair's printouts ------------------------------------
    def print_manual_valgkort(self, voter: Voter, reason: rc.ValgkortReason) -> None:
        """A manual valgkort filled in from the register, with the manntallsnummer as CODE128."""
        try:
            number = parse_manntallsnummer(voter.manntallsnummer)
        except InvalidManntallsnummer:
            number = None  # printed as "ukjent": the card is still valid as a written one
        card = rc.ManualValgkort(self.station(), self.now(), reason, voter.navn, voter.fodselsdato,
                                 voter.adresse or "(ikke oppgitt i manntallet)", number)  # fmt: skip
        self.print_receipt(rc.manual_valgkort(card, self.columns), journal_kind="manual_valgkort",
                           journal_data={"reason": reason.name.lower(), "manntallsnummer": number is not None,
                                         "fra_manntallet": True})  # fmt: skip

    def _todays_entries(self) -> list[Entry] | None:
        if self._entries is None:
            self.shell.set_notice(NO_LOGGBOK)
            return None
        return tally.todays(self._entries(), peopletime.local_date(self.now()))

    def print_closing_report(self) -> None:
        """The closing report: the register's counts with the loggbok's tally."""
        entries = self._todays_entries()
        if entries is not None:
            self.shell.spawn(self._closing_report(entries), "printer-data")

    async def _closing_report(self, entries: list[Entry]) -> None:
        counted = tally.tally(entries)
        checkoffs: int | None = None
        misregistrations: int | None = None
        try:
            counts = await self.shell.register.counts()
        except Exception as exc:  # noqa: BLE001 - printed as "ukjent"
            log.info("closing report without the register's counts: %s", exc)
        else:
            # the register's count is the table's (a report may come from another kiosk)
            checkoffs, misregistrations = counts.checkoffs, counts.misregistrations
        pending = len(self.shell.station.state.pending)
        report = rc.ClosingReport(self.station(), self.now(), checkoffs, counted.emergency_votes,
                                  counted.manual_valgkort, misregistrations, counted.outages,
                                  period_start=counted.period_start, unresolved=counted.unresolved,
                                  flagged_votes=counted.flagged_votes + self._checked_off_after_vote(),
                                  pending_upload=pending, unreadable=counted.unreadable,
                                  chain_head=self.chain_head())  # fmt: skip
        self.print_receipt(rc.closing_report(report, self.columns))

    def _checked_off_after_vote(self) -> tuple[rc.FlaggedVote, ...]:
        """Emergency votes whose voter this kiosk checked off electronically *afterwards*
        (the voter still showed "ready" until the votes were uploaded): flagged too. The
        kiosk's own check-offs are kept in memory only (not across a restart)."""
        today = peopletime.local_date(self.now())
        out = []
        for vote in self.shell.station.state.votes:
            checked = self.shell.core.checked_off_at(vote.manntallsnummer or "")
            if checked is not None and checked > vote.recorded_at and peopletime.local_date(vote.recorded_at) == today:
                number = vote.manntallsnummer or ""
                out.append(rc.FlaggedVote(vote.recorded_at, checked, f"{number[:10]} {number[10:]}"))
        return tuple(out)

    def print_station_report(self) -> None:
        """The whole station's counts from the register, every table (if it answers)."""
        self.shell.spawn(self._station_report(), "printer-data")

    async def _station_report(self) -> None:
        station_counts = getattr(self.shell.register, "station_counts", None)
        try:
            if station_counts is None:
                raise LookupError("the register port has no station counts")
            tables = await station_counts()
        except Exception as exc:  # noqa: BLE001 - the chair is told, nothing printed
            log.info("station report unavailable: %s", exc)
            self.shell.set_notice(NO_STATION_COUNTS)
            return
        rows = tuple(rc.TableCount(t.bord, t.checkoffs, t.emergency_votes, t.misregistrations) for t in tables)
        report = rc.StationReport(self.station(), self.now(), rows, chain_head=self.chain_head())
        self.print_receipt(rc.station_report(report, self.columns))

    def print_log(self) -> None:
        """Today's loggbok for the minutes, in sentences (without personal data), with its outages."""
        entries = self._todays_entries()
        if entries is not None:
            today = peopletime.local_date(self.now())
            printout = rc.LogPrintout(self.station(), self.now(), tally.log_lines(entries, today),
                                      tally.outages(entries), period_start=tally.tally(entries).period_start,
                                      chain_head=self.chain_head())  # fmt: skip
            self.print_receipt(rc.log_printout(printout, self.columns))

    def chain_head(self) -> str:
        """The whole loggbok's head now (COUNT:HASH), for the chair's printouts."""
        return head_of(self._entries()).text() if self._entries is not None else ""

    def print_test_page(self) -> None:
        """The IT team's self-test page."""
        page = rc.TestPage(self.place.kiosk_id or "ukjent", self.place.image_version or "ukjent", self.now(),
                           self.place.printer, self.station())  # fmt: skip
        self.print_receipt(rc.test_page(page, self.columns))

    # -- the dialog -------------------------------------------------------------------
    def choices(self, phase: co.Phase) -> list[Choice]:
        """What the clerk can do now: close, from idle the chair's printouts, and each kept job,
        oldest first. The fixed items come first, so they do not move as jobs pile up."""
        out: list[Choice] = [Choice("Lukk", lambda: None)]
        if phase is co.Phase.IDLE and self.queue is not None:
            out += [
                Choice("Avslutningsrapport for stemmestyrets leder", self.print_closing_report),
                Choice("Avslutningsrapport for hele valglokalet (fra manntallet)", self.print_station_report),
                Choice("Loggboken for i dag", self.print_log),
                Choice("Testside for IKT", self.print_test_page),
            ]
        for job in self.kept():
            title = job.receipt.title
            if job.may_have_printed:
                out.append(Choice(f"Kom ut helt: {title}. Ikke skriv ut igjen",
                                  partial(self.discard, job.id, came_out=True)))  # fmt: skip
                out.append(Choice(f"Kom ikke ut (helt): {title}. Skriv ut på nytt",
                                  partial(self.reprint, job.id)))  # fmt: skip
            else:
                out.append(Choice(f"Skriv ut på nytt: {title}", partial(self.reprint, job.id)))
                out.append(Choice(f"Forkast: {title} (skriv for hånd)",
                                  partial(self.discard, job.id, came_out=False)))  # fmt: skip
        return out

    def first_choice(self, choices: list[Choice]) -> int:
        """Where the highlight starts: the job that needs attention, else the first kept job."""
        labels = [c.label for c in choices]
        kept = self.kept()
        job = next((j for j in kept if j.id == self.attention), kept[0] if kept else None)
        if job is None:
            return 0
        return next((i for i, label in enumerate(labels) if label.endswith(job.receipt.title)
                     or f": {job.receipt.title}" in label), 0)  # fmt: skip

    def dialog_text(self) -> tuple[str, str, str]:
        """The dialog's tone, title and message."""
        kept = self.kept()
        job = next((j for j in kept if j.id == self.attention), None)
        if job is not None and not self.fault_gone:
            title = FAULT_TITLES.get(job.error_kind, FAULT_TITLES["error"])
            return "-bad", f"✖  SKRIVEREN: {title}", f"{job.receipt.title}: {job.error}"
        if job is not None:  # the fault is gone; the job still waits for the clerk
            todo = ("Kom den ut helt? Velg under." if job.may_have_printed
                    else "Den er ikke skrevet ut: velg «Skriv ut på nytt».")  # fmt: skip
            return "-warn", "!  SKRIVEREN ER KLAR IGJEN", f"{job.receipt.title}: {todo}"
        if kept:
            lines = [f"• {j.receipt.title}: {j.error or 'ikke skrevet ut ennå.'}" for j in kept]
            return "-warn", "!  UTSKRIFTER VENTER", "Disse er ikke skrevet ut (eller kanskje bare delvis):\n" + \
                "\n".join(lines)
        if self.queue is None:
            return "-warn", "SKRIVER", NO_PRINTER
        return "-info", "SKRIVER", "Utskrifter for stemmestyrets leder og IKT."

    def dialog_view(self) -> DialogView:
        """The dialog as it shows now (its lines as they were when it opened)."""
        tone, title, message = self.dialog_text()
        return DialogView(tone, title, message, tuple(c.label for c in self._choices),
                          self.first_choice(self._choices), self.attention is not None)  # fmt: skip

    def open_dialog(self) -> None:
        """Show the printer's dialog (in place of one, or of a sim receipt, already up)."""
        app = self.app
        if not app.is_running:
            return
        if isinstance(app.screen, (PrinterDialog, SimReceiptScreen)):
            app.pop_screen()
        phase = self.shell.core.checkoff.phase
        self._choices = self.choices(phase)
        app.push_screen(PrinterDialog(self.dialog_view(), phase))

    def pick(self, index: int) -> None:
        """The clerk picked line ``index`` of the dialog (which closed itself)."""
        if 0 <= index < len(self._choices):
            self._choices[index].act()

    def recheck(self) -> None:
        """The open dialog names a fault: ask the printer (off the loop) whether it is still there."""
        if not self._rechecking:
            self._rechecking = True
            self.shell.spawn(self._refresh_fault(), "printer-status")

    async def _refresh_fault(self) -> None:
        try:
            before = self.dialog_text()
            await self.check_fault()
        finally:
            self._rechecking = False
        screen = self.app.screen if self.app.is_running else None
        if self.dialog_text() != before and isinstance(screen, PrinterDialog) and screen.is_mounted:
            screen.show(self.dialog_view())

    def close_dialog(self) -> None:
        if self.app.is_running and isinstance(self.app.screen, PrinterDialog):
            self.app.pop_screen()

    def follow(self, phase: co.Phase) -> None:
        """The kiosk moved on (a scan, a timeout): a dialog opened in another phase goes,
        the voter comes first. Kept jobs stay kept; F1 shows them again."""
        if not self.app.is_running or not self.app.screen_stack:
            return
        screen = self.app.screen
        if isinstance(screen, (PrinterDialog, SimReceiptScreen)) and screen.phase is not phase:
            self.app.pop_screen()

    def offer_kept(self) -> None:
        """At start: jobs kept from before a restart are offered, not printed."""
        kept = self.kept()
        if kept:
            log.info("%d print jobs kept from before the restart", len(kept))
            self.open_dialog()

    # -- sim mode ---------------------------------------------------------------------
    SIM_KEYS = {"P": "papir", "D": "deksel", "O": "offline", "K": "kabel"}

    def sim_lines(self) -> list[str]:
        """The dev dock's printer line."""
        p = self.sim_printer
        if p is None:
            return []
        d = p.device
        return [f"  P  Papir: {'TOMT' if d.paper is Paper.OUT else 'ok'}    D  Deksel: "
                f"{'ÅPENT' if d.cover_open else 'lukket'}    O  Skriver: {'offline' if not d.online else 'klar'}"
                f"    K  Kabel: {'i' if p.plugged else 'UTE'}   (store bokstaver)"]

    def handle_sim_key(self, key: str) -> bool:
        """Dev dock keys that put the simulated printer into a fault and back."""
        p = self.sim_printer
        if p is None or key not in self.SIM_KEYS:
            return False
        d = p.device
        if key == "P":
            d.paper = Paper.OK if d.paper is Paper.OUT else Paper.OUT
        elif key == "D":
            d.cover_open = not d.cover_open
        elif key == "O":
            d.online = not d.online
        else:
            p.plugged = not p.plugged
        self.shell.publish()
        return True


class PrinterDialog(ModalScreen[None]):
    """The printer's dialog: a fault and what to do, kept jobs, the chair's printouts. It
    shows a :class:`DialogView` and posts what the clerk picks; the app hands it to :class:`Printing`."""

    @dataclass
    class Picked(Message):
        """The clerk picked line ``index`` (the dialog is closed)."""

        index: int

    @dataclass
    class Recheck(Message):
        """A fault is named: ask the printer whether it is still there."""

    #: Esc or F1 closes (with Shift or Caps Lock too: an F-key has none); other keys do nothing here.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", show=False),
        Binding(PRINTER_KEY, "close", show=False),
    ]

    def __init__(self, view: DialogView, phase: co.Phase) -> None:
        super().__init__()
        self.dialog = view
        self.phase = phase

    def compose(self) -> ComposeResult:
        v = self.dialog
        with Vertical(id="printer-dialog"):
            yield Static(plain(v.title), id="printer-title", classes=v.tone)
            yield Static(plain(v.message), id="printer-message")
            yield OptionList(*[Option(plain(label)) for label in v.labels], id="printer-choices")
            yield Static("Pil opp/ned og Enter Velg   Esc Lukk (utskriftene venter)", id="printer-hints",
                         markup=False)  # fmt: skip

    def on_mount(self) -> None:
        choices = self.query_one("#printer-choices", OptionList)
        choices.highlighted = self.dialog.highlighted
        choices.focus()
        if self.dialog.fault_named:  # while a fault is named, ask whether it is still there
            self._recheck()
            self.set_interval(FAULT_RECHECK, self._recheck)

    def _recheck(self) -> None:
        self.app.post_message(self.Recheck())

    def show(self, view: DialogView) -> None:
        """The fault's title and message as they are now (the lines do not move)."""
        self.dialog = view
        shown = self.query_one("#printer-title", Static)
        shown.remove_class("-bad", "-warn", "-info")
        shown.add_class(view.tone)
        shown.update(plain(view.title))
        self.query_one("#printer-message", Static).update(plain(view.message))

    @on(OptionList.OptionSelected, "#printer-choices")
    def pick(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss()
        self.app.post_message(self.Picked(event.option_index))

    def action_close(self) -> None:
        self.dismiss()


class SimReceiptScreen(ModalScreen[None]):
    """Sim mode only: the receipt the simulated printer just "printed", as on paper."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", show=False),
        Binding("enter", "close", show=False),
    ]

    def __init__(self, text: str, phase: co.Phase) -> None:
        super().__init__()
        self.text = text
        self.phase = phase

    def compose(self) -> ComposeResult:
        with Vertical(id="sim-receipt"):
            yield Static("SIMULERT SKRIVER   Pil opp/ned blar, Esc lukker", id="sim-receipt-title", markup=False)
            with VerticalScroll(id="sim-receipt-scroll"):
                yield Static(plain(self.text.rstrip("\n")), id="sim-receipt-paper")

    def on_mount(self) -> None:
        self.query_one("#sim-receipt-scroll", VerticalScroll).focus()

    def action_close(self) -> None:
        self.dismiss()
