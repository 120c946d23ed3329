"""The check-off flow's state machine: table-driven, pure, with a clock passed in events."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timezone

import pytest

from valgkiosk.core import checkoff as co
from valgkiosk.core import entries as ent
from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.core.checkoff import Outcome, Phase
from valgkiosk.ports.register import (
    CheckoffRecord,
    Misregistration,
    SearchQuery,
    SearchResult,
    Verdict,
    Voter,
    VoterStatus,
)

YEAR = 2025
T = co.Timings(personal_data=15, confirm=60, duplicate_window=1.0, retry_interval=2.0)
SETTINGS = co.Settings(election_year=YEAR, reported_by="Avkrysser bord 3", timings=T)
GOOD = mnr.make(1234, YEAR).digits
OTHER = mnr.make(5678, YEAR).digits
LAST_YEAR = mnr.make(1234, 2024).digits
KARI = Voter(GOOD, "Kari Prøvesen", date(1980, 4, 1), "0301", "0101", "Prøveskolen")
WHEN = datetime(2025, 9, 8, 9, 14, 3, tzinfo=timezone.utc)
READY = VoterStatus(Verdict.READY, KARI)
DONE = VoterStatus(Verdict.CHECKED_OFF, KARI, CheckoffRecord(WHEN, "0101", "Prøveskolen", 3))
UNREACHABLE = co.Failure("unreachable", "Får ikke kontakt med manntallet.")
REFUSED = co.Failure("refused", "Avvist.", definite=True, code="request_id_conflict")


def run(events: list[object], state: co.State | None = None) -> tuple[co.State, list[object]]:
    """Feed events in order; return the final state and all effects."""
    s = state or co.initial_state(SETTINGS)
    out: list[object] = []
    for e in events:
        s, effects = co.step(s, e)  # type: ignore[arg-type]
        out.extend(effects)
    return s, out


def of(effects: list[object], kind: type) -> list[object]:
    return [e for e in effects if isinstance(e, kind)]


def confirming() -> co.State:
    s, _ = run([co.Scanned(GOOD, 0.0), co.LookupAnswered(1, READY, 0.1)])
    return s


def checking() -> co.State:
    s, _ = run([co.Confirm("rid-1", 1.0)], confirming())
    return s


# -- scans ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("", Outcome.INVALID_BARCODE),
        ("12345", Outcome.INVALID_BARCODE),
        ("12345678901a", Outcome.INVALID_BARCODE),
        (GOOD[:-1] + str((int(GOOD[-1]) + 1) % 10), Outcome.INVALID_BARCODE),
        (LAST_YEAR, Outcome.OTHER_ELECTION),
    ],
)
def test_a_bad_card_is_answered_at_once_without_the_register(text: str, outcome: Outcome) -> None:
    s, effects = run([co.Scanned(text, 5.0)])
    assert s.phase is Phase.OUTCOME and s.outcome is outcome
    assert s.problem  # a Norwegian reason
    assert not of(effects, co.AskLookup)
    assert of(effects, co.ShowVerdict) == [co.ShowVerdict(outcome)]
    assert s.deadline == 5.0 + T.personal_data


def test_a_good_card_asks_the_register() -> None:
    s, effects = run([co.Scanned(f" {GOOD}\n", 0.0)])
    assert s.phase is Phase.LOOKING_UP
    assert effects == [co.AskLookup(1, GOOD)]


@pytest.mark.parametrize(
    ("verdict", "outcome"),
    [
        (Verdict.ALREADY_VOTED, Outcome.ALREADY_VOTED),
        (Verdict.NOT_IN_REGISTER, Outcome.NOT_IN_REGISTER),
        (Verdict.OTHER_STATION, Outcome.OTHER_STATION),
        (Verdict.OTHER_MUNICIPALITY, Outcome.OTHER_MUNICIPALITY),
    ],
)
def test_lookup_verdicts_other_than_ready_are_final(verdict: Verdict, outcome: Outcome) -> None:
    voter = None if verdict is Verdict.NOT_IN_REGISTER else KARI
    s, effects = run([co.Scanned(GOOD, 0.0), co.LookupAnswered(1, VoterStatus(verdict, voter), 0.2)])
    assert (s.phase, s.outcome) == (Phase.OUTCOME, outcome)
    assert co.ShowVerdict(outcome) in effects
    assert not of(effects, co.AskCheckoff)


def test_ready_waits_for_the_clerk() -> None:
    s = confirming()
    assert s.phase is Phase.CONFIRMING and s.status == READY
    assert s.deadline == 0.1 + T.confirm


@pytest.mark.parametrize(
    ("failure", "outcome"),
    [
        (UNREACHABLE, Outcome.LOOKUP_FAILED),
        (co.Failure("timeout", "Tidsavbrudd."), Outcome.LOOKUP_FAILED),
        (co.Failure("refused", "Annet valg.", True, "other_election"), Outcome.OTHER_ELECTION),
        (co.Failure("refused", "Ugyldig.", True, "invalid_manntallsnummer"), Outcome.INVALID_BARCODE),
    ],
)
def test_a_failed_lookup_says_so(failure: co.Failure, outcome: Outcome) -> None:
    s, _ = run([co.Scanned(GOOD, 0.0), co.LookupFailed(1, failure, 3.0)])
    assert (s.phase, s.outcome, s.problem) == (Phase.OUTCOME, outcome, failure.message)


@pytest.mark.parametrize("verdict", [Verdict.CHECKED_OFF])
def test_a_lookup_that_claims_a_checkoff_is_nonsense(verdict: Verdict) -> None:
    s, _ = run([co.Scanned(GOOD, 0.0), co.LookupAnswered(1, VoterStatus(verdict, KARI), 0.2)])
    assert s.outcome is Outcome.LOOKUP_FAILED and s.failure and s.failure.kind == "nonsense"


# -- duplicate and busy scans --------------------------------------------------------------


@pytest.mark.parametrize(
    ("second", "gap", "phase", "asks"),
    [
        (GOOD, 0.5, Phase.LOOKING_UP, 1),  # same card within a second: ignored
        (GOOD, 0.99, Phase.LOOKING_UP, 1),
        (OTHER, 0.5, Phase.LOOKING_UP, 1),  # another card while busy: not used
    ],
)
def test_scans_while_looking_up(second: str, gap: float, phase: Phase, asks: int) -> None:
    s, effects = run([co.Scanned(GOOD, 10.0), co.Scanned(second, 10.0 + gap)])
    assert s.phase is phase and len(of(effects, co.AskLookup)) == asks


def test_duplicate_within_a_second_after_the_answer_is_ignored() -> None:
    s, effects = run([co.Scanned(GOOD, 10.0), co.LookupAnswered(1, READY, 10.1), co.Scanned(GOOD, 10.6)])
    assert s.phase is Phase.CONFIRMING and len(of(effects, co.AskLookup)) == 1
    assert not of(effects, co.Notice)


def test_same_card_after_the_window_is_a_new_scan() -> None:
    s, effects = run([co.Scanned(GOOD, 10.0), co.LookupAnswered(1, READY, 10.1), co.Scanned(GOOD, 11.2)])
    assert s.phase is Phase.LOOKING_UP and len(of(effects, co.AskLookup)) == 2
    assert co.ClearPersonalData() in effects


def test_a_busy_scan_gets_a_notice() -> None:
    s, effects = run([co.Scanned(OTHER, 20.0)], checking())
    assert s.phase is Phase.CHECKING_OFF and of(effects, co.Notice)


# -- check-off -----------------------------------------------------------------------------


def test_confirm_sends_the_shells_request_id() -> None:
    s, effects = run([co.Confirm("rid-1", 1.0)], confirming())
    assert s.phase is Phase.CHECKING_OFF and s.request_id == "rid-1"
    assert of(effects, co.AskCheckoff) == [co.AskCheckoff("rid-1", GOOD, 1)]


def test_checked_off_shows_the_verdict_counts_and_remembers_the_last() -> None:
    s0 = replace(checking(), count_today=41)
    s, effects = run([co.CheckoffAnswered("rid-1", DONE, 1.2)], s0)
    assert (s.phase, s.outcome, s.count_today) == (Phase.OUTCOME, Outcome.CHECKED_OFF, 42)
    assert s.last_checkoff == co.LastCheckoff(GOOD, "rid-1", WHEN)
    assert co.AskCounts() in effects and co.ShowVerdict(Outcome.CHECKED_OFF) in effects


def test_someone_else_got_there_first() -> None:
    s, _ = run([co.CheckoffAnswered("rid-1", VoterStatus(Verdict.ALREADY_VOTED, KARI), 1.2)], checking())
    assert s.outcome is Outcome.ALREADY_VOTED and s.last_checkoff is None


@pytest.mark.parametrize("kind", ["unreachable", "timeout", "server_error", "nonsense"])
def test_an_unanswered_checkoff_is_asked_again_with_the_same_id(kind: str) -> None:
    failure = co.Failure(kind, "Noe gikk galt.")
    s, effects = run([co.CheckoffFailed("rid-1", failure, 2.0)], checking())
    assert s.phase is Phase.UNCERTAIN and s.attempts == 1 and not of(effects, co.ShowVerdict)
    s, effects = run([co.Tick(2.0 + T.retry_interval - 0.01)], s)
    assert s.phase is Phase.UNCERTAIN and effects == []
    s, effects = run([co.Tick(2.0 + T.retry_interval)], s)
    assert s.phase is Phase.CHECKING_OFF
    assert effects == [co.AskCheckoff("rid-1", GOOD, 2)]
    s, effects = run([co.CheckoffAnswered("rid-1", DONE, 5.0)], s)
    assert s.outcome is Outcome.CHECKED_OFF


def test_an_uncertain_checkoff_never_times_out_into_idle() -> None:
    s, _ = run([co.CheckoffFailed("rid-1", UNREACHABLE, 2.0)], checking())
    for t in range(3, 600, 7):
        s, effects = run([co.Tick(float(t))], s)
        if of(effects, co.AskCheckoff):
            assert of(effects, co.AskCheckoff)[0].request_id == "rid-1"  # type: ignore[attr-defined]
            s, _ = run([co.CheckoffFailed("rid-1", UNREACHABLE, float(t))], s)
        assert s.phase in (Phase.UNCERTAIN, Phase.CHECKING_OFF)
    assert s.request_id == "rid-1" and s.attempts > 10


def test_a_ready_answer_to_a_checkoff_is_nonsense_and_retried() -> None:
    s, _ = run([co.CheckoffAnswered("rid-1", READY, 2.0)], checking())
    assert s.phase is Phase.UNCERTAIN and s.failure and s.failure.kind == "nonsense"


def test_a_refused_checkoff_is_final() -> None:
    s, effects = run([co.CheckoffFailed("rid-1", REFUSED, 2.0)], checking())
    assert s.outcome is Outcome.CHECKOFF_REFUSED and s.last_checkoff is None
    assert of(effects, co.LogEntry)[0].level == "error"  # type: ignore[attr-defined]


# -- personal data ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_state", "timeout"),
    [
        (lambda: run([co.CheckoffAnswered("rid-1", DONE, 1.2)], checking())[0], T.personal_data),
        (confirming, T.confirm),
        (lambda: run([co.Scanned("999", 0.0)])[0], T.personal_data),
        (lambda: run([co.StartSearch(0.0)])[0], T.confirm),
    ],
)
def test_personal_data_leaves_after_the_timeout(make_state, timeout: float) -> None:  # type: ignore[no-untyped-def]
    s = make_state()
    start = s.deadline - timeout
    s1, effects = run([co.Tick(start + timeout - 0.01)], s)
    assert s1 == s and effects == []
    s2, effects = run([co.Tick(start + timeout)], s)
    assert s2.phase is Phase.IDLE and effects[0] == co.ClearPersonalData()
    assert s2.status is None and s2.manntallsnummer is None and s2.search_hits == ()


def test_the_next_scan_clears_the_last_voter() -> None:
    s, _ = run([co.CheckoffAnswered("rid-1", DONE, 1.2)], checking())
    s, effects = run([co.Scanned(OTHER, 3.0)], s)
    assert effects[0] == co.ClearPersonalData() and s.status is None and s.phase is Phase.LOOKING_UP


def test_cancel_clears() -> None:
    s, effects = run([co.Cancel(2.0)], confirming())
    assert s.phase is Phase.IDLE and effects == [co.ClearPersonalData()] and s.status is None


# -- leaving an unanswered check-off -----------------------------------------------------------


def test_esc_leaves_a_hung_checkoff_which_goes_on_in_the_background() -> None:
    s, effects = run([co.Cancel(2.0)], checking())  # the first ask is still on its way
    assert s.phase is Phase.IDLE and s.status is None and s.manntallsnummer is None
    assert s.unresolved == (co.Unresolved("rid-1", GOOD, 0, None),)
    # no notice on top: the unresolved line every screen shows (from s.unresolved) says it once
    assert co.ClearPersonalData() in effects and not of(effects, co.Notice)
    assert co.JournalEntry(ent.CheckoffUnresolved("rid-1", 0)) in effects
    s, effects = run([co.CheckoffFailed("rid-1", UNREACHABLE, 5.0)], s)
    assert s.phase is Phase.IDLE and s.unresolved[0].attempts == 1 and not of(effects, co.AskCheckoff)
    s, effects = run([co.Tick(5.0 + T.retry_interval)], s)
    assert of(effects, co.AskCheckoff) == [co.AskCheckoff("rid-1", GOOD, 2)]
    s, effects = run([co.Tick(5.0 + 2 * T.retry_interval)], s)  # one request at a time
    assert not of(effects, co.AskCheckoff)


def test_a_background_checkoff_keeps_its_request_id_across_other_voters() -> None:
    s, _ = run([co.CheckoffFailed("rid-1", UNREACHABLE, 2.0), co.Cancel(3.0)], checking())
    assert s.unresolved == (co.Unresolved("rid-1", GOOD, 1, 4.0),)
    s, _ = run([co.Scanned(OTHER, 3.5)], s)
    s, effects = run([co.Tick(4.0)], s)
    assert s.phase is Phase.LOOKING_UP and of(effects, co.AskCheckoff) == [co.AskCheckoff("rid-1", GOOD, 2)]
    s, effects = run([co.CheckoffAnswered("rid-1", DONE, 4.5)], replace(s, count_today=3))
    assert s.phase is Phase.LOOKING_UP and s.unresolved == () and s.count_today == 4
    assert co.Notice(co.RESOLVED_CHECKED_OFF) in effects and co.AskCounts() in effects
    assert co.JournalEntry(ent.CheckoffResolved("rid-1", "checked_off")) in effects
    assert s.last_checkoff == co.LastCheckoff(GOOD, "rid-1", WHEN)


def test_a_background_checkoff_that_was_not_made_says_so() -> None:
    s, _ = run([co.Cancel(2.0)], checking())
    s, effects = run([co.CheckoffAnswered("rid-1", VoterStatus(Verdict.ALREADY_VOTED, KARI), 3.0)], s)
    notices = of(effects, co.Notice)
    assert s.unresolved == () and len(notices) == 1 and "IKKE krysset av" in notices[0].text  # type: ignore[attr-defined]
    s, _ = run([co.Cancel(2.0)], checking())
    s, effects = run([co.CheckoffFailed("rid-1", REFUSED, 3.0)], s)
    assert s.unresolved == () and "IKKE krysset av" in of(effects, co.Notice)[0].text  # type: ignore[attr-defined]


def test_a_timed_out_confirm_says_not_checked_off() -> None:
    s = confirming()
    s, effects = run([co.Tick(0.1 + T.confirm)], s)
    assert s.phase is Phase.IDLE and co.Notice(co.CONFIRM_TIMED_OUT) in effects
    assert "IKKE KRYSSET AV" in co.CONFIRM_TIMED_OUT
    s, effects = run([co.StartManualValgkort(1.0), co.Tick(1.0 + T.confirm)], confirming())
    assert s.phase is Phase.IDLE and co.Notice(co.CONFIRM_TIMED_OUT) in effects


@pytest.mark.parametrize("make_state", [lambda: run([co.Scanned(GOOD, 0.0)])[0],
                                        lambda: run([co.StartSearch(0.0),
                                                     co.SubmitSearch(SearchQuery(fodselsnummer="01048012345"), 1.0)])[0]])
def test_esc_leaves_a_lookup_or_a_search_and_a_late_answer_is_ignored(make_state) -> None:  # type: ignore[no-untyped-def]
    s = make_state()
    s, effects = run([co.Cancel(2.0)], s)
    assert s.phase is Phase.IDLE and s.manntallsnummer is None
    with pytest.raises(co.IllegalTransition):
        co.step(s, co.LookupAnswered(s.ticket, READY, 3.0))


# -- illegal events ---------------------------------------------------------------------------

ILLEGAL = [
    ("idle", lambda: co.initial_state(SETTINGS), co.Confirm("x", 0.0)),
    ("idle", lambda: co.initial_state(SETTINGS), co.Cancel(0.0)),
    ("idle", lambda: co.initial_state(SETTINGS), co.LookupAnswered(0, READY, 0.0)),
    ("idle", lambda: co.initial_state(SETTINGS), co.StartMisregistration(0.0)),  # nothing to report
    ("looking_up", lambda: run([co.Scanned(GOOD, 0.0)])[0], co.Confirm("x", 0.0)),
    ("looking_up", lambda: run([co.Scanned(GOOD, 0.0)])[0], co.LookupAnswered(7, READY, 0.0)),  # stale ticket
    ("checking_off", checking, co.CheckoffAnswered("other-id", DONE, 0.0)),
    ("checking_off", checking, co.CheckoffFailed("other-id", UNREACHABLE, 0.0)),
    ("checking_off", checking, co.StartSearch(0.0)),
    ("uncertain", lambda: run([co.CheckoffFailed("rid-1", UNREACHABLE, 2.0)], checking())[0],
     co.CheckoffAnswered("rid-1", DONE, 3.0)),  # no request on its way: a stray answer
    ("idle", lambda: run([co.Cancel(2.0), co.Tick(2.1)], checking())[0],
     co.CheckoffAnswered("rid-9", DONE, 3.0)),  # not a check-off this kiosk left
    ("confirming", confirming, co.CheckoffAnswered("rid-1", DONE, 0.0)),
    ("search", lambda: run([co.StartSearch(0.0)])[0], co.Pick(0, 1.0)),  # no hits yet
]


@pytest.mark.parametrize(("name", "make_state", "event"), ILLEGAL, ids=[f"{n}-{type(e).__name__}" for n, _, e in ILLEGAL])
def test_illegal_events_raise_and_leave_the_state(name, make_state, event) -> None:  # type: ignore[no-untyped-def]
    s = make_state()
    assert s.phase.value == name
    before = s
    with pytest.raises(co.IllegalTransition):
        co.step(s, event)
    assert s == before


# -- scanner and counts -----------------------------------------------------------------------


def test_scanner_status_is_tracked_in_every_phase() -> None:
    for make in (lambda: co.initial_state(SETTINGS), confirming, checking):
        s, effects = run([co.ScannerChanged(False, "Skanneren er koblet fra")], make())
        assert not s.scanner_connected and of(effects, co.LogEntry)
        s, effects = run([co.ScannerChanged(True, "sim")], s)
        assert s.scanner_connected


def test_counts_update_in_any_phase() -> None:
    s, _ = run([co.CountsAnswered(7)], checking())
    assert s.count_today == 7 and s.phase is Phase.CHECKING_OFF


# -- search -----------------------------------------------------------------------------------

PER = Voter(OTHER, "Per Prøvesen", date(1975, 1, 2))


@pytest.mark.parametrize(
    ("query", "ok"),
    [
        (SearchQuery(fodselsnummer="01018012345"), True),
        (SearchQuery(fodselsnummer="0101801234"), False),
        (SearchQuery(fodselsnummer="01018012345", navn="Kari"), False),
        (SearchQuery(navn="Kari Prøvesen", fodselsdato=date(1980, 4, 1)), True),
        (SearchQuery(navn="K", fodselsdato=date(1980, 4, 1)), False),
        (SearchQuery(navn="Kari Prøvesen"), False),
        (SearchQuery(), False),
    ],
)
def test_search_queries_are_checked_before_asking(query: SearchQuery, ok: bool) -> None:
    s, effects = run([co.StartSearch(0.0), co.SubmitSearch(query, 1.0)])
    if ok:
        assert s.phase is Phase.SEARCHING and effects == [co.AskSearch(1, query)]
    else:
        assert s.phase is Phase.SEARCH and s.search_error and effects == []


def test_search_pick_confirm() -> None:
    q = SearchQuery(navn="Prøvesen", fodselsdato=date(1980, 4, 1))
    s, effects = run(
        [
            co.StartSearch(0.0),
            co.SubmitSearch(q, 1.0),
            co.SearchAnswered(1, SearchResult((PER, KARI)), 1.5),
            co.Pick(1, 2.0),
        ]
    )
    assert s.phase is Phase.LOOKING_UP and effects[-1] == co.AskLookup(2, GOOD)
    s, effects = run([co.LookupAnswered(2, READY, 2.1), co.Confirm("rid-9", 3.0)], s)
    assert effects == [co.AskCheckoff("rid-9", GOOD, 1), effects[1]]


def test_search_without_hits_and_failures_stay_on_the_form() -> None:
    q = SearchQuery(fodselsnummer="01018012345")
    s, _ = run([co.StartSearch(0.0), co.SubmitSearch(q, 1.0), co.SearchAnswered(1, SearchResult(()), 1.5)])
    assert s.phase is Phase.SEARCH and "Ingen treff" in s.search_error
    s, _ = run([co.SubmitSearch(q, 2.0), co.SearchFailed(2, UNREACHABLE, 2.5)], s)
    assert s.phase is Phase.SEARCH and s.search_error == UNREACHABLE.message


# -- misregistration --------------------------------------------------------------------------

MIS = Misregistration(WHEN, "Avkrysser bord 3", "0101", 3, co.MISREGISTRATION_NOTE)


def test_misregistration_of_the_last_checkoff() -> None:
    s, _ = run([co.CheckoffAnswered("rid-1", DONE, 1.2)], checking())
    s, effects = run([co.StartMisregistration(2.0)], s)
    assert s.phase is Phase.CONFIRM_MISREGISTRATION and effects == [co.ClearPersonalData()]
    s, effects = run([co.ConfirmMisregistration(3.0)], s)
    assert effects == [co.AskMisregistration(2, GOOD, "Avkrysser bord 3", co.MISREGISTRATION_NOTE)]
    s, effects = run([co.MisregistrationAnswered(2, MIS, 3.5)], s)
    assert s.outcome is Outcome.MISREGISTRATION_REPORTED and s.misregistration == MIS


def test_misregistration_failure_is_shown() -> None:
    s, _ = run([co.CheckoffAnswered("rid-1", DONE, 1.2)], checking())
    s, _ = run([co.StartMisregistration(2.0), co.ConfirmMisregistration(3.0),
                co.MisregistrationFailed(2, UNREACHABLE, 3.5)], s)  # fmt: skip
    assert s.outcome is Outcome.MISREGISTRATION_FAILED and s.problem == UNREACHABLE.message


def test_every_transition_in_the_table_names_a_real_phase_and_event() -> None:
    events = set(co.Event.__args__)  # type: ignore[attr-defined]
    for phase, event_type in co.TRANSITIONS:
        assert isinstance(phase, Phase) and event_type in events
    # every phase accepts the events that can arrive at any time
    for phase in Phase:
        for always in (co.Tick, co.ScannerChanged, co.CountsAnswered, co.Scanned):
            assert co.accepts(co.State(SETTINGS, phase=phase), always)


def test_the_loggbok_gets_scanner_faults_and_misregistrations_without_names() -> None:
    _, effects = run([co.ScannerChanged(False, "Skanneren er koblet fra")])
    assert of(effects, co.JournalEntry) == [
        co.JournalEntry(ent.ScannerFault(False, "Skanneren er koblet fra"))
    ]
    s, _ = run([co.CheckoffAnswered("rid-1", DONE, 1.2)], checking())
    s, effects = run([co.StartMisregistration(2.0), co.ConfirmMisregistration(3.0),
                      co.MisregistrationAnswered(2, MIS, 3.5)], s)  # fmt: skip
    written = [e.entry for e in of(effects, co.JournalEntry)]  # type: ignore[attr-defined]
    assert [ent.kind_of(e) for e in written] == ["misregistration"]
    kind, data = ent.record(written[0])
    assert data["forespørsel"] == "rid-1" and "Kari" not in str(data) and GOOD not in str(data)


# -- the manual valgkort from the register (issue 5) ---------------------------------------


def test_manual_valgkort_for_the_voter_found_goes_back_to_confirming() -> None:
    s, effects = run([co.StartManualValgkort(2.0)], confirming())
    assert s.phase is Phase.CHOOSING_VALGKORT and s.shows_personal_data and not effects
    assert s.deadline == 2.0 + T.confirm
    s, effects = run([co.ChooseValgkortReason(co.ValgkortReason.NO_VALGKORT, 3.0)], s)
    assert of(effects, co.PrintManualValgkort) == [co.PrintManualValgkort(KARI, co.ValgkortReason.NO_VALGKORT)]
    assert s.phase is Phase.CONFIRMING and s.status == READY and s.valgkort_return is None
    assert s.deadline == 3.0 + T.confirm
    s, effects = run([co.Confirm("rid-1", 4.0)], s)  # the check-off still goes ahead
    assert of(effects, co.AskCheckoff)


def test_manual_valgkort_after_an_outcome_and_cancel_goes_back_without_printing() -> None:
    already = VoterStatus(Verdict.ALREADY_VOTED, KARI, CheckoffRecord(WHEN, "0101", "Prøveskolen", 2))
    shown, _ = run([co.Scanned(GOOD, 0.0), co.LookupAnswered(1, already, 0.1)])
    s, effects = run([co.StartManualValgkort(1.0), co.Cancel(2.0)], shown)
    assert s.phase is Phase.OUTCOME and s.outcome is Outcome.ALREADY_VOTED and not effects
    assert s.deadline == 2.0 + T.personal_data
    s, effects = run([co.StartManualValgkort(3.0), co.ChooseValgkortReason(co.ValgkortReason.SPECIAL_VOTE, 4.0)],
                     shown)  # fmt: skip
    assert of(effects, co.PrintManualValgkort) == [co.PrintManualValgkort(KARI, co.ValgkortReason.SPECIAL_VOTE)]


def test_choosing_a_reason_times_out_like_any_personal_screen() -> None:
    s, _ = run([co.StartManualValgkort(2.0)], confirming())
    s, effects = run([co.Tick(2.0 + T.confirm)], s)
    assert s.phase is Phase.IDLE and s.status is None
    assert effects[0] == co.ClearPersonalData() and co.Notice(co.CONFIRM_TIMED_OUT) in effects  # from a confirm


@pytest.mark.parametrize(
    ("make_state", "event"),
    [
        (lambda: run([co.Scanned("12345", 0.0)])[0], co.StartManualValgkort(1.0)),  # no voter
        (lambda: co.initial_state(SETTINGS), co.StartManualValgkort(1.0)),
        (lambda: run([co.StartManualValgkort(1.0)], confirming())[0],
         co.ChooseValgkortReason(co.ValgkortReason.EMERGENCY, 2.0)),  # the emergency screen's
        (confirming, co.ChooseValgkortReason(co.ValgkortReason.SAMI, 2.0)),
    ],
)
def test_manual_valgkort_needs_a_voter_from_the_register(make_state, event) -> None:  # type: ignore[no-untyped-def]
    s = make_state()
    with pytest.raises(co.IllegalTransition):
        co.step(s, event)
