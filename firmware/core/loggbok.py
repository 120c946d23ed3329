"""The loggbok: an append-only log whose entries are chained by SHA-256.

Pure: making an entry, serialising it and verifying a chain. Each entry carries the
hash of the one before it, so an edited, inserted, reordered or deleted entry breaks
the chain at that point and ``verify`` says where. Entries hold personal data only
where the routine needs it (an emergency vote's manntallsnummer), never names.

What the chain alone cannot show (a cut tail, an emptied file, an entry appended with a
recomputed hash) is caught by the two anchors (docs/loggbok.md): the **head** (count
and hash of the last entry) printed on paper and kept by the register, checked with
``verify(..., expect=head)``; and an optional Ed25519 **signature** of each entry's hash
by the kiosk's own key (``sig``, outside the hashed body so older loggbøker without it
still verify), checked with ``verify(..., check_signature=...)``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

GENESIS = "0" * 64

from valgkiosk.core.entries import KINDS_NB  # noqa: E402 - the kinds in words, with the typed entries


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the loggbok."""

    seq: int
    at: str  # ISO 8601 with offset, as the kiosk's clock said
    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)
    prev: str = GENESIS
    hash: str = ""
    sig: str = ""  # Ed25519 signature of ``hash`` by the kiosk's key (hex); "" when unsigned

    def label(self) -> str:
        """The entry's kind in words for the chair."""
        return KINDS_NB.get(self.kind, self.kind)


def _digest(seq: int, at: str, kind: str, data: Mapping[str, Any], prev: str) -> str:
    body = json.dumps({"seq": seq, "at": at, "kind": kind, "data": data, "prev": prev},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def next_entry(previous: Entry | None, kind: str, data: Mapping[str, Any], at: datetime,
               *, sign: Callable[[str], str] | None = None) -> Entry:
    """The entry that follows ``previous`` (or starts the chain); ``sign`` turns its hash
    into a signature (the kiosk's key), else the entry is unsigned."""
    if at.tzinfo is None:
        raise ValueError("loggbok times must carry a time zone")
    seq = 1 if previous is None else previous.seq + 1
    prev = GENESIS if previous is None else previous.hash
    stamp = at.isoformat()
    clean = json.loads(json.dumps(dict(data), ensure_ascii=False))  # only JSON values
    digest = _digest(seq, stamp, kind, clean, prev)
    return Entry(seq, stamp, kind, clean, prev, digest, sign(digest) if sign else "")


def to_line(entry: Entry) -> str:
    """The entry as one JSON line (without the newline); ``sig`` only when signed."""
    raw: dict[str, Any] = {"seq": entry.seq, "at": entry.at, "kind": entry.kind, "data": entry.data,
                           "prev": entry.prev, "hash": entry.hash}
    if entry.sig:
        raw["sig"] = entry.sig
    return json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class BadLine(ValueError):
    """A line that is not a loggbok entry."""


def from_line(line: str | bytes) -> Entry:
    """Parse one JSON line (text, or bytes as read from disk) into an entry (the hash is
    not checked here). Anything else, bytes that are not UTF-8 included, is a BadLine."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadLine(f"ikke gyldig UTF-8 (byte {exc.start})") from None
    try:
        raw = json.loads(line)
        if not isinstance(raw, dict) or not isinstance(raw["data"], dict):
            raise TypeError("ikke et JSON-objekt")
        sig = raw.get("sig", "")
        return Entry(int(raw["seq"]), str(raw["at"]), str(raw["kind"]), dict(raw["data"]),
                     str(raw["prev"]), str(raw["hash"]), sig if isinstance(sig, str) else "")
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise BadLine(f"ikke en loggføring: {type(exc).__name__}") from None


def split_lines(data: bytes) -> list[bytes]:
    """The lines of a loggbok file as bytes (a final line without newline included):
    decoding is per line, so one damaged byte spoils one line, never the file."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


@dataclass(frozen=True, slots=True)
class Head:
    """The chain's head: how many entries, and the hash of the last one (with its
    signature when signed). Printed on the closing report and log printout and sent to
    the register, it anchors the loggbok: a file that is later shorter or different no
    longer reaches it."""

    count: int
    hash: str = GENESIS
    sig: str = ""  # the last entry's signature (the register checks it with the kiosk's key)

    def text(self) -> str:
        """``COUNT:HASH``, as printed and as ``valgkiosk log verify --expect`` takes it."""
        return f"{self.count}:{self.hash}"

    def short(self) -> str:
        """For a screen or a receipt: the count and the hash's first 16 hex digits."""
        return f"nr. {self.count}, {self.hash[:16]}"

    @classmethod
    def parse(cls, text: str) -> "Head":
        """``COUNT:HASH`` back into a head; ValueError (Norwegian) when malformed."""
        count, sep, digest = text.strip().partition(":")
        if not sep or not count.isdigit() or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError("et kjedehode skrives ANTALL:HASH (64 heksadesimale tegn)")
        return cls(int(count), digest)


def head_of(entries: Iterable[Entry]) -> Head:
    """The head after ``entries`` (the last one's number and hash; 0 and genesis if none)."""
    last: Entry | None = None
    for last in entries:
        pass
    return Head(0, GENESIS) if last is None else Head(last.seq, last.hash, last.sig)


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """Where the chain breaks, and how (Norwegian, for the chair and the IT team)."""

    line: int
    message: str


def verify(
    lines: Iterable[str | bytes],
    *,
    expect: Iterable[Head] = (),
    check_signature: Callable[[str, str], bool] | None = None,
) -> list[ChainProblem]:
    """Check every entry's hash and its link to the one before; empty means intact.

    ``expect``: heads printed or registered earlier; the loggbok must reach each of them
    (an entry with that number and that hash). ``check_signature(hash, sig)``: the
    kiosk's public key; every entry must then carry a valid signature."""
    problems: list[ChainProblem] = []
    previous: Entry | None = None
    wanted = {h.count: h for h in expect}
    reached: set[int] = set()
    last_seq = 0
    number = 0
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
        if check_signature is not None:
            if not entry.sig:
                problems.append(ChainProblem(
                    number, f"Linje {number} (nr. {entry.seq}) er ikke signert med kioskens nøkkel: "
                            "føringen kan være lagt til av noen andre enn kiosken."))
            elif not check_signature(entry.hash, entry.sig):
                problems.append(ChainProblem(
                    number, f"Linje {number} (nr. {entry.seq}) har en signatur som ikke er kioskens: "
                            "føringen er lagt til eller endret av noen andre enn kiosken."))
        head = wanted.get(entry.seq)
        if head is not None:
            if head.hash == entry.hash:
                reached.add(entry.seq)
            else:
                problems.append(ChainProblem(
                    number, f"Linje {number} (nr. {entry.seq}) avviker fra kjedehodet {head.short()}: "
                            "loggboken er ikke den samme som da hodet ble skrevet ut eller sendt."))
                reached.add(entry.seq)  # named once
        last_seq = max(last_seq, entry.seq)
        previous = entry
    for count, head in sorted(wanted.items()):
        if count not in reached and count > 0:
            if count > last_seq:
                problems.append(ChainProblem(
                    number + 1, f"Loggboken er kortere enn kjedehodet {head.short()}: den slutter ved nr. "
                                f"{last_seq}, så føringer er slettet fra slutten."))
            else:
                problems.append(ChainProblem(
                    number + 1, f"Føring nr. {count} fra kjedehodet {head.short()} finnes ikke i loggboken."))
    return problems
