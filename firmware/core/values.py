"""The value types the kiosk's core and its ports share: what the register answers, what a
receipt is made of, what the LEDs show and what power is sensed.

They live in the core so that the core imports nothing outside itself (the layers that
``scripts/check-layers`` enforces); each port module re-exports the ones it speaks in,
so ``from valgkiosk.ports.register import Voter`` keeps working.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeAlias


# -- the register (valgkiosk.ports.register) -----------------------------------------------


class Verdict(str, enum.Enum):
    """What the register says about a voter at this table."""

    READY = "ready"  # lookup only: may be checked off here
    CHECKED_OFF = "checked_off"  # this request checked the voter off
    ALREADY_VOTED = "already_voted"
    NOT_IN_REGISTER = "not_in_register"
    OTHER_STATION = "other_station"
    OTHER_MUNICIPALITY = "other_municipality"


@dataclass(frozen=True, slots=True)
class Voter:
    """The voter details the clerk needs to compare with the ID."""

    manntallsnummer: str
    navn: str
    fodselsdato: date
    kommune: str = ""
    krets: str = ""
    krets_navn: str = ""
    sami: bool = False
    adresse: str = ""  # as it goes on a manual valgkort: "Storgata 1, 0150 Oslo"


@dataclass(frozen=True, slots=True)
class Misregistration:
    """A report that a check-off was made on the wrong person."""

    reported_at: datetime
    reported_by: str
    krets: str = ""
    bord: int = 0
    note: str = ""


@dataclass(frozen=True, slots=True)
class CheckoffRecord:
    """When and where a voter was checked off."""

    checked_off_at: datetime
    krets: str = ""
    krets_navn: str = ""
    bord: int = 0
    misregistration: Misregistration | None = None


@dataclass(frozen=True, slots=True)
class VoterStatus:
    """The register's answer to a lookup or a check-off."""

    verdict: Verdict
    voter: Voter | None = None
    checkoff: CheckoffRecord | None = None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Find a voter without a valgkort: by fødselsnummer, or by name and date of birth."""

    fodselsnummer: str | None = None
    navn: str | None = None
    fodselsdato: date | None = None


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Voters matching a search, best first; ``truncated`` when there were more."""

    hits: tuple[Voter, ...]
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class StatusReceipt:
    """The register's answer to a status report: whether the election office has
    acknowledged this table's current incident, and when (issue 15)."""

    office_acknowledged_at: datetime | None = None
    office_acknowledged_by: str | None = None


@dataclass(frozen=True, slots=True)
class TableCounts:
    """Counts for this kiosk's own table."""

    checkoffs: int
    emergency_votes: int = 0
    misregistrations: int = 0


