"""Scoring is pure: expected actions in order, mistakes, and the actions recognised from the
kiosk core's own steps (table-driven)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from valgkiosk.core import checkoff as co
from valgkiosk.core import emergency as em
from valgkiosk.core import kiosk
from valgkiosk.training import scoring as sc

ID = sc.Expect("ask_id", "bra", "Du krysset av uten å kontrollere legitimasjonen.", before="confirm")
CONFIRM = sc.Expect("confirm", "krysset av", "ikke krysset av")
STAMP = sc.Avoid("stamp", "Ikke stempel her.")


def steps(*names: str) -> list[sc.Step]:
    return [sc.Step(n, float(i)) for i, n in enumerate(names)]


@pytest.mark.parametrize(("names", "points", "missed", "mistakes"), [
    (("ask_id", "confirm"), 2, (), ()),
    (("confirm", "ask_id"), 1, (ID.missed,), ()),  # in the wrong order: the ID came too late
    (("confirm",), 1, (ID.missed,), ()),
    (("ask_id",), 1, (CONFIRM.missed,), ()),
    (("ask_id", "confirm", "stamp"), 2, (), (STAMP.mistake,)),
])
def test_score(names: tuple[str, ...], points: int, missed: tuple[str, ...], mistakes: tuple[str, ...]) -> None:
    result = sc.score([ID, CONFIRM], [STAMP], steps(*names), 65.4)
    assert (result.points, result.missed, result.mistakes) == (points, missed, mistakes)
    assert result.full == (points == 2 and not mistakes)
    assert "Tid: 1 min 5 s" in result.lines()
    assert result.earned == max(0, points - len(mistakes))


def test_count_and_completion() -> None:
    twice = sc.Expect("emergency_vote", "begge", "ikke begge", count=2)
    assert not sc.complete([twice], steps("emergency_vote"))
    assert sc.complete([twice], steps("emergency_vote", "walk_next", "emergency_vote"))


SETTINGS = co.Settings(election_year=2029, reported_by="Avkrysser bord 1")


def test_actions_from_the_core() -> None:
    idle = kiosk.initial_state(SETTINGS)
    scanned = kiosk.Flow(co.Scanned("000000100149", 1.0))
    after, effects = kiosk.step(idle, scanned)
    assert sc.actions_of(idle, scanned, after, effects) == ["scan"]
    # a key the moment does not take is no action
    confirm = kiosk.Flow(co.Confirm("rid", 2.0))
    same, none = kiosk.step(idle, confirm)
    assert sc.actions_of(idle, confirm, same, none) == []
    # the station's changes
    outage = em.OutageRecord  # noqa: F841 - the record's shape is the station's business
    quiet = idle.station
    sounding = replace(quiet, alarm=em.Alarm.SOUNDING, outage=object())  # type: ignore[arg-type]
    event = kiosk.StationUpdated(sounding)  # type: ignore[arg-type]
    assert sc.actions_of(idle, event, replace(idle, station=sounding), []) == ["alarm"]
    acked = replace(sounding, alarm=em.Alarm.ACKNOWLEDGED)
    assert sc.actions_of(replace(idle, station=sounding), kiosk.StationUpdated(acked),  # type: ignore[arg-type]
                         replace(idle, station=acked), []) == ["ack_alarm"]


def test_actions_from_the_loggbok() -> None:
    assert sc.actions_of_entry("printer_fault", {"feil": "out_of_paper"}) == ["printer_fault"]
    assert sc.actions_of_entry("manual_valgkort", {"reason": "sami"}) == ["printed"]
    assert sc.actions_of_entry("kiosk_started", {}) == []
