"""Receipt layouts: pure functions from the kiosk's data to printer-independent blocks.

Every layout is sized by the printer profile's columns (42 on a TM-T88V, 48 on a
TM-T20II, font A). Long values are word-wrapped with a hanging indent; a word longer
than the line is broken with a hyphen, so no character is lost. Text is made printable here, not in
the driver, so that the screen preview, the simulated printer and the paper agree:
characters that code page CP865 cannot print become a visible ``?`` (after Unicode NFC,
so a decomposed "å" stays "å"), and control characters become ``?`` too, so a name can
never smuggle printer commands.

The manual valgkort puts the voter's name, date of birth and address in one block at
the top, so that it shows in the window of the orange emergency envelope.
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from valgkiosk.core import peopletime
from valgkiosk.core.emergency import duration_nb
from valgkiosk.core.manntallsnummer import Manntallsnummer
from valgkiosk.core.values import Barcode, Block, Cut, Receipt, Separator, Text

__all__ = [
    "COLUMNS",
    "ClosingReport",
    "FlaggedVote",
    "LogEntry",
    "LogPrintout",
    "ManualValgkort",
    "Outage",
    "REPLACEMENT",
    "StationInfo",
    "StationReport",
    "TableCount",
    "TestPage",
    "ValgkortReason",
    "closing_report",
    "format_duration",
    "log_printout",
    "manual_valgkort",
    "printable",
    "receipt_text",
    "station_report",
    "test_page",
    "unreadable_nb",
    "wrap",
]

#: The widths the layouts are made for (font A): TM-T88V and TM-T20II.
COLUMNS = (42, 48)

#: What a character the printer cannot print becomes.
REPLACEMENT = "?"

#: What the test page prints to show the code page. Every character is in CP865 (so a
#: "?" on paper is a fault); ø and ¤ are where CP865 differs from the printer's power-up
#: CP437 (which prints ¢ and »), so a page printed without ``ESC t 5`` shows it.
CHARSET_SAMPLE = "æøå ÆØÅ é ü ö ¤ £ ½"


# -- inputs -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StationInfo:
    """Where the receipt comes from: election, kommune, station and table."""

    election: str  # e.g. "Stortingsvalget 2025"
    kommune: str  # e.g. "0301 Oslo"
    station: str  # the valgkrets / polling station, e.g. "0101 Sentrum"
    table: int
    kiosk_id: str = ""


class ValgkortReason(str, enum.Enum):
    """Why a manual valgkort was written; the value is printed."""

    EMERGENCY = "Beredskap: manntallet utilgjengelig"
    NO_VALGKORT = "Velgeren har ikke valgkort"
    SPECIAL_VOTE = "Særskilt stemmegivning"
    SAMI = "Sametingsvalget"


@dataclass(frozen=True, slots=True)
class ManualValgkort:
    """A manual valgkort: typed by the clerk, or filled in from the register."""

    station: StationInfo
    printed_at: datetime
    reason: ValgkortReason
    name: str
    birth_date: date
    address: str
    manntallsnummer: Manntallsnummer | None = None


@dataclass(frozen=True, slots=True)
class Outage:
    """One break in the connection to the register; ``ended`` is None while it lasts."""

    started: datetime
    ended: datetime | None = None
    cause: str = ""


@dataclass(frozen=True, slots=True)
class FlaggedVote:
    """An emergency vote for a voter this kiosk had already checked off electronically, or
    whose check-off here the register had not answered when the vote was counted: the chair
    sets the orange envelope aside for valgstyret. The manntallsnummer is printed because it
    is what shows in the envelope's window (the routine needs it to find it)."""

    recorded_at: datetime
    checked_off_at: datetime | None  # None: the check-off was not confirmed (``unconfirmed``)
    manntallsnummer: str  # as EVA shows it, "0000012345 82"
    #: For a check-off not confirmed at the vote: what it came to, in words for the chair.
    unconfirmed: str = ""


