"""The chair's numbers from the loggbok: counts, outages paired with durations, only the
day asked for, and no personal data on paper."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from valgkiosk.core.loggbok import Entry, next_entry
from valgkiosk.core.receipts import Outage
from valgkiosk.core.tally import entry_text, log_lines, outages, tally, todays

pytestmark = pytest.mark.timeout(10)

CET = timezone(timedelta(hours=2))
DAY = date(2025, 9, 8)


def chain(*items: tuple[str, str, dict[str, object]]) -> list[Entry]:
    """Entries at ``HH:MM`` on DAY (or ``YYYY-MM-DD HH:MM``), chained like the loggbok."""
    out: list[Entry] = []
    for when, kind, data in items:
        at = datetime.fromisoformat(when if " " in when else f"{DAY.isoformat()} {when}").replace(tzinfo=CET)
        out.append(next_entry(out[-1] if out else None, kind, data, at))
    return out


def at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{DAY.isoformat()} {hhmm}").replace(tzinfo=CET)


def test_counts_each_kind_the_chair_needs() -> None:
    entries = chain(
        ("07:00", "start", {"bord": 3}),
        ("09:00", "outage_start", {"lag": "ruter"}),
        ("09:05", "emergency_vote", {"manntallsnummer": "000001234582"}),
        ("09:06", "manual_valgkort", {"årsak": "emergency"}),
        ("09:07", "emergency_vote", {}),
        ("09:30", "outage_end", {}),
        ("10:00", "misregistration", {"forespørsel": "r-1"}),
        ("11:00", "manual_valgkort", {"årsak": "sami"}),
    )
    t = tally(entries)
    assert (t.emergency_votes, t.manual_valgkort, t.misregistrations) == (2, 2, 1)
    assert t.outages == (Outage(at("09:00"), at("09:30"), "ruter"),)


def test_outages_pair_in_order_and_one_still_open_lasts() -> None:
    entries = chain(
        ("08:00", "outage_end", {}),  # no start: ignored
        ("09:00", "outage_start", {"årsak": "nett"}),
        ("09:10", "outage_start", {}),  # a restart inside the same outage
        ("09:20", "outage_end", {}),
        ("12:00", "outage_start", {}),
    )
    assert outages(entries) == (Outage(at("09:00"), at("09:20"), "nett"), Outage(at("12:00"), None, ""))


def test_only_the_day_asked_for_counts() -> None:
    entries = chain(("2025-09-07 20:00", "manual_valgkort", {}), ("07:00", "manual_valgkort", {}))
    assert tally(todays(entries, DAY)).manual_valgkort == 1


def test_printed_lines_leave_personal_data_off() -> None:
    [vote, power] = chain(("09:05", "emergency_vote", {"manntallsnummer": "000001234582", "navn": "Kari",
                                                        "urne": "Beredskap"}),
                          ("09:06", "power", {"source": "router", "present": False}))
    assert entry_text(vote, DAY) == "Kl. 09.05 ble en beredskapsstemme (med valgkort) lagt i beredskapsurnen."
    assert entry_text(power, DAY) == "Kl. 09.06 mistet ruteren strømmen."
    [line, _] = log_lines([vote, power], DAY)
    assert line.at == at("09:05") and "000001234582" not in line.text and "Kari" not in line.text


def test_flagged_votes_and_unresolved_check_offs_for_the_chair() -> None:
    entries = chain(
        ("07:00", "start", {"bord": 3}),
        ("08:10", "voter_interrupted", {"fase": "avkrysning"}),
        ("08:20", "voter_interrupted", {"fase": "bekreft"}),  # nothing sent: not unresolved
        ("09:05", "emergency_vote", {"vote_id": "a", "manntallsnummer": "000001234582",
                                     "krysset_av_her": at("08:40").isoformat()}),
        ("09:06", "emergency_vote", {"vote_id": "b", "manntallsnummer": "000000012344"}),
    )
    t = tally(entries)
    assert t.period_start == at("07:00")
    assert t.unresolved == (at("08:10"),)
    [flagged] = t.flagged_votes
    assert (flagged.recorded_at, flagged.checked_off_at, flagged.manntallsnummer) == (
        at("09:05"), at("08:40"), "0000012345 82")
