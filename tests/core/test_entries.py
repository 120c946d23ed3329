"""Typed loggbok entries: one dataclass per kind, read from and written to the loggbok's
unchanged on-disk format. ``data/loggbok-before-typed-entries.jsonl`` was written by the
kiosk before these classes existed (through the real app: a check-off, a misregistration,
manual valgkort, a printer fault, an unresolved check-off, the scanner, an outage with the
emergency routine and its upload, a self-test, a torn line recovered)."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path

import pytest

from valgkiosk.core import emergency as em
from valgkiosk.core import entries as ent
from valgkiosk.core.loggbok import KINDS_NB, from_line, verify
from valgkiosk.journal import Journal, MemoryJournal

OLD = Path(__file__).parent / "data" / "loggbok-before-typed-entries.jsonl"
T0 = datetime(2025, 9, 8, 9, 0, tzinfo=timezone.utc)


#: Kinds added after the old loggbok was written (issue 14: honest events; issue 17: low-battery shutdown; issue 15: texts).
NEWER_KINDS = frozenset({"scanner_connected", "voter_interrupted", "power_shutdown",
                         "sms_sent", "sms_failed", "sms_given_up", "sms_dropped"})


def old_lines() -> list[str]:
    return OLD.read_text(encoding="utf-8").splitlines()


def test_a_loggbok_written_before_typed_entries_still_verifies_and_reads_typed() -> None:
    assert verify(old_lines()) == []
    kinds = set()
    for line in old_lines():
        entry = from_line(line)
        typed = ent.of(entry)
        assert not isinstance(typed, ent.UnknownEntry), entry.kind
        assert ent.record(typed) == (entry.kind, dict(entry.data))  # written back byte for byte the same
        kinds.add(entry.kind)
    # every kind the kiosk wrote then is in the old loggbok; kinds added since are listed here
    assert kinds == ent.KINDS - NEWER_KINDS


def test_the_old_loggbok_replays_to_the_same_station_state(tmp_path: Path) -> None:
    path = tmp_path / "loggbok.jsonl"
    path.write_text(OLD.read_text(encoding="utf-8"), encoding="utf-8")
    journal = Journal(path)
    state = em.replay(journal.entries())
    assert state.vote_count == 2 and state.pending == () and state.reachable and not state.emergency
    assert [v.manual_valgkort for v in state.votes] == [False, True]
    journal.append(*ent.record(ent.KioskStarted(1)), at=T0)  # new entries chain on the old ones
    assert journal.verify() == []


@pytest.mark.parametrize("cls", sorted(ent.REGISTRY.values(), key=lambda c: c.KIND), ids=lambda c: c.KIND)
def test_every_kind_round_trips_and_has_words(cls: type) -> None:
    entry = cls()
    kind, data = ent.record(entry)
    assert kind == cls.KIND and ent.parse(kind, data) == entry and kind in KINDS_NB
    journal = MemoryJournal()
    journal.append(kind, data, at=T0)
    [back] = list(journal.entries())
    assert ent.of(back) == entry
    # every reader handles every kind (an unhandled one fails assert_never)
    em.apply_entry(em.StationState(), entry, T0)
    # the tally's strict reading knows every field's type, and reads back what was written
    assert ent.read(kind, data) == entry


def test_the_strict_reading_keeps_values_and_leaves_newer_keys_aside() -> None:
    for entry in (ent.EmergencyVotesUploaded(("a", "b"), 2, 0), ent.PrinterFault("out_of_paper", "test_page", False, 1),
                  ent.OutageStarted("TCP", T0.isoformat(), "d", "x", {"mains": True, "router": None}),
                  ent.SelftestRun("0301", "0101", 1, "k", "v", True, {"printer": "passed"}, ("x",))):
        kind, data = ent.record(entry)
        assert ent.read(kind, data) == entry
        assert ent.read(kind, {**data, "added_later": [1, 2]}) == entry
    assert ent.read("printer_fault", {"feil": 3}) == ent.Unreadable("printer_fault", {"feil": 3}, "'feil' is not <class 'str'>")
    assert isinstance(ent.read("outage_start", {**ent.record(ent.OutageStarted())[1], "power": {"mains": "ja"}}),
                      ent.Unreadable)
    assert ent.read("power", {"source": "mains", "present": True}).why == "missing 'previous'"  # type: ignore[union-attr]


def test_fields_with_values_round_trip() -> None:
    for entry in (ent.EmergencyVotesUploaded(("a", "b"), 2, 0), ent.PrinterFault("out_of_paper", "test_page", False, 1),
                  ent.ManualValgkortPrinted("emergency", False), ent.EmergencyVoteRecorded("v1", None, True),
                  ent.OutageStarted("TCP", T0.isoformat(), "d", "x", {"mains": True, "router": None})):
        assert ent.parse(*ent.record(entry)) == entry
    assert ent.record(ent.PrinterFault()) == ("printer_fault", {"feil": "error"})  # optional keys left out


def test_an_unknown_kind_or_key_is_kept_as_read() -> None:
    newer = ent.parse("tidsavvik", {"sekunder": 12})
    assert newer == ent.UnknownEntry("tidsavvik", {"sekunder": 12})
    assert ent.record(newer) == ("tidsavvik", {"sekunder": 12}) and ent.kind_of(newer) == "tidsavvik"
    extra = ent.parse("start", {"bord": 1, "versjon": "2026.1"})
    assert isinstance(extra, ent.UnknownEntry) and ent.record(extra) == ("start", {"bord": 1, "versjon": "2026.1"})
    assert em.apply_entry(em.StationState(), newer, T0) == em.StationState()


def test_entries_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ent.KioskStarted(1).bord = 2  # type: ignore[misc]


def test_the_three_sms_attempts_share_one_frozen_base_and_keep_their_form() -> None:
    """SmsSent, SmsFailed and SmsGivenUp record the same four facts of an attempt, declared
    once (ent.SmsAttempt); the loggbok's form of each is what it was."""
    for cls in (ent.SmsSent, ent.SmsFailed, ent.SmsGivenUp):
        assert issubclass(cls, ent.SmsAttempt) and cls.__dataclass_params__.frozen  # type: ignore[attr-defined]
        assert [f.name for f in dataclasses.fields(cls)][:4] == ["reason", "to", "attempt", "detail"]
    assert "SmsAttempt" not in {c.__name__ for c in ent.REGISTRY.values()}  # not a kind of its own
    sent = ent.SmsSent("unreachable", "+4790000000", 2, "OK", "Bord 1: manntallet kan ikke nås")
    assert ent.record(sent) == ("sms_sent", {"reason": "unreachable", "to": "+4790000000", "attempt": 2,
                                                 "detail": "OK", "text": "Bord 1: manntallet kan ikke nås"})
    failed = ent.SmsFailed("back", "+4790000000", 1, "ERROR", 30.0)
    assert ent.record(failed) == ("sms_failed", {"reason": "back", "to": "+4790000000", "attempt": 1,
                                                     "detail": "ERROR", "retry_in_s": 30.0})
    assert ent.parse(*ent.record(failed)) == failed
