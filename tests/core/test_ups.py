"""The UPS rules, table-driven: mains or battery from the sense line or the UPS itself,
when the kiosk shuts down (only on battery), and the battery in the caretaker's words."""

from __future__ import annotations

import pytest

from valgkiosk.core.ups import Supply, UpsPolicy, UpsReading, battery_words, shutdown_reason, supply

POLICY = UpsPolicy(shutdown_percent=15, shutdown_runtime_seconds=300)


@pytest.mark.parametrize(("mains", "reading", "expected"), [
    (True, UpsReading(on_battery=True), Supply.MAINS),  # the sense line wins
    (False, None, Supply.BATTERY),
    (None, UpsReading(on_battery=True), Supply.BATTERY),  # no sense line: the UPS's own flag
    (None, UpsReading(on_battery=False), Supply.MAINS),
    (None, UpsReading(charge_percent=80), Supply.UNKNOWN),
    (None, None, Supply.UNKNOWN),
])
def test_supply(mains: bool | None, reading: UpsReading | None, expected: Supply) -> None:
    assert supply(mains, reading) is expected


@pytest.mark.parametrize(("now", "reading", "expected"), [
    (Supply.BATTERY, UpsReading(low_battery=True), "low_battery_signal"),
    (Supply.BATTERY, UpsReading(charge_percent=15.0), "charge"),
    (Supply.BATTERY, UpsReading(charge_percent=16.0, runtime_seconds=300), "runtime"),
    (Supply.BATTERY, UpsReading(charge_percent=60, runtime_seconds=1800, low_battery=False), None),
    (Supply.BATTERY, UpsReading(), None),  # nothing reported: keep going
    (Supply.BATTERY, None, None),
    (Supply.MAINS, UpsReading(charge_percent=5, low_battery=True), None),  # charging after an outage
    (Supply.UNKNOWN, UpsReading(charge_percent=5), None),
])
def test_shutdown_only_on_a_nearly_empty_battery(now: Supply, reading: UpsReading | None,
                                                 expected: str | None) -> None:
    assert shutdown_reason(now, reading, POLICY) == expected


@pytest.mark.parametrize(("reading", "words"), [
    (UpsReading(charge_percent=62.4, runtime_seconds=1530), "62 %, ca. 25 min igjen"),
    (UpsReading(runtime_seconds=3 * 3600), "ca. 3 t igjen"),
    (UpsReading(charge_percent=100), "100 %"),
    (UpsReading(low_battery=False), "ukjent (UPS-en melder ikke lading)"),
    (None, "ukjent (UPS-en melder ikke lading)"),
])
def test_battery_words(reading: UpsReading | None, words: str) -> None:
    assert battery_words(reading) == words