@dataclass(frozen=True, slots=True)
class StationTableCounts:
    """One table of this kiosk's polling station, as the register counts it."""

    bord: int
    checkoffs: int
    emergency_votes: int = 0
    misregistrations: int = 0


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What the register did with uploaded emergency votes: new ones, and ones it already had."""

    accepted: int
    already_recorded: int = 0


@dataclass(frozen=True, slots=True)
class KioskInfo:
    """Who the credential belongs to and which election the register serves."""

    kiosk_id: str
    kommune: str
    krets: str
    krets_navn: str
    bord: int
    election_title: str
    election_year: int
    year_digit: int
    #: The register holds a training election (øvingsvalg, issue 18).
    training: bool = False


# -- receipts and the printer (valgkiosk.ports.printer) ------------------------------------


class Paper(str, enum.Enum):
    """The roll paper sensor as the printer reported it."""

    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"  # no answer, or a connection that cannot read back


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """What the printer said about itself. ``None`` means unknown, never "fine"."""

    online: bool | None
    paper: Paper
    cover_open: bool | None = None
    detail: str = ""  # Norwegian, for the clerk

    @property
    def known(self) -> bool:
        """True when the printer answered at all."""
        return self.online is not None


# -- receipt blocks -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Text:
    """One printed line. ``double`` is double width and height (half the columns)."""

    text: str
    bold: bool = False
    double: bool = False
    centred: bool = False


@dataclass(frozen=True, slots=True)
class Barcode:
    """A CODE128 barcode (code set B) with its human-readable text below it."""

    payload: str


@dataclass(frozen=True, slots=True)
class Separator:
    """A full-width rule made of ``char``."""

    char: str = "-"


@dataclass(frozen=True, slots=True)
class Cut:
    """Feed the paper past the cutter and cut."""


Block: TypeAlias = Text | Barcode | Separator | Cut


@dataclass(frozen=True, slots=True)
class Receipt:
    """A receipt laid out for ``columns`` characters per line (font A).

    ``kind`` names the layout (``manual_valgkort``, ``closing_report``, ``log``,
    ``test_page``); ``title`` is a short Norwegian label for the print queue's list and
    carries no personal data.
    """

    kind: str
    title: str
    columns: int
    blocks: tuple[Block, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (for the persistent print queue)."""
        return {
            "kind": self.kind,
            "title": self.title,
            "columns": self.columns,
            "blocks": [_block_to_json(b) for b in self.blocks],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Receipt:
        """The inverse of :meth:`to_json`; raises ``ValueError`` on anything else."""
        try:
            blocks = tuple(_block_from_json(b) for b in data["blocks"])
            receipt = cls(str(data["kind"]), str(data["title"]), int(data["columns"]), blocks)
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a receipt: {exc!r}") from exc
        return receipt


def _block_to_json(block: Block) -> dict[str, Any]:
    if isinstance(block, Text):
        return {"t": "text", "text": block.text, "bold": block.bold,
                "double": block.double, "centred": block.centred}
    if isinstance(block, Barcode):
        return {"t": "barcode", "payload": block.payload}
    if isinstance(block, Separator):
        return {"t": "separator", "char": block.char}
    if isinstance(block, Cut):
        return {"t": "cut"}
    raise TypeError(f"not a receipt block: {block!r}")


def _block_from_json(data: Mapping[str, Any]) -> Block:
    kind = data["t"]
    if kind == "text":
        return Text(str(data["text"]), bool(data["bold"]), bool(data["double"]), bool(data["centred"]))
    if kind == "barcode":
        return Barcode(str(data["payload"]))
    if kind == "separator":
        return Separator(str(data["char"]))
    if kind == "cut":
        return Cut()
    raise ValueError(f"unknown receipt block {kind!r}")


# -- the LEDs and the buzzer (valgkiosk.ports.indicators) ----------------------------------


class LedMode(enum.Enum):
    """What one LED shows."""

    OFF = "off"
    ON = "on"
    SLOW_BLINK = "slow_blink"
    FAST_BLINK = "fast_blink"


class AlarmMode(enum.Enum):
    """The emergency-routine alarm: ALARM LED and buzzer together."""

    QUIET = "quiet"  # no alarm: LED off, buzzer silent
    ALARM = "alarm"  # LED blinks fast, buzzer beeps
    ACKNOWLEDGED = "acknowledged"  # someone pressed acknowledge: buzzer silent, LED steady


class Output(enum.Enum):
    """The physical outputs, in lamp-test order."""

    POWER_LED = "power_led"
    NETWORK_LED = "network_led"
    ALARM_LED = "alarm_led"
    BUZZER = "buzzer"


#: The outputs' names on the caretaker box's label.
OUTPUT_NB: dict[Output, str] = {
    Output.POWER_LED: "STRØM-lampen",
    Output.NETWORK_LED: "NETT-lampen",
    Output.ALARM_LED: "ALARM-lampen",
    Output.BUZZER: "Summeren",
}


# -- power sensing (valgkiosk.ports.power) -------------------------------------------------


class PowerSource(enum.Enum):
    """What is sensed. ``MAINS`` is the kiosk's own supply (present: not on battery)."""

    MAINS = "mains"
    ROUTER = "router"
    SIMULA = "simula"


#: The caretaker's words for each source, for screens and the loggbok.
SOURCE_NB: dict[PowerSource, str] = {
    PowerSource.MAINS: "Strøm til kiosken",
    PowerSource.ROUTER: "Strøm til ruteren",
    PowerSource.SIMULA: "Strøm til SIMULA-boksen",
}


@dataclass(frozen=True, slots=True)
class PowerChange:
    """A stable change of one source: ``present`` from ``previous`` (``None``: unknown).

    ``edge_at`` is when the input changed, ``at`` when it had held for the stable time
    (both on the shell's monotonic clock)."""

    source: PowerSource
    present: bool
    previous: bool | None
    edge_at: float
    at: float

