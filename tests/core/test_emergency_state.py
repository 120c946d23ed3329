"""The station's emergency state as a fold over loggbok entries."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from valgkiosk.core import emergency as em
from valgkiosk.core import sentences
from valgkiosk.core.loggbok import next_entry
from valgkiosk.core.outage import Layer, Mode
from valgkiosk.ports.indicators import AlarmMode

T0 = datetime(2025, 9, 8, 9, 0, tzinfo=timezone(timedelta(hours=2)))


def run(*steps: tuple[str, dict]) -> em.StationState:
    state = em.StationState()
    for i, (kind, data) in enumerate(steps):
        state = em.apply(state, kind, data, T0 + timedelta(minutes=i))
    return state


OUTAGE = ("outage_start", {"layer": "GATEWAY", "since": T0.isoformat(), "power": {"router": False}})


def test_an_outage_sounds_the_alarm_and_its_end_stops_it() -> None:
    s = run(OUTAGE)
    assert s.alarm is em.Alarm.SOUNDING and not s.reachable and s.outage and s.outage.layer is Layer.GATEWAY
    assert em.alarm_output(s) is AlarmMode.ALARM
    s = em.apply(s, "outage_end", {"until": (T0 + timedelta(seconds=90)).isoformat()}, T0)
    assert s.alarm is em.Alarm.QUIET and s.reachable and em.alarm_output(s) is AlarmMode.QUIET
    assert s.outages[-1].duration_s(T0) == 90


def test_acknowledging_silences_the_buzzer_but_not_the_outage() -> None:
    s = run(OUTAGE, ("alarm_acknowledged", {}))
    assert s.alarm is em.Alarm.ACKNOWLEDGED and not s.reachable
    assert em.alarm_output(s) is AlarmMode.ACKNOWLEDGED


def test_acknowledging_without_an_alarm_changes_nothing() -> None:
    assert run(("alarm_acknowledged", {})) == em.StationState()


def test_no_alarm_when_the_table_already_runs_the_routine() -> None:
    s = run(("emergency_start", {}), OUTAGE)
    assert s.alarm is em.Alarm.QUIET and s.emergency and em.alarm_output(s) is AlarmMode.ACKNOWLEDGED


def test_starting_the_routine_silences_a_sounding_alarm() -> None:
    assert run(OUTAGE, ("emergency_start", {})).alarm is em.Alarm.QUIET


def test_votes_count_once_and_pending_until_uploaded() -> None:
    s = run(("emergency_start", {}),
            ("emergency_vote", {"vote_id": "a", "manntallsnummer": "000001234582"}),
            ("emergency_vote", {"vote_id": "a", "manntallsnummer": "000001234582"}),  # the same entry again
            ("emergency_vote", {"vote_id": "b", "manntallsnummer": None, "manual_valgkort": True}),
            ("emergency_end", {}))
    assert [v.vote_id for v in s.votes] == ["a", "b"] and not s.emergency
    assert s.votes[1].manual_valgkort and s.votes[1].manntallsnummer is None
    assert [v.vote_id for v in s.pending] == ["a", "b"]
    assert s.recorded("000001234582") is s.votes[0]
    s = em.apply(s, "emergency_upload", {"vote_ids": ["a"]}, T0)
    assert [v.vote_id for v in s.pending] == ["b"]
    s = em.apply(s, "emergency_upload", {"vote_ids": ["a", "b"]}, T0)
    assert s.pending == () and s.vote_count == 2


def test_replay_of_real_entries_gives_the_same_state_as_applying_them() -> None:
    steps = [OUTAGE, ("alarm_acknowledged", {}), ("emergency_start", {}), ("start", {"bord": 1}),
             ("emergency_vote", {"vote_id": "x", "manntallsnummer": None, "manual_valgkort": True})]
    entries, previous = [], None
    for i, (kind, data) in enumerate(steps):
        previous = next_entry(previous, kind, data, T0 + timedelta(minutes=i))
        entries.append(previous)
    assert em.replay(entries) == run(*steps)


def test_the_detector_restarts_inside_an_ongoing_outage() -> None:
    d = em.detector_after_restart(run(OUTAGE))
    assert d.mode is Mode.UNREACHABLE and d.outage_started_at == T0 and d.worst_layer is Layer.GATEWAY
    assert em.detector_after_restart(run()).mode is Mode.REACHABLE


def test_the_walk_skips_the_manual_valgkort_for_a_scanned_card() -> None:
    w = em.Walk().with_valgkort("000001234582")
    assert w.step == 3 and not w.manual_valgkort
    w = em.Walk().without_valgkort()
    assert w.step == 2 and w.manual_valgkort
    for _ in range(10):
        w = w.next()
    assert w.step == 6 and w.last_step


def test_the_loggbok_sentence_names_no_person_and_says_the_power() -> None:
    """The chair reads an outage's entries in words (core/sentences, the one describer)."""
    text = sentences.phrase(*OUTAGE)
    assert "ruteren svarer ikke" in text and "ruteren er uten strøm" in text
    assert sentences.phrase("outage_end", {"duration_s": 200}).endswith("etter 3 min 20 s")


@given(st.lists(st.sampled_from(["outage_start", "outage_end", "alarm_acknowledged", "emergency_start",
                                 "emergency_end", "emergency_vote", "emergency_upload"]), max_size=40))
def test_any_order_of_entries_keeps_the_state_consistent(kinds: list[str]) -> None:
    s = em.StationState()
    for i, kind in enumerate(kinds):
        data = {"vote_id": str(i % 5), "vote_ids": [str(j) for j in range(i % 3)], "layer": "TCP"}
        s = em.apply(s, kind, data, T0 + timedelta(seconds=i))
        assert (s.alarm is em.Alarm.QUIET) or s.outage is not None  # no alarm without an outage
        assert len({v.vote_id for v in s.votes}) == len(s.votes)
        assert set(v.vote_id for v in s.pending) <= set(v.vote_id for v in s.votes)
        assert sum(1 for o in s.outages if o.ended_at is None) == (0 if s.outage is None else 1)
