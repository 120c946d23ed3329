"""The register's view of the kiosks' loggbøker: the chain heads each kiosk sent, and
which kiosks' heads do not extend each other (docs/loggbok.md).

A kiosk's loggbok only grows, so every head it sends must have at least as many entries
as the one before, and two heads with the same number of entries must be the same
hash. A head that breaks this means the loggbok was cut, replaced or forked (two
cards, a restored backup), and valgstyret should compare the kiosk's loggbok with the
heads (``valgkiosk log verify --expect N:HASH``). With a head's signature the register
also knows it came from the kiosk's own key. What heads alone cannot show: whether a
longer head really continues a shorter one (that needs the loggbok itself, which
``log verify --expect`` checks against every head).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ChainHead:
    """One head a kiosk sent: how many entries, the last one's hash and signature."""

    kiosk_id: str
    entries: int
    hash: str
    sig: str
    signature_ok: bool | None  # None: no public key was registered for the kiosk
    source: str  # "emergency_upload" | "status"
    received_at: datetime

    def text(self) -> str:
        """``N:HASH``, as ``valgkiosk log verify --expect`` takes it."""
        return f"{self.entries}:{self.hash}"


@dataclass(frozen=True, slots=True)
class ChainConflict:
    """A kiosk whose heads do not extend each other; ``message`` is Norwegian."""

    kiosk_id: str
    message: str
    heads: tuple[ChainHead, ...]


def conflicts(heads: Iterable[ChainHead]) -> list[ChainConflict]:
    """Every kiosk whose heads (given in the order received) shrink, fork, or are not
    signed by its key; kiosks in id order."""
    by_kiosk: dict[str, list[ChainHead]] = {}
    for head in heads:
        by_kiosk.setdefault(head.kiosk_id, []).append(head)
    found: list[ChainConflict] = []
    for kiosk_id in sorted(by_kiosk):
        ordered = by_kiosk[kiosk_id]
        seen: dict[int, ChainHead] = {}
        highest: ChainHead | None = None
        for head in ordered:
            if head.signature_ok is False:
                found.append(ChainConflict(kiosk_id, f"Kjedehodet nr. {head.entries} er ikke signert med kioskens "
                                                     "nøkkel.", (head,)))
            same = seen.get(head.entries)
            if same is not None and same.hash != head.hash:
                found.append(ChainConflict(kiosk_id, f"To ulike kjedehoder med nr. {head.entries}: loggboken er "
                                                     "byttet ut eller delt i to.", (same, head)))
            seen.setdefault(head.entries, head)
            if highest is not None and head.entries < highest.entries:
                found.append(ChainConflict(kiosk_id, f"Kjedehodet gikk tilbake fra nr. {highest.entries} til nr. "
                                                     f"{head.entries}: føringer er borte fra loggboken.",
                                           (highest, head)))  # fmt: skip
            if highest is None or head.entries > highest.entries:
                highest = head
    return found
