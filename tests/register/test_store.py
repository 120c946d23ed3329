"""The storage contract: the same tests against SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from valgkiosk.register.model import (
    EmergencyVote,
    NoCheckoff,
    RequestIdConflict,
    Verdict,
)
from valgkiosk.register.store import SqlStore, open_store

from .factory import (
    AASE, ELECTION, KARI, NOT_IN_REGISTER, OLA, OTHER_STATION, STRENG, STRICT_TABLE,
    TABLE_1, TABLE_2, fill, voter,
)

T0 = datetime(2025, 9, 8, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def filled(store: SqlStore) -> SqlStore:
    fill(store)
    return store


def test_migrations_are_recorded_and_not_repeated(store_url: str) -> None:
    s = open_store(store_url)
    try:
        assert s.schema_version() == 0
        first = s.migrate()
        assert first and first == sorted(first)
        assert s.migrate() == []
        assert s.schema_version() == first[-1]
    finally:
        s.close()


def test_election_is_stored(filled: SqlStore) -> None:
    assert filled.election() == ELECTION
    assert filled.voter_count() == 4


def test_lookup_verdicts(filled: SqlStore) -> None:
    assert filled.voter_status(TABLE_1, KARI.manntallsnummer).verdict is Verdict.READY
    status = filled.voter_status(TABLE_1, AASE.manntallsnummer)
    assert status.voter == AASE and status.voter.sami and status.krets_navn == "Prøveskolen"
    assert filled.voter_status(TABLE_1, NOT_IN_REGISTER).verdict is Verdict.NOT_IN_REGISTER
    # Øvingsby lets voters use any station; Strengby does not.
    assert filled.voter_status(OTHER_STATION, KARI.manntallsnummer).verdict is Verdict.READY
    strict = filled.voter_status(STRICT_TABLE, STRENG.manntallsnummer)
    assert strict.verdict is Verdict.OTHER_STATION and strict.krets_navn == "Demosenteret"
    assert filled.voter_status(STRICT_TABLE, KARI.manntallsnummer).verdict is Verdict.OTHER_MUNICIPALITY


def test_check_off_once_then_already_voted(filled: SqlStore) -> None:
    first = filled.check_off(TABLE_1, "r-1", KARI.manntallsnummer, T0)
    assert first.verdict is Verdict.CHECKED_OFF
    assert first.checkoff is not None and first.checkoff.bord == 1
    assert first.checkoff.checked_off_at == T0 and first.checkoff.krets_navn == "Prøveskolen"
    second = filled.check_off(TABLE_2, "r-2", KARI.manntallsnummer, T0 + timedelta(minutes=5))
    assert second.verdict is Verdict.ALREADY_VOTED
    assert second.checkoff == first.checkoff  # when and where the first one was made
    assert filled.voter_status(TABLE_2, KARI.manntallsnummer).verdict is Verdict.ALREADY_VOTED


def test_retry_with_same_request_id_returns_the_same_answer(filled: SqlStore) -> None:
    first = filled.check_off(TABLE_1, "r-1", OLA.manntallsnummer, T0)
    retry = filled.check_off(TABLE_1, "r-1", OLA.manntallsnummer, T0 + timedelta(seconds=30))
    assert retry.verdict is Verdict.CHECKED_OFF
    assert retry.checkoff == first.checkoff
    assert sum(c.checkoffs for c in filled.counts()) == 1


def test_request_id_reuse_is_a_conflict(filled: SqlStore) -> None:
    filled.check_off(TABLE_1, "r-1", KARI.manntallsnummer, T0)
    with pytest.raises(RequestIdConflict):
        filled.check_off(TABLE_1, "r-1", OLA.manntallsnummer, T0)
    with pytest.raises(RequestIdConflict):
        filled.check_off(TABLE_2, "r-1", KARI.manntallsnummer, T0)
    assert filled.voter_status(TABLE_1, OLA.manntallsnummer).verdict is Verdict.READY


def test_refusals_record_nothing(filled: SqlStore) -> None:
    assert filled.check_off(TABLE_1, "a", NOT_IN_REGISTER, T0).verdict is Verdict.NOT_IN_REGISTER
    assert filled.check_off(STRICT_TABLE, "b", STRENG.manntallsnummer, T0).verdict is Verdict.OTHER_STATION
    assert filled.check_off(STRICT_TABLE, "c", KARI.manntallsnummer, T0).verdict is Verdict.OTHER_MUNICIPALITY
    assert filled.counts() == []


def test_misregistration_is_reported_once_and_shown_later(filled: SqlStore) -> None:
    filled.check_off(TABLE_1, "r-1", KARI.manntallsnummer, T0)
    report = filled.report_misregistration(TABLE_1, KARI.manntallsnummer, "Avkrysser bord 1",
                                           "Feil person krysset av", T0 + timedelta(minutes=1))
    again = filled.report_misregistration(TABLE_2, KARI.manntallsnummer, "noen andre", "x",
                                          T0 + timedelta(minutes=9))
    assert again == report and report.reported_by == "Avkrysser bord 1"
    later = filled.voter_status(TABLE_2, KARI.manntallsnummer)
    assert later.verdict is Verdict.ALREADY_VOTED
    assert later.checkoff is not None and later.checkoff.misregistration == report
    assert filled.counts()[0].misregistrations == 1


def test_misregistration_needs_a_checkoff_at_this_station(filled: SqlStore) -> None:
    with pytest.raises(NoCheckoff):
        filled.report_misregistration(TABLE_1, OLA.manntallsnummer, "x", "", T0)
    filled.check_off(OTHER_STATION, "r-1", OLA.manntallsnummer, T0)
    with pytest.raises(NoCheckoff):
        filled.report_misregistration(TABLE_1, OLA.manntallsnummer, "x", "", T0)


def test_emergency_votes_count_once_and_reconcile(filled: SqlStore) -> None:
    filled.check_off(TABLE_1, "r-1", KARI.manntallsnummer, T0)
    votes = [EmergencyVote("e-1", T0 + timedelta(hours=1), KARI.manntallsnummer),
             EmergencyVote("e-2", T0 + timedelta(hours=1), None, manual_valgkort=True),
             EmergencyVote("e-3", T0 + timedelta(hours=2), OLA.manntallsnummer)]
    first = filled.record_emergency_votes(TABLE_2, votes, T0 + timedelta(hours=3))
    again = filled.record_emergency_votes(TABLE_2, votes, T0 + timedelta(hours=4))
    assert (first.accepted, first.already_recorded) == (3, 0)
    assert (again.accepted, again.already_recorded) == (0, 3)
    counts = {c.bord: c for c in filled.counts(kommune="0301", krets="0101")}
    assert counts[1].checkoffs == 1 and counts[1].emergency_votes == 0
    assert counts[2].emergency_votes == 3 and counts[2].checkoffs == 0
    duplicates = filled.reconciliation()
    assert [d.manntallsnummer for d in duplicates] == [KARI.manntallsnummer]
    kinds = [a.kind for a in duplicates[0].appearances]
    assert kinds == ["checkoff", "emergency_vote"]


def test_counts_filter_by_station(filled: SqlStore) -> None:
    filled.check_off(TABLE_1, "r-1", KARI.manntallsnummer, T0)
    filled.check_off(OTHER_STATION, "r-2", OLA.manntallsnummer, T0)
    assert [c.krets for c in filled.counts()] == ["0101", "0102"]
    assert [c.krets for c in filled.counts(kommune="0301", krets="0102")] == ["0102"]


def test_import_is_all_or_nothing(filled: SqlStore) -> None:
    clash = voter(1001, "Dobbel", "Nummersen", KARI.fodselsdato)  # same manntallsnummer as Kari
    fresh = voter(2001, "Ny", "Velgersen", OLA.fodselsdato)
    with pytest.raises(Exception):
        filled.import_voters([fresh, clash])
    assert filled.voter_count() == 4
    assert filled.voter_status(TABLE_1, fresh.manntallsnummer).verdict is Verdict.NOT_IN_REGISTER


def test_search_sources(filled: SqlStore) -> None:
    found = filled.voter_by_fodselsnummer(OLA.fodselsnummer)
    assert found is not None and found[0] == OLA and found[1] == "Testhallen"
    assert filled.voter_by_fodselsnummer("01010100000") is None
    assert [v for v, _ in filled.voters_born(AASE.fodselsdato)] == [AASE]


def test_credentials_replace_and_revoke(filled: SqlStore) -> None:
    filled.save_credential("a" * 64, TABLE_1, T0)
    assert filled.kiosk_for("a" * 64) == TABLE_1
    filled.save_credential("b" * 64, TABLE_1, T0)  # re-issued: the old one stops working
    assert filled.kiosk_for("a" * 64) is None and filled.kiosk_for("b" * 64) == TABLE_1
    assert filled.revoke_credential(TABLE_1.kiosk_id, T0)
    assert filled.kiosk_for("b" * 64) is None
    assert not filled.revoke_credential(TABLE_1.kiosk_id, T0)
    assert filled.credentials()[0][2] is not None
