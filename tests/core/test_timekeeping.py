"""The clock rules, table-driven: NTP first, then the mobile network's time, then an RTC;
nothing implausible; never backwards past the last loggbok entry; and the receipt note."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from valgkiosk.core import receipts as rc
from valgkiosk.core.timekeeping import (
    UNSYNCHRONISED_NOTE,
    ClockDecision,
    ClockInputs,
    ClockSource,
    decide,
    mark_unsynchronised,
)
from valgkiosk.ports.printer import Cut, Text

OSLO = timezone(timedelta(hours=2))
NOW = datetime(2027, 9, 13, 9, 0, tzinfo=OSLO)  # election day, the system clock
SAVED = datetime(2027, 9, 12, 21, 30, tzinfo=OSLO)  # timesyncd's clock file after a night off
NETWORK = datetime(2027, 9, 13, 7, 0, 5, tzinfo=timezone.utc)  # 09:00:05 in Oslo
NEVER_SET = datetime(2004, 1, 1, 0, 0, 12, tzinfo=timezone.utc)  # a modem since power-on
S = timedelta(seconds=1)

CASES = [
    # NTP answers: nothing else is asked for or set
    ("ntp", ClockInputs(NOW, True, NETWORK, None, SAVED), ClockDecision(ClockSource.NTP, True)),
    # no NTP after a night: the network's time wins and the clock is stepped to it
    ("modem steps", ClockInputs(SAVED, False, NETWORK, None, SAVED - S),
     ClockDecision(ClockSource.MODEM, True, NETWORK)),
    # the modem agrees with the clock within the threshold: no step
    ("modem agrees", ClockInputs(NOW, None, NOW + 1.5 * S, None, None), ClockDecision(ClockSource.MODEM, True)),
    # the modem never had the network's time: refused, the RTC wins
    ("rtc after implausible modem", ClockInputs(SAVED, False, NEVER_SET, NOW, None),
     ClockDecision(ClockSource.RTC, True, NOW, ("modem time 2004-01-01T00:00:12+00:00 is implausible (never set)",))),
    # only an RTC
    ("rtc", ClockInputs(SAVED, False, None, NOW, SAVED), ClockDecision(ClockSource.RTC, True, NOW)),
    # an RTC whose battery died reads 2000: refused; the clock runs on, unsynchronised
    ("dead rtc", ClockInputs(NOW, False, None, datetime(2000, 1, 1, tzinfo=timezone.utc), None),
     ClockDecision(ClockSource.SYSTEM, False, None, ("rtc time 2000-01-01T00:00:00+00:00 is implausible (never set)",))),
    # a source before the last loggbok entry is refused: never backwards past the loggbok
    ("modem before loggbok", ClockInputs(NOW, False, NOW - timedelta(hours=1), None, NOW - 10 * S),
     ClockDecision(ClockSource.SYSTEM, False, None,
                   (f"modem time {(NOW - timedelta(hours=1)).isoformat()} is before the last loggbok entry "
                    f"{(NOW - 10 * S).isoformat()}",))),
    # no source and the clock behind the loggbok (a Pi without its clock file): forward to it
    ("behind loggbok", ClockInputs(datetime(1970, 1, 1, 0, 0, 9, tzinfo=timezone.utc), None, None, None, SAVED),
     ClockDecision(ClockSource.LOGGBOK, False, SAVED)),
    # no source, ahead of the loggbok: runs on, unsynchronised
    ("nothing", ClockInputs(NOW, None, None, None, SAVED), ClockDecision(ClockSource.SYSTEM, False)),
]


@pytest.mark.parametrize(("inputs", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_the_clock_rules(inputs: ClockInputs, expected: ClockDecision) -> None:
    assert decide(inputs) == expected


def test_ntp_behind_the_loggbok_is_reported_but_wins() -> None:
    d = decide(ClockInputs(NOW, True, None, None, NOW + timedelta(minutes=5)))
    assert d.source is ClockSource.NTP and d.synchronized and d.set_to is None
    assert "before the last loggbok entry" in d.refused[0]


def test_times_must_carry_their_offset() -> None:
    with pytest.raises(ValueError, match="modem"):
        decide(ClockInputs(NOW, False, datetime(2027, 9, 13, 7, 0)))


@pytest.mark.parametrize(("decision", "words"), [
    (ClockDecision(ClockSource.NTP, True), "synkronisert, kilde: tidstjener (NTP)"),
    (ClockDecision(ClockSource.MODEM, True), "synkronisert, kilde: mobilnettet (modemet)"),
    (ClockDecision(ClockSource.SYSTEM, False), "IKKE synkronisert, kilde: kioskens egen klokke (ingen tidskilde)"),
])
def test_the_state_in_words(decision: ClockDecision, words: str) -> None:
    assert decision.describe() == words


def _valgkort() -> rc.Receipt:
    station = rc.StationInfo("Stortingsvalget 2027", "0301 Oslo", "0101 Sentrum", 1)
    card = rc.ManualValgkort(station, NOW, rc.ValgkortReason.NO_VALGKORT, "Kari Nordmann",
                             datetime(1980, 1, 2).date(), "Storgata 1, 0155 Oslo")
    return rc.manual_valgkort(card, 42)


def test_an_unsynchronised_receipt_says_so_before_its_cut() -> None:
    receipt = _valgkort()
    marked = mark_unsynchronised(receipt)
    assert UNSYNCHRONISED_NOTE not in rc.receipt_text(receipt)
    assert UNSYNCHRONISED_NOTE in rc.receipt_text(marked)
    assert marked.blocks[-1] == Cut() and marked.blocks[-2] == Text(UNSYNCHRONISED_NOTE, bold=True)
    assert len(marked.blocks) == len(receipt.blocks) + 1
    assert mark_unsynchronised(marked) == marked  # once is enough
