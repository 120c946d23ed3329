"""The chair's numbers from the loggbok: counts, outages paired with durations, only the
day asked for, no personal data on paper, and no entry silently left out (issue 12: the
tally reads typed entries; what does not read is counted apart and the report says so).

The entries are written as today's kiosk writes them: ``entries.record`` of a typed entry
(valgkiosk.station), or the printer's journal data for a manual valgkort (valgkiosk.ui.printing)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from valgkiosk.core import entries as ent
from valgkiosk.core.loggbok import Entry, from_line, next_entry
from valgkiosk.core.sentences import cause_nb
from valgkiosk.core.receipts import ClosingReport, Outage, StationInfo, closing_report, receipt_text
from valgkiosk.core.tally import Tally, entry_text, log_lines, outages, tally, todays

pytestmark = pytest.mark.timeout(10)

CET = timezone(timedelta(hours=2))
DAY = date(2025, 9, 8)


OLD = Path(__file__).parent / "data" / "loggbok-before-typed-entries.jsonl"


def chain(*items: tuple[str, ent.LoggbokEntry | tuple[str, dict[str, object]]]) -> list[Entry]:
    """Entries at ``HH:MM`` on DAY (or ``YYYY-MM-DD HH:MM``), chained like the loggbok: a
    typed entry is written as the station writes it, a ``(kind, data)`` pair as it stands."""
    out: list[Entry] = []
    for when, item in items:
        kind, data = item if isinstance(item, tuple) else ent.record(item)
        at = datetime.fromisoformat(when if " " in when else f"{DAY.isoformat()} {when}").replace(tzinfo=CET)
        out.append(next_entry(out[-1] if out else None, kind, data, at))
    return out


def printed_valgkort(reason: str = "no_valgkort") -> tuple[str, dict[str, object]]:
    """A manual valgkort as the printer's journal writes it once the clerk confirmed it came out."""
    return "manual_valgkort", {"reason": reason, "manntallsnummer": True, "fra_manntallet": True,
                               "bekreftet_av_avkrysser": True}


def outage_start(since: str, layer: str = "GATEWAY") -> ent.OutageStarted:
    return ent.OutageStarted(layer, at(since).isoformat(), "Ruteren svarer ikke: sjekk strømmen.", "",
                             {"mains": True, "router": False})


def outage_end(since: str, until: str) -> ent.OutageEnded:
    return ent.OutageEnded("GATEWAY", at(since).isoformat(), at(until).isoformat(),
                           (at(until) - at(since)).total_seconds())


def vote(vote_id: str, number: str | None, checked_off_here: str | None = None) -> ent.EmergencyVoteRecorded:
    return ent.EmergencyVoteRecorded(vote_id, number, number is None, checked_off_here)


def at(hhmm: str) -> datetime:
    return datetime.fromisoformat(f"{DAY.isoformat()} {hhmm}").replace(tzinfo=CET)


def test_counts_each_kind_the_chair_needs() -> None:
    entries = chain(
        ("07:00", ent.KioskStarted(3)),
        ("09:00", outage_start("09:00")),
        ("09:05", vote("a", "000001234582")),
        ("09:06", ("manual_valgkort", {"reason": "emergency", "manntallsnummer": False})),
        ("09:07", vote("b", None)),
        ("09:30", outage_end("09:00", "09:30")),
        ("10:00", ent.MisregistrationReported("r-1", at("10:00").isoformat(), "Avkrysser bord 3")),
        ("11:00", printed_valgkort("sami")),
    )
    t = tally(entries)
    assert (t.emergency_votes, t.manual_valgkort, t.misregistrations, t.unreadable) == (2, 2, 1, 0)
    assert t.outages == (Outage(at("09:00"), at("09:30"), "ruteren svarer ikke (ruteren er uten strøm, "
                                                          "strømnettet er på)"),)


