"""The clock rules: which source the kiosk's wall-clock time comes from, and when to set it.

A Raspberry Pi has no battery-backed clock (the Pi 5's needs a battery), and a kiosk that
boots during an outage cannot reach NTP: its receipts and loggbok would carry the time
the kiosk last saved (systemd-timesyncd's clock file) or worse. Pure: :func:`decide` takes
what the shell read (the system clock, NTP's answer, the mobile network's time through the
modem, a fitted RTC, the newest loggbok entry) and says which source counts, whether the
system clock must be stepped, and whether the time is trustworthy enough for paper.

The rules, in order:

1. NTP synchronised: NTP is the source; nothing is set (systemd-timesyncd disciplines it).
2. Otherwise the mobile network's time (NITZ, read with ``AT+CCLK?`` once ``AT+CTZU=1``
   let the network set the modem's clock), then a fitted RTC: the first that is plausible
   (not before :data:`PLAUSIBLE_FROM`, which a modem or RTC that never had the time
   reports) and not before the last loggbok entry wins; the system clock is stepped to it
   when they differ by more than ``step_threshold``.
3. Otherwise the system clock runs on unsynchronised; if it is behind the last loggbok
   entry it is stepped forward to that entry: the clock never goes backwards past what
   the loggbok already holds.

Whatever the source, :class:`ClockDecision.synchronized` is ``False`` only when no outside
source vouches for the time; then receipts say so (:func:`mark_unsynchronised`).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from valgkiosk.core.values import Cut, Receipt, Text

__all__ = [
    "PLAUSIBLE_FROM",
    "SOURCE_NB",
    "UNSYNCHRONISED_NOTE",
    "ClockDecision",
    "ClockInputs",
    "ClockSource",
    "decide",
    "mark_unsynchronised",
]

#: A time before this is one a device never had (a modem's clock since power-on, an RTC
#: whose battery died): the kiosk software did not exist before it.
PLAUSIBLE_FROM = datetime(2025, 1, 1, tzinfo=timezone.utc)

#: The system clock is stepped only when it is further than this from the chosen source.
STEP_THRESHOLD_S = 2.0

#: What an unsynchronised receipt says, under its time.
UNSYNCHRONISED_NOTE = "OBS: Klokken er ikke synkronisert"


class ClockSource(enum.Enum):
    """Where the wall-clock time comes from."""

    NTP = "ntp"  # a time server, through systemd-timesyncd
    MODEM = "modem"  # the mobile network's time (NITZ) through the modem
    RTC = "rtc"  # a battery-backed real-time clock on the Pi
    LOGGBOK = "loggbok"  # no source: stepped forward to the newest loggbok entry
    SYSTEM = "system"  # no source: the kiosk's own clock, running on


#: The caretaker's words for each source.
SOURCE_NB: dict[ClockSource, str] = {
    ClockSource.NTP: "tidstjener (NTP)",
    ClockSource.MODEM: "mobilnettet (modemet)",
    ClockSource.RTC: "klokkebrikke (RTC)",
    ClockSource.LOGGBOK: "siste loggføring (ingen tidskilde)",
    ClockSource.SYSTEM: "kioskens egen klokke (ingen tidskilde)",
}


@dataclass(frozen=True, slots=True)
class ClockInputs:
    """What the shell read, all at about the same moment. Every time is timezone-aware;
    ``None`` means that source is missing or gave no answer."""

    system: datetime
    ntp_synchronized: bool | None = None
    modem: datetime | None = None
    rtc: datetime | None = None
    last_entry: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClockDecision:
    """Which source counts; ``set_to`` is the time to step the system clock to (``None``:
    leave it); ``refused`` says, in English for the journal, which sources were passed over
    and why."""

    source: ClockSource
    synchronized: bool
    set_to: datetime | None = None
    refused: tuple[str, ...] = ()

    def describe(self) -> str:
        """The clock's state for the caretaker screen and the self-test, in Norwegian."""
        state = "synkronisert" if self.synchronized else "IKKE synkronisert"
        return f"{state}, kilde: {SOURCE_NB[self.source]}"


def _aware(t: datetime, what: str) -> None:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")


def decide(
    inputs: ClockInputs,
    *,
    step_threshold: float = STEP_THRESHOLD_S,
    plausible_from: datetime = PLAUSIBLE_FROM,
) -> ClockDecision:
    """The clock rules (see the module docstring)."""
    _aware(inputs.system, "system")
    for name in ("modem", "rtc", "last_entry"):
        value = getattr(inputs, name)
        if value is not None:
            _aware(value, name)
    floor = inputs.last_entry
    if inputs.ntp_synchronized:
        refused: tuple[str, ...] = ()
        if floor is not None and (floor - inputs.system).total_seconds() > step_threshold:
            refused = (f"NTP time {inputs.system.isoformat()} is before the last loggbok entry {floor.isoformat()}",)
        return ClockDecision(ClockSource.NTP, True, None, refused)
    notes: list[str] = []
    for source, value in ((ClockSource.MODEM, inputs.modem), (ClockSource.RTC, inputs.rtc)):
        if value is None:
            continue
        if value < plausible_from:
            notes.append(f"{source.value} time {value.isoformat()} is implausible (never set)")
            continue
        if floor is not None and (floor - value).total_seconds() > step_threshold:
            notes.append(f"{source.value} time {value.isoformat()} is before the last loggbok entry {floor.isoformat()}")
            continue
        off = abs((value - inputs.system).total_seconds())
        return ClockDecision(source, True, value if off > step_threshold else None, tuple(notes))
    if floor is not None and floor > inputs.system:
        return ClockDecision(ClockSource.LOGGBOK, False, floor, tuple(notes))
    return ClockDecision(ClockSource.SYSTEM, False, None, tuple(notes))


def mark_unsynchronised(receipt: Receipt) -> Receipt:
    """``receipt`` with :data:`UNSYNCHRONISED_NOTE` before its cut (at the end if it has
    none), for a receipt printed while no source vouches for the clock. A receipt that
    already carries the note is returned unchanged."""
    blocks = list(receipt.blocks)
    note = Text(UNSYNCHRONISED_NOTE[: receipt.columns], bold=True)
    if note in blocks:
        return receipt
    at = max((i for i, b in enumerate(blocks) if isinstance(b, Cut)), default=len(blocks))
    blocks.insert(at, note)
    return replace(receipt, blocks=tuple(blocks))
