"""The people's clock: one zone (Europe/Oslo unless configured) and one format."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone

import pytest

from valgkiosk.core import peopletime as pt

UTC_EVENING = datetime(2025, 9, 8, 17, 52, 7, tzinfo=timezone.utc)  # 19.52 in Oslo (CEST)
UTC_WINTER = datetime(2025, 1, 15, 22, 30, tzinfo=timezone.utc)  # 23.30 in Oslo (CET)
UTC_LATE = datetime(2025, 9, 8, 22, 30, tzinfo=timezone.utc)  # 00.30 the next day in Oslo


@pytest.fixture(autouse=True)
def _default_zone() -> Iterator[None]:
    pt.configure()
    yield
    pt.configure()  # no other test inherits a zone set here


def test_formats_in_oslo_time_whatever_zone_the_datetime_carries() -> None:
    assert pt.clock(UTC_EVENING) == "kl. 19.52"
    assert pt.hhmm(UTC_WINTER) == "23.30"
    assert pt.hhmmss(UTC_EVENING) == "19.52.07"
    assert pt.day_and_clock(UTC_EVENING) == "08.09.2025 kl. 19.52"


def test_the_day_is_the_people_s_day() -> None:
    assert pt.local_date(UTC_LATE) == date(2025, 9, 9)
    assert pt.day(UTC_LATE) == "09.09.2025"
    assert pt.stamp(UTC_LATE, date(2025, 9, 9)) == "kl. 00.30"
    assert pt.stamp(UTC_LATE, date(2025, 9, 8)) == "09.09.2025 kl. 00.30"


def test_a_naive_time_is_taken_as_wall_clock_time() -> None:
    assert pt.clock(datetime(2025, 9, 8, 7, 5)) == "kl. 07.05"


def test_the_zone_is_configurable_and_an_unknown_one_is_refused() -> None:
    pt.configure("Atlantic/Reykjavik")
    assert pt.clock(UTC_EVENING) == "kl. 17.52"
    with pytest.raises(ValueError, match="ukjent tidssone"):
        pt.configure("Europe/Atlantis")