def test_outages_pair_in_order_and_one_still_open_lasts() -> None:
    entries = chain(
        ("08:00", outage_end("07:50", "08:00")),  # no start: ignored
        ("09:00", ent.OutageStarted("TCP", at("09:00").isoformat())),
        ("09:10", outage_start("09:10")),  # a restart inside the same outage
        ("09:20", outage_end("09:00", "09:20")),
        ("12:00", ent.OutageStarted("HEALTH", at("12:00").isoformat())),
    )
    [first, second] = outages(entries)
    assert (first.started, first.ended, second.started, second.ended) == (at("09:00"), at("09:20"), at("12:00"), None)
    assert first.cause == cause_nb("TCP") != cause_nb("GATEWAY")  # the first start's cause, not the restart's


def test_only_the_day_asked_for_counts() -> None:
    entries = chain(("2025-09-07 20:00", printed_valgkort()), ("07:00", printed_valgkort()))
    assert tally(todays(entries, DAY)).manual_valgkort == 1


def test_printed_lines_leave_personal_data_off() -> None:
    [vote, power] = chain(("09:05", ("emergency_vote", {"manntallsnummer": "000001234582", "navn": "Kari",
                                                         "urne": "Beredskap"})),
                          ("09:06", ent.PowerChanged("router", False, True)))
    assert entry_text(vote, DAY) == "Kl. 09.05 ble en beredskapsstemme (med valgkort) lagt i beredskapsurnen."
    assert entry_text(power, DAY) == "Kl. 09.06 mistet ruteren strømmen."
    [line, _] = log_lines([vote, power], DAY)
    assert line.at == at("09:05") and "000001234582" not in line.text and "Kari" not in line.text


def test_flagged_votes_and_unresolved_check_offs_for_the_chair() -> None:
    entries = chain(
        ("07:00", ent.KioskStarted(3)),
        ("08:10", ent.VoterInterrupted("avkrysning", "r-7")),
        ("08:20", ent.VoterInterrupted("bekreft")),  # nothing sent: not unresolved
        ("09:05", vote("a", "000001234582", at("08:40").isoformat())),
        ("09:06", vote("b", "000000012344")),
    )
    t = tally(entries)
    assert t.period_start == at("07:00")
    assert t.unresolved == (at("08:10"),)
    [flagged] = t.flagged_votes
    assert (flagged.recorded_at, flagged.checked_off_at, flagged.manntallsnummer) == (
        at("09:05"), at("08:40"), "0000012345 82")


def test_a_vote_counted_while_its_check_off_was_unanswered_is_flagged_with_what_it_came_to() -> None:
    """The voter's check-off here was still unanswered when the orange envelope was counted:
    the envelope is set aside, and the report says whether the register then checked the
    voter off (the same voter: valgstyret must not count him twice), did not, or never said."""
    def unconfirmed(vote_id: str, number: str, request_id: str) -> ent.EmergencyVoteRecorded:
        return ent.EmergencyVoteRecorded(vote_id, number, False, None, request_id)

    entries = chain(
        ("09:00", ent.CheckoffUnresolved("r-1", 2)),
        ("09:01", ent.CheckoffUnresolved("r-2", 2)),
        ("09:02", ent.CheckoffUnresolved("r-3", 2)),
        ("09:10", unconfirmed("a", "000001234582", "r-1")),
        ("09:11", unconfirmed("b", "000000012344", "r-2")),
        ("09:12", unconfirmed("c", "123456789080", "r-3")),
        ("09:40", ent.CheckoffResolved("r-1", "checked_off")),
        ("09:41", ent.CheckoffResolved("r-2", "refused")),
    )
    a, b, c = tally(entries).flagged_votes
    assert (a.recorded_at, a.checked_off_at, a.manntallsnummer) == (at("09:10"), None, "0000012345 82")
    assert "krysset velgeren av kl. 09.40" in a.unconfirmed and "samme velger" in a.unconfirmed
    assert b.unconfirmed == "manntallet krysset ikke av velgeren."
    assert "har ikke svart" in c.unconfirmed and "Slå opp velgeren" in c.unconfirmed


