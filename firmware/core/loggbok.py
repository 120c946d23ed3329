"""The loggbok: an append-only log whose entries are chained by SHA-256.

Pure: making an entry, serialising it and verifying a chain. Each entry carries the
hash of the one before it, so an edited, inserted, reordered or deleted entry breaks
the chain at that point and ``verify`` says where. Entries hold personal data only
where the routine needs it (an emergency vote's manntallsnummer), never names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

GENESIS = "0" * 64

KINDS_NB: dict[str, str] = {
    "start": "Kiosken startet",
    "stop": "Kiosken stoppet",
    "recovered": "Gjenopprettet etter strømbrudd",
    "outage_start": "Brudd i forbindelsen til manntallet",
    "outage_end": "Forbindelsen til manntallet er tilbake",
    "alarm_acknowledged": "Alarm kvittert",
    "pin_refused": "Feil PIN-kode for stemmestyrets leder",
    "emergency_start": "Beredskapsrutine startet",
    "emergency_end": "Beredskapsrutine avsluttet",
    "emergency_vote": "Beredskapsstemme",
    "emergency_upload": "Beredskapsstemmer lastet opp",
    "manual_valgkort": "Manuelt valgkort skrevet ut",
    "misregistration": "Feilregistrering meldt",
    "scanner_fault": "Feil på skanneren",
    "printer_fault": "Feil på skriveren",
    "power": "Endring i strømforsyning",
    "power_shutdown": "Lavt batteri: kiosken slo seg av",
    "selftest": "Selvtest",
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the loggbok."""

    seq: int
    at: str  # ISO 8601 with offset, as the kiosk's clock said
    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)
    prev: str = GENESIS
    hash: str = ""

    def label(self) -> str:
        """The entry's kind in words for the chair."""
        return KINDS_NB.get(self.kind, self.kind)


def _digest(seq: int, at: str, kind: str, data: Mapping[str, Any], prev: str) -> str:
    body = json.dumps({"seq": seq, "at": at, "kind": kind, "data": data, "prev": prev},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def next_entry(previous: Entry | None, kind: str, data: Mapping[str, Any], at: datetime) -> Entry:
    """The entry that follows ``previous`` (or starts the chain)."""
    if at.tzinfo is None:
        raise ValueError("loggbok times must carry a time zone")
    seq = 1 if previous is None else previous.seq + 1
    prev = GENESIS if previous is None else previous.hash
    stamp = at.isoformat()
    clean = json.loads(json.dumps(dict(data), ensure_ascii=False))  # only JSON values
    return Entry(seq, stamp, kind, clean, prev, _digest(seq, stamp, kind, clean, prev))


def to_line(entry: Entry) -> str:
    """The entry as one JSON line (without the newline)."""
    return json.dumps({"seq": entry.seq, "at": entry.at, "kind": entry.kind, "data": entry.data,
                       "prev": entry.prev, "hash": entry.hash},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class BadLine(ValueError):
    """A line that is not a loggbok entry."""


def from_line(line: str) -> Entry:
    """Parse one JSON line into an entry (the hash is not checked here)."""
    try:
        raw = json.loads(line)
        return Entry(int(raw["seq"]), str(raw["at"]), str(raw["kind"]), dict(raw["data"]),
                     str(raw["prev"]), str(raw["hash"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise BadLine(f"ikke en loggføring: {exc}") from None


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """Where the chain breaks, and how (Norwegian, for the chair and the IT team)."""

    line: int
    message: str


def verify(lines: Iterable[str]) -> list[ChainProblem]:
    """Check every entry's hash and its link to the one before; empty means intact."""
    problems: list[ChainProblem] = []
    previous: Entry | None = None
    for number, line in enumerate(lines, start=1):
        try:
            entry = from_line(line)
        except BadLine as exc:
            problems.append(ChainProblem(number, f"Linje {number} er ødelagt ({exc})."))
            previous = None
            continue
        if _digest(entry.seq, entry.at, entry.kind, entry.data, entry.prev) != entry.hash:
            problems.append(ChainProblem(
                number, f"Linje {number} (nr. {entry.seq}) er endret etter at den ble skrevet."))
        if previous is None:
            if number == 1 and (entry.prev != GENESIS or entry.seq != 1):
                problems.append(ChainProblem(
                    number, "Loggboken begynner ikke med første føring: føringer er slettet."))
        else:
            if entry.prev != previous.hash:
                problems.append(ChainProblem(
                    number, f"Linje {number} (nr. {entry.seq}) henger ikke sammen med linjen før: "
                            "en føring er slettet, satt inn eller flyttet."))
            if entry.seq != previous.seq + 1:
                problems.append(ChainProblem(
                    number, f"Linje {number} har nummer {entry.seq}, ventet {previous.seq + 1}."))
        previous = entry
    return problems
