"""The loggbok's hash chain: any edit, insertion, reordering or deletion is found."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from valgkiosk.core.loggbok import GENESIS, next_entry, to_line, verify

T0 = datetime(2027, 9, 13, 9, 0, tzinfo=timezone(timedelta(hours=2)))


def chain(n: int = 5) -> list[str]:
    entries, previous = [], None
    for i in range(n):
        previous = next_entry(previous, "emergency_vote", {"nr": i + 1, "manntallsnummer": f"{i:012d}"},
                              T0 + timedelta(minutes=i))
        entries.append(to_line(previous))
    return entries


def test_an_intact_chain_verifies() -> None:
    lines = chain()
    assert verify(lines) == []
    assert json.loads(lines[0])["prev"] == GENESIS
    assert json.loads(lines[1])["prev"] == json.loads(lines[0])["hash"]


def test_an_edited_entry_is_found() -> None:
    lines = chain()
    lines[2] = lines[2].replace('"nr":3', '"nr":4')
    problems = verify(lines)
    assert [p.line for p in problems] == [3] and "endret" in problems[0].message


def test_a_deleted_entry_is_found() -> None:
    lines = chain()
    del lines[2]
    problems = verify(lines)
    assert problems and problems[0].line == 3 and "slettet" in problems[0].message


def test_a_deleted_first_entry_is_found() -> None:
    problems = verify(chain()[1:])
    assert problems and problems[0].line == 1


def test_reordered_entries_are_found() -> None:
    lines = chain()
    lines[1], lines[2] = lines[2], lines[1]
    assert {p.line for p in verify(lines)} >= {2, 3}


def test_a_rehashed_forgery_still_breaks_the_link() -> None:
    lines = chain()
    forged = json.loads(lines[2])
    forged["data"]["nr"] = 99
    rebuilt = next_entry(None, forged["kind"], forged["data"], T0)  # a fresh, self-consistent hash
    lines[2] = to_line(rebuilt)
    assert any(p.line in (3, 4) for p in verify(lines))


def test_garbage_lines_are_reported() -> None:
    lines = chain()
    lines.insert(1, "{not json")
    assert verify(lines)[0].line == 2


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError):
        next_entry(None, "start", {}, datetime(2027, 9, 13, 9, 0))