def test_a_loggbok_written_by_the_kiosk_before_typed_entries_gives_the_same_totals() -> None:
    """The figures the dict-reading tally (main 74508c1) gave for this loggbok."""
    t = tally(from_line(line) for line in OLD.read_text(encoding="utf-8").splitlines())
    assert (t.emergency_votes, t.manual_valgkort, t.misregistrations, t.unreadable) == (2, 2, 1, 0)
    [outage] = t.outages
    assert (outage.started.isoformat(), outage.ended and outage.ended.isoformat()) == (
        "2025-09-08T09:00:12.250000+02:00", "2025-09-08T09:00:17.500000+02:00")
    assert outage.cause == "ingen nettverkskobling (ruteren er uten strøm, SIMULA-boksen har strøm, strømnettet er på)"
    assert t.period_start == datetime(2025, 9, 8, 7, 30, tzinfo=timezone(timedelta(hours=2)))
    assert (t.unresolved, t.flagged_votes) == ((), ())


def test_a_known_kind_with_newer_keys_still_counts_as_its_kind() -> None:
    newer = ("emergency_vote", {**ent.record(vote("a", "000001234582"))[1], "urne": "Beredskap 2"})
    t = tally(chain(("09:00", newer), ("09:01", (printed_valgkort()[0], {**printed_valgkort()[1], "kopier": 2}))))
    assert (t.emergency_votes, t.manual_valgkort, t.unreadable) == (1, 1, 0)


@pytest.mark.parametrize("kind, data", [
    ("emergency_vote_v2", {"vote_id": "a"}),  # a kind this build does not know
    ("emergency_vote", {"vote_id": "a", "manual_valgkort": False}),  # its manntallsnummer key is gone
    ("emergency_vote", {"vote_id": 7, "manntallsnummer": None, "manual_valgkort": False}),  # a number for an id
    ("misregistration", {"forespørsel": "r-1", "meldt": "09.00", "meldt_av": None}),
    ("manual_valgkort", {"reason": "emergency", "manntallsnummer": "yes"}),
    ("outage_start", {"årsak": "nett"}),
    ("voter_interrupted", {"fase": ["avkrysning"]}),
], ids=["unknown-kind", "missing-key", "wrong-type", "null-string", "string-for-bool", "old-outage", "list-phase"])
def test_an_entry_that_does_not_read_is_counted_apart(kind: str, data: dict[str, object]) -> None:
    t = tally(chain(("09:00", vote("a", None)), ("09:05", (kind, data))))
    assert (t.emergency_votes, t.manual_valgkort, t.misregistrations, t.outages, t.unresolved) == (1, 0, 0, (), ())
    assert t.unreadable == 1


STATION = StationInfo("Stortingsvalget 2025", "0301 Oslo", "0101 Sentrum", 3, "k-03")


def report_lines(t: Tally) -> list[str]:
    report = ClosingReport(STATION, at("21:05"), 100, t.emergency_votes, t.manual_valgkort, 0, t.outages,
                           period_start=t.period_start, unresolved=t.unresolved, unreadable=t.unreadable)
    return receipt_text(closing_report(report, 42)).splitlines()


def test_an_unknown_kind_and_a_damaged_entry_show_on_the_closing_report() -> None:
    entries = chain(
        ("07:00", ent.KioskStarted(3)),
        ("09:00", vote("a", "000001234582")),
        ("09:10", ("beredskap_v2", {"vote_id": "b"})),  # a newer kiosk's kind
        ("09:20", ("emergency_vote", {"vote_id": "c"})),  # damaged: its other keys are gone
        ("09:30", printed_valgkort()),
    )
    t = tally(entries)
    assert (t.emergency_votes, t.manual_valgkort, t.unreadable) == (1, 1, 2)
    flat = " ".join(line.strip() for line in report_lines(t))
    assert "2 oppføringer i loggboken kunne ikke leses og er ikke med i tallene over. Se loggboken." in flat
    one = tally(entries[:3])
    assert "1 oppføring i loggboken kunne ikke leses" in " ".join(line.strip() for line in report_lines(one))
    assert not any("kunne ikke leses" in line for line in report_lines(tally(entries[:2])))