@dataclass(frozen=True, slots=True)
class ClosingReport:
    """The table's counts at closing, for the chair, with where each figure comes from:
    check-offs and misregistrations are the register's, the rest this kiosk's loggbok."""

    station: StationInfo
    printed_at: datetime
    checkoffs: int | None  # the register's; None: it did not answer (printed as "ukjent")
    emergency_votes: int
    manual_valgkort: int
    misregistrations: int | None  # the register's; None: it did not answer
    outages: tuple[Outage, ...] = ()
    period_start: datetime | None = None  # the day's first loggbok entry
    unresolved: tuple[datetime, ...] = ()  # check-offs sent but never confirmed (kiosk stopped)
    flagged_votes: tuple[FlaggedVote, ...] = ()
    pending_upload: int = 0  # emergency votes the register has not confirmed yet
    chain_head: str = ""  # the loggbok's head, COUNT:HASH (valgkiosk.core.loggbok.Head.text)
    unreadable: int = 0  # loggbok entries that did not read (valgkiosk.core.tally): not in the counts


@dataclass(frozen=True, slots=True)
class TableCount:
    """One table's figures in the register, for the station-wide report."""

    bord: int
    checkoffs: int
    emergency_votes: int
    misregistrations: int


@dataclass(frozen=True, slots=True)
class StationReport:
    """Every table of the polling station from the register's counts, so the chair can
    reconcile the urns against it."""

    station: StationInfo
    printed_at: datetime
    tables: tuple[TableCount, ...]
    chain_head: str = ""  # the loggbok's head, COUNT:HASH


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One loggbok entry as printed: when, and the sentence that says it (with its time,
    valgkiosk.core.sentences)."""

    at: datetime
    text: str


@dataclass(frozen=True, slots=True)
class LogPrintout:
    """The log (or a day's outages) on paper for the minutes."""

    station: StationInfo
    printed_at: datetime
    entries: tuple[LogEntry, ...] = ()
    outages: tuple[Outage, ...] = ()
    title: str = "Loggbok"
    period_start: datetime | None = None  # the first entry's time
    chain_head: str = ""  # the loggbok's head, COUNT:HASH


@dataclass(frozen=True, slots=True)
class TestPage:
    """The IT team's self-test page."""

    __test__ = False  # not a pytest test class

    kiosk_id: str
    image_version: str
    printed_at: datetime
    printer: str = ""  # backend and profile, e.g. "usb TM-T20II"
    station: StationInfo | None = None


# -- text helpers -------------------------------------------------------------------


def _cp865_ok(char: str) -> bool:
    if char == " " or (char.isprintable() and not unicodedata.category(char).startswith("C")):
        try:
            char.encode("cp865")
        except UnicodeEncodeError:
            return False
        return True
    return False


#: What prints as a plain space: tab, newline and the other ASCII line and page breaks,
#: and Unicode's space and line/paragraph separators. (``str.isspace`` would also take
#: FS, GS, RS and US, 0x1C-0x1F, which are control characters: those become ``?``.)
_SPACES = frozenset("\t\n\r\v\f")


def _is_space(char: str) -> bool:
    return char in _SPACES or unicodedata.category(char) in ("Zs", "Zl", "Zp")


def printable(text: str) -> str:
    """``text`` as the printer can print it: NFC, CP865 only, anything else ``?``.

    White space (space, tab, newline, line and page breaks) becomes a plain space; every
    other control character (0x00-0x1F, including FS/GS/RS/US, DEL and the C1 range) and
    every character outside CP865 becomes :data:`REPLACEMENT`, one for one.
    """
    out = []
    for char in unicodedata.normalize("NFC", text):
        if _is_space(char):
            out.append(" ")
        elif _cp865_ok(char):
            out.append(char)
        else:
            out.append(REPLACEMENT)
    return "".join(out)


#: The mark a word broken across two lines carries at the end of the first piece.
HYPHEN = "-"


def _break_word(word: str, room: int) -> tuple[str, str]:
    """The piece of ``word`` (longer than ``room``) for this line, and the rest.

    After one of the word's own hyphens if there is one in reach (``Ødegård-`` | ``Ærøe``);
    otherwise ``room - 1`` characters and a hyphen, so a broken word is always marked.
    """
    cut = word.rfind(HYPHEN, 0, room)
    if cut > 0:
        return word[: cut + 1], word[cut + 1:]
    if room < 2:
        return word[:room], word[room:]
    return word[: room - 1] + HYPHEN, word[room - 1:]


def _words(text: str) -> list[str]:
    """``text`` split at runs of the spaces :func:`printable` leaves (never at FS..US)."""
    return [w for w in "".join(" " if _is_space(c) else c for c in text).split(" ") if w]


def wrap(text: str, width: int, *, indent: int = 0, first: int | None = None) -> list[str]:
    """Greedy word wrap of ``text`` to ``width`` columns; never drops a character.

    Runs of white space count as one space. A word longer than the line starts a line
    of its own and is broken with a hyphen (or after a hyphen of its own, see
    :func:`_break_word`). Lines after the first are indented by ``indent`` spaces; the
    first line may be shorter (``first`` columns) to leave room for a label.
    """
    if width <= indent:
        raise ValueError("width must exceed indent")
    first_width = width if first is None else first
    if first_width < 1:
        raise ValueError("no room on the first line")
    lines: list[str] = []
    current = ""
    room = first_width
    for word in _words(text):
        while word:
            if not current:
                if len(word) <= room:
                    current, word = word, ""
                else:
                    current, word = _break_word(word, room)
            elif len(current) + 1 + len(word) <= room:
                current, word = f"{current} {word}", ""
            else:
                lines.append(current)
                current, room = "", width - indent
                continue
            if word:
                lines.append(current)
                current, room = "", width - indent
    if current or not lines:
        lines.append(current)
    return [lines[0]] + [" " * indent + line for line in lines[1:]]


def _field(label: str, value: str, columns: int, *, bold: bool = False) -> list[Text]:
    """``Label: value`` wrapped under the value (hanging indent)."""
    head = f"{label}: "
    value = printable(value)
    indent = len(head) if len(head) <= columns // 3 else 2
    if len(head) + 1 > columns // 2:
        lines = [head.rstrip()] + [" " * indent + s for s in wrap(value, columns - indent)]
    else:
        parts = wrap(value, columns, indent=indent, first=columns - len(head))
        lines = [head + parts[0]] + parts[1:]
    return [Text(line, bold=bold) for line in lines]


def _para(text: str, columns: int, *, bold: bool = False, centred: bool = False) -> list[Text]:
    return [Text(line, bold=bold, centred=centred) for line in wrap(printable(text), columns)]


def _title(text: str, columns: int) -> list[Text]:
    """A double-size centred title (half the columns per line)."""
    return [Text(line, bold=True, double=True, centred=True)
            for line in wrap(printable(text), columns // 2)]


def _count(label: str, value: int | None, columns: int) -> Text:
    """``label ....... value`` with the number right-aligned (``ukjent`` for None)."""
    number = "ukjent" if value is None else str(value)
    label = printable(label)[: columns - len(number) - 1]
    return Text(label + " " * (columns - len(label) - len(number)) + number)


def _date(d: date) -> str:
    return peopletime.day(d)


def _stamp(t: datetime) -> str:
    """``08.09.2025 kl. 19.52`` on the people's clock, as on the screen."""
    return peopletime.day_and_clock(t)


def _clock(t: datetime, today: date) -> str:
    """``19.52`` on ``today`` (the people's date), else ``07.09.2025 19.52``."""
    if peopletime.local_date(t) == today:
        return peopletime.hhmm(t)
    return f"{peopletime.day(t)} {peopletime.hhmm(t)}"


def format_duration(seconds: float) -> str:
    """A duration as F11 shows it: ``25 s``, ``3 min 20 s``, ``1 t 5 min``."""
    return duration_nb(max(0.0, seconds))


def _station_lines(station: StationInfo, columns: int) -> list[Text]:
    return [
        *_field("Valg", station.election, columns),
        *_field("Kommune", station.kommune, columns),
        *_field("Valgkrets", station.station, columns),
        *_field("Bord", str(station.table), columns),
    ]


def _outage_lines(outages: Sequence[Outage], now: datetime, columns: int) -> list[Block]:
    today = peopletime.local_date(now)
    total = 0.0
    lines: list[Block] = []
    for outage in outages:
        end = outage.ended if outage.ended is not None else now
        seconds = (end - outage.started).total_seconds()
        total += seconds
        start = _clock(outage.started, today)
        if outage.ended is None:
            span = f"{start}-(pågår)"
        else:
            span = f"{start}-{_clock(outage.ended, today)}"
        lines.append(Text(printable(f"{span}  {format_duration(seconds)}")))
        if outage.cause:
            parts = wrap(printable(outage.cause), columns, indent=2, first=columns - 2)
            lines += [Text("  " + parts[0]), *(Text(p) for p in parts[1:])]
    lines.insert(0, _count("Brudd i forbindelsen til manntallet", len(outages), columns))
    lines.insert(1, Text(printable(f"Varighet til sammen: {format_duration(total)}")))
    return lines


def _chain_head_lines(head: str, columns: int) -> list[Block]:
    """The loggbok's head in full (for ``valgkiosk log verify --expect``), or nothing."""
    if not head:
        return []
    count, _, digest = head.partition(":")
    half = (len(digest) + 1) // 2
    return [Separator(), Text(f"Loggbokens kjedehode: nr. {count}"), Text(digest[:half]), Text(digest[half:])]


def _check(columns: int) -> None:
    if columns < 24:
        raise ValueError(f"a receipt needs at least 24 columns, not {columns}")


def _receipt(kind: str, title: str, columns: int, blocks: Iterable[Block]) -> Receipt:
    out = tuple(blocks)
    for block in out:
        if isinstance(block, Text):
            width = columns // 2 if block.double else columns
            if len(block.text) > width:
                raise AssertionError(f"layout bug: {block!r} is wider than {width} columns")
    return Receipt(kind, title, columns, out)


# -- layouts ------------------------------------------------------------------------


def manual_valgkort(card: ManualValgkort, columns: int) -> Receipt:
    """The manual valgkort: the voter's details in one block at the top, the barcode
    when the manntallsnummer is known, then where, when and why."""
    _check(columns)
    blocks: list[Block] = [
        Text("MANUELT VALGKORT", bold=True, centred=True),
        Separator("="),
        *_field("Navn", card.name, columns, bold=True),
        *_field("Født", _date(card.birth_date), columns),
        *_field("Adresse", card.address, columns),
        Separator("="),
    ]
    if card.manntallsnummer is not None:
        blocks += [
            Barcode(card.manntallsnummer.digits),
            *_field("Manntallsnr", card.manntallsnummer.display(), columns),
        ]
    else:
        blocks.append(Text("Manntallsnr: ukjent"))
    blocks += [
        *_station_lines(card.station, columns),
        *_field("Tid", _stamp(card.printed_at), columns),
        *_field("Årsak", card.reason.value, columns),
        Separator(),
        Cut(),
    ]
    return _receipt("manual_valgkort", "Manuelt valgkort", columns, blocks)


def _head_lines(station: StationInfo, printed_at: datetime, period_start: datetime | None,
                columns: int) -> list[Text]:
    """Where from (election, kommune, station, table, kiosk), the period and the print time."""
    lines = _station_lines(station, columns)
    if station.kiosk_id:
        lines += _field("Kiosk", station.kiosk_id, columns)
    if period_start is not None:
        lines += _field("Periode", _period(period_start, printed_at), columns)
    lines += _field("Skrevet ut", _stamp(printed_at), columns)
    return lines


def _period(start: datetime, end: datetime) -> str:
    """``08.09.2025 kl. 07.45 til 21.05`` (both dates when the period spans midnight)."""
    if peopletime.local_date(start) == peopletime.local_date(end):
        return f"{_stamp(start)} til {peopletime.hhmm(end)}"
    return f"{_stamp(start)} til {_stamp(end)}"


def _signatures(columns: int) -> list[Block]:
    """Signature lines for the chair and a second member of the stemmestyre."""
    rule = "_" * columns
    return [Text(""), Text("Stemmestyrets leder:"), Text(""), Text(rule),
            Text(""), Text("Stemmestyremedlem:"), Text(""), Text(rule)]


def unreadable_nb(count: int) -> str:
    """What the chair is told of loggbok entries the kiosk could not read (never dropped silently)."""
    what = "oppføring" if count == 1 else "oppføringer"
    return f"{count} {what} i loggboken kunne ikke leses og er ikke med i tallene over. Se loggboken."


def closing_report(report: ClosingReport, columns: int) -> Receipt:
    """The chair's closing report for this table, fit to sign for the møtebok: where it
    comes from and what period it covers, each count under its source, what the chair must
    still see to (check-offs never confirmed, emergency votes to set aside), the outages
    with cause and duration, the loggbok's chain head and two signatures."""
    _check(columns)
    today = peopletime.local_date(report.printed_at)
    register_known = report.checkoffs is not None
    blocks: list[Block] = [
        *_title("Avslutningsrapport", columns),
        *_head_lines(report.station, report.printed_at, report.period_start, columns),
        Separator(),
        *_para("Fra manntallet:" if register_known else "Fra manntallet (svarte ikke):", columns, bold=True),
        _count("Avkrysninger ved bordet", report.checkoffs, columns),
        _count("Feilregistreringer", report.misregistrations, columns),
        *_para("Fra kioskens loggbok:", columns, bold=True),
        _count("Beredskapsstemmer (oransje)", report.emergency_votes, columns),
    ]
    if report.pending_upload:
        blocks.append(_count("  ikke overført til manntallet", report.pending_upload, columns))
    blocks += [
        _count("Manuelle valgkort skrevet ut", report.manual_valgkort, columns),
        _count("Avkrysninger ikke bekreftet", len(report.unresolved), columns),
    ]
    for at in report.unresolved:
        blocks += _para(f"  {peopletime.stamp(at, today).capitalize()}: kiosken stoppet før manntallet svarte. "
                        "Slå opp velgeren i manntallet.", columns)
    if report.unreadable:
        blocks += _para(unreadable_nb(report.unreadable), columns, bold=True)
    blocks += [Separator(), *_outage_lines(report.outages, report.printed_at, columns), Separator()]
    if report.flagged_votes:
        blocks += _para("LEGG TIL SIDE FOR VALGSTYRET", columns, bold=True)
        blocks += _para("Beredskapsstemmer for velgere kiosken hadde krysset av elektronisk, eller ventet på "
                        "svar fra manntallet om:", columns)
        for vote in report.flagged_votes:
            if vote.checked_off_at is not None:
                what = f"krysset av {peopletime.stamp(vote.checked_off_at, today)}."
            else:
                what = f"avkrysningen var ikke bekreftet da stemmen ble talt: {vote.unconfirmed}"
            blocks += _para(f"- Beredskapsstemme {peopletime.stamp(vote.recorded_at, today)}, manntallsnr. "
                            f"{vote.manntallsnummer}; {what}", columns)
        blocks.append(Separator())
    blocks += [
        *_chain_head_lines(report.chain_head, columns),
        Separator(),
        *_para("De oransje konvoluttene er talt to ganger:", columns),
        Text(""),
        *_field("1. telling", "_" * 10, columns),
        Text(""),
        *_field("2. telling", "_" * 10, columns),
        *_signatures(columns),
        Cut(),
    ]
    return _receipt("closing_report", "Avslutningsrapport", columns, blocks)


def station_report(report: StationReport, columns: int) -> Receipt:
    """The whole polling station from the register's counts: every table and the sum."""
    _check(columns)
    head = f"{'Bord':<6}{'Avkrysn.':>12}{'Beredskap':>12}{'Feilreg.':>10}"
    width = len(head)

    def row(label: str, a: int, b: int, c: int) -> Text:
        return Text(f"{label:<6}{a:>12}{b:>12}{c:>10}".ljust(width)[:columns])

    tables = sorted(report.tables, key=lambda t: t.bord)
    blocks: list[Block] = [
        *_title("Valglokalet", columns),
        *_head_lines(report.station, report.printed_at, None, columns),
        Separator(),
        *_para("Fra manntallet (alle bord i valglokalet):", columns, bold=True),
        Text(head),
        *(row(str(t.bord), t.checkoffs, t.emergency_votes, t.misregistrations) for t in tables),
        Separator(),
        row("Sum", sum(t.checkoffs for t in tables), sum(t.emergency_votes for t in tables),
            sum(t.misregistrations for t in tables)),
        Separator(),
        *_para("Avkrysninger og overførte beredskapsstemmer skal til sammen stemme med "
               "stemmesedlene i urnene.", columns),
        Separator(),
        *_chain_head_lines(report.chain_head, columns),
        *_signatures(columns),
        Cut(),
    ]
    return _receipt("station_report", "Avslutningsrapport for valglokalet", columns, blocks)


def log_printout(log: LogPrintout, columns: int) -> Receipt:
    """The log (or the day's outages) on paper: one sentence per entry, wrapped under
    itself, then the outages with their durations."""
    _check(columns)
    blocks: list[Block] = [
        *_title(log.title, columns),
        *_head_lines(log.station, log.printed_at, log.period_start, columns),
        Separator(),
    ]
    for entry in log.entries:
        blocks += [Text(line) for line in wrap(printable(entry.text), columns, indent=2)]
    if not log.entries:
        blocks.append(Text("Ingen hendelser."))
    if log.outages or not log.entries:
        blocks += [Separator(), *_outage_lines(log.outages, log.printed_at, columns)]
    blocks += [*_chain_head_lines(log.chain_head, columns), Separator(), Cut()]
    return _receipt("log", printable(log.title)[:40], columns, blocks)


def test_page(page: TestPage, columns: int) -> Receipt:
    """The self-test page: who printed it, the character set, the width and a barcode."""
    _check(columns)
    ruler = "".join(str(i % 10) for i in range(1, columns + 1))
    blocks: list[Block] = [
        *_title("Testside", columns),
        *_field("Kiosk", page.kiosk_id, columns),
        *_field("Programvare", page.image_version, columns),
        *_field("Skriver", page.printer or "ukjent", columns),
        *_field("Kolonner", str(columns), columns),
        *_field("Tid", _stamp(page.printed_at), columns),
    ]
    if page.station is not None:
        blocks += _station_lines(page.station, columns)
    blocks += [
        Separator(),
        Text(ruler),
        *_field("Tegnsett CP865", CHARSET_SAMPLE, columns),
        Text("Uthevet: æøå ÆØÅ", bold=True),
        Text("Midtstilt", centred=True),
        Separator(),
        Barcode(TEST_BARCODE),
        Text(f"Strekkoden skal lese {TEST_BARCODE}"),
        Separator(),
        Cut(),
    ]
    return _receipt("test_page", "Testside", columns, blocks)


#: A valid manntallsnummer (a published test vector) for the test page's barcode.
TEST_BARCODE = "123456789080"

# pytest would collect a function named test_* from a test module that imports it.
test_page.__test__ = False  # type: ignore[attr-defined]


# -- plain text ---------------------------------------------------------------------


def receipt_text(receipt: Receipt) -> str:
    """The receipt as plain text, one printed line per line (for the screen and the
    simulated printer). Double-size text is spread out to show its width; a barcode
    shows as bars around its payload; a cut as a scissors line."""
    columns = receipt.columns
    out: list[str] = []
    for block in receipt.blocks:
        if isinstance(block, Text):
            text = " ".join(block.text) if block.double else block.text
            out.append(text.center(columns).rstrip() if block.centred else text)
        elif isinstance(block, Barcode):
            bars = "|" * min(columns, 2 * len(block.payload) + 10)
            out += [bars.center(columns).rstrip(), block.payload.center(columns).rstrip()]
        elif isinstance(block, Separator):
            out.append(block.char * columns)
        elif isinstance(block, Cut):
            out.append(("- " * (columns // 2)).rstrip()[: columns - 3] + " 8<")
    return "\n".join(out) + "\n"


# -- the self-test summary (issue 6) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class SelftestLine:
    """One check on the self-test summary: its name, the verdict word and a short detail."""

    title: str
    verdict: str  # "OK", "FEIL", "IKKE MONTERT"
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SelftestSummary:
    """The IT team's self-test summary for the table's checklist."""

    kommune: str
    krets: str
    bord: int
    kiosk_id: str  # "" when the register did not say
    image_version: str
    printed_at: datetime
    passed: bool  # every required check passed
    lines: tuple[SelftestLine, ...]


def selftest_summary(summary: SelftestSummary, columns: int) -> Receipt:
    """The self-test summary: who, which image, every check with its verdict, the result."""
    _check(columns)
    blocks: list[Block] = [
        *_title("Selvtest", columns),
        *_field("Kommune", summary.kommune, columns),
        *_field("Valgkrets", summary.krets, columns),
        *_field("Bord", str(summary.bord), columns),
        *_field("Kiosk", summary.kiosk_id or "ukjent", columns),
        *_field("Programvare", summary.image_version, columns),
        *_field("Tid", _stamp(summary.printed_at), columns),
        Separator(),
    ]
    for line in summary.lines:
        verdict = printable(line.verdict)
        title = printable(line.title)[: columns - len(verdict) - 1]
        blocks.append(Text(title + " " * (columns - len(title) - len(verdict)) + verdict, bold=line.verdict == "FEIL"))
        if line.detail:
            blocks += [Text("  " + part) for part in wrap(printable(line.detail), columns - 2)]
    blocks += [
        Separator(),
        *_para("BESTÅTT: alle påkrevde sjekker er i orden." if summary.passed
               else "IKKE BESTÅTT: se sjekkene merket FEIL.", columns, bold=True),  # fmt: skip
        Text(""),
        *_field("Kontrollert av", "_" * max(8, columns - 17), columns),
        Cut(),
    ]
    return _receipt("selftest", "Selvtest", columns, blocks)
