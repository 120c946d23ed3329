"""What the election office sees: the kiosks' status reports and the alerts made of them.

Pure: the report a kiosk sends (:class:`StatusReport`, strict, no personal data), the
alerts a report raises (:func:`alerts_for`), when a kiosk counts as silent
(:func:`silent_after`), and the Norwegian words the dashboard uses for all of it. The
storage is :mod:`valgkiosk.register.store.status`, the HTTP side
:mod:`valgkiosk.register.status` and :mod:`valgkiosk.register.dashboard`.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from valgkiosk.core.outage import DIAGNOSIS_NB, Layer
from valgkiosk.register.api import ChainHeadIn, JsonTime  # times only as RFC 3339 strings, as in every request

OSLO = ZoneInfo("Europe/Oslo")

Mode = Literal["normal", "alarm", "acknowledged", "routine", "register_back"]
LayerName = Literal["link", "gateway", "dns", "tcp", "health"]
Paper = Literal["ok", "low", "out", "unknown"]

MODE_NB: dict[str, str] = {
    "normal": "Normal drift",
    "alarm": "Alarm: manntallet kan ikke nås",
    "acknowledged": "Alarm kvittert ved bordet",
    "routine": "Beredskapsrutine",
    "register_back": "Manntallet er tilbake (beredskap pågår)",
    "silent": "Har sluttet å melde seg",
}

#: Modes in which the table has a problem the office should know about.
TROUBLE_MODES = frozenset({"alarm", "acknowledged", "routine", "register_back"})

PAPER_NB: dict[str, str] = {"ok": "Papir OK", "low": "Lite papir", "out": "Tomt for papir", "unknown": "Ukjent"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StatusCounts(_Strict):
    """The table's own counters (from its loggbok)."""

    checkoffs: int = Field(ge=0, le=10_000_000, strict=True)
    emergency_votes: int = Field(ge=0, le=10_000_000, strict=True)
    manual_valgkort: int = Field(ge=0, le=10_000_000, strict=True)
    pending_uploads: int = Field(ge=0, le=10_000_000, strict=True)


class StatusReport(_Strict):
    """One status report from a kiosk. Nothing in it identifies a voter."""

    sent_at: JsonTime
    mode: Mode
    mode_since: JsonTime | None = None
    outage_started_at: JsonTime | None = None
    diagnosis_layer: LayerName | None = None
    mains: bool | None = Field(default=None, strict=True)  # False: on battery
    router_power: bool | None = Field(default=None, strict=True)
    simula_power: bool | None = Field(default=None, strict=True)
    printer_state: str = Field(default="unknown", max_length=40)
    printer_paper: Paper = "unknown"
    scanner_connected: bool | None = Field(default=None, strict=True)
    counts: StatusCounts
    loggbok_head: str = Field(default="", max_length=128, pattern=r"^[0-9a-f]*$")
    loggbok_entries: int = Field(default=0, ge=0, strict=True)
    clock_offset_s: float | None = Field(default=None, ge=-1e6, le=1e6, strict=True)
    image_version: str = Field(default="", max_length=64)
    report_interval_s: float = Field(default=5.0, ge=0.5, le=600, strict=True)
    #: The loggbok's head as with emergency uploads (number, hash, signature), which the
    #: register keeps among the kiosk's chain heads (docs/loggbok.md); None: empty loggbok.
    chain_head: ChainHeadIn | None = None

    def state_key(self) -> str:
        """The report without what changes all the time (the send time, the counters,
        the loggbok head, sub-second clock drift): equal keys are no change of state."""
        data = self.model_dump(mode="json", exclude={"sent_at", "counts", "loggbok_head",
                                                    "loggbok_entries", "clock_offset_s", "chain_head"})
        data["clock_offset_s"] = None if self.clock_offset_s is None else round(self.clock_offset_s)
        return json.dumps(data, sort_keys=True)

    def diagnosis(self) -> str:
        """The diagnosis in the routine's words ("" when there is none)."""
        if self.diagnosis_layer is None:
            return ""
        return DIAGNOSIS_NB[Layer[self.diagnosis_layer.upper()]]


def local(value: datetime) -> datetime:
    """A time as the office reads it (Norwegian time)."""
    return value.astimezone(OSLO)


def clock(value: datetime | None) -> str:
    """``09.03`` — the Norwegian way to write a time of day."""
    return "" if value is None else local(value).strftime("%H.%M")


def alerts_for(report: StatusReport) -> dict[str, str]:
    """The alerts a report raises: kind → the sentence for the office."""
    found: dict[str, str] = {}
    if report.mode in TROUBLE_MODES or report.outage_started_at is not None:
        text = f"{MODE_NB[report.mode]}"
        if report.outage_started_at is not None:
            text += f" (nettbrudd fra kl. {clock(report.outage_started_at)})"
        elif report.mode_since is not None:
            text += f" (siden kl. {clock(report.mode_since)})"
        if report.diagnosis_layer is not None:
            text += f". {report.diagnosis()}"
        found["outage"] = text
    if report.mains is False:
        found["mains"] = "Strømbrudd: kiosken går på batteri. Vaktmester sjekker sikringene."
    if report.router_power is False:
        found["router"] = "Ruteren har ikke strøm. Vaktmester sjekker strøm og sikringer til ruteren."
    if report.simula_power is False:
        found["simula"] = "SIMULA-boksen har ikke strøm (reservenettet er borte)."
    if report.printer_paper == "out":
        found["printer"] = "Skriveren er tom for papir."
    if report.scanner_connected is False:
        found["scanner"] = "Strekkodeleseren er koblet fra."
    return found


ALERT_KIND_NB: dict[str, str] = {
    "outage": "Nettbrudd",
    "silent": "Taus kiosk",
    "mains": "Strømbrudd",
    "router": "Ruter",
    "simula": "SIMULA",
    "printer": "Skriver",
    "scanner": "Strekkodeleser",
}

#: Alerts that belong to one outage incident: their acknowledgement is shown on the kiosk.
INCIDENT_KINDS = ("outage", "silent", "mains", "router")


def silent_after(report_interval_s: float, heartbeat_s: float) -> float:
    """Seconds without a report after which a kiosk counts as silent: three missed
    reports, and never less than one stored heartbeat plus one report (so that a second
    register process, which sees only the stored heartbeat, does not cry wolf)."""
    return max(3 * report_interval_s, heartbeat_s + report_interval_s) + 2.0


def silent_text(last_seen: datetime) -> str:
    """The sentence for a kiosk that has gone quiet."""
    return (f"Kiosken har ikke meldt seg siden kl. {local(last_seen):%H.%M.%S}: "
            "trolig nettbrudd ved bordet. Vent på SMS fra kiosken, eller ring valglokalet.")


def ts(value: datetime) -> str:
    """A timestamp as the JSON answers carry it (UTC, ISO 8601)."""
    return value.astimezone(timezone.utc).isoformat()


def report_json(report: StatusReport) -> dict[str, Any]:
    """The report as stored and shown (JSON-ready)."""
    return report.model_dump(mode="json")
