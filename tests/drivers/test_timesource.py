"""The clock's sources against real seams: the modem's network time from a fake modem on
a pty, an RTC in a sysfs-shaped folder, the newest entry of a real loggbok file, and the
keeper that applies the clock rules and steps the clock (through a recorder here: the
test machine's clock is not the test's to set)."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fake_modem import GOOD, SILENT, ok, plugged
from valgkiosk.core.timekeeping import ClockSource
from valgkiosk.drivers.modem import Modem
from valgkiosk.drivers.timesource import (
    ClockKeeper,
    last_entry_time,
    modem_network_time,
    parse_cclk,
    read_rtc,
    set_system_clock,
)
from valgkiosk.journal import Journal

pytestmark = pytest.mark.timeout(20)

OSLO = timezone(timedelta(hours=2))
NETWORK_SET = {**GOOD, "AT+CTZU=1": ok(), "AT+CCLK?": ok('+CCLK: "27/09/13,09:00:05+08"')}
NEVER_SET = {**GOOD, "AT+CTZU=1": ok(), "AT+CCLK?": ok('+CCLK: "04/01/01,00:00:12+00"')}


@pytest.mark.parametrize(("line", "expected"), [
    ('+CCLK: "27/09/13,09:00:05+08"', datetime(2027, 9, 13, 9, 0, 5, tzinfo=OSLO)),
    ('+CCLK: "27/01/13,08:00:00+04"', datetime(2027, 1, 13, 7, 0, tzinfo=timezone.utc)),
    ('+CCLK: "2027/09/13,07:00:05-00"', datetime(2027, 9, 13, 7, 0, 5, tzinfo=timezone.utc)),
    ('+CCLK: 27/09/13,07:00:05', datetime(2027, 9, 13, 7, 0, 5, tzinfo=timezone.utc)),  # no quotes, no zone
    ('+CCLK: "80/01/06,00:00:12+00"', datetime(1980, 1, 6, 0, 0, 12, tzinfo=timezone.utc)),
    ('+CCLK: "27/13/40,99:00:00+00"', None),  # not a date
    ("+CSQ: 21,99", None),
])
def test_parse_cclk(line: str, expected: datetime | None) -> None:
    assert parse_cclk([line]) == expected


def test_network_time_from_the_modem_on_a_pty(tmp_path: Path) -> None:
    with plugged(tmp_path / "modem", NETWORK_SET) as fake:
        got = modem_network_time(Modem(str(tmp_path / "modem"), timeout=0.5))
    assert got == datetime(2027, 9, 13, 7, 0, 5, tzinfo=timezone.utc)
    assert fake.received == ["ATE0", "AT+CTZU=1", "AT+CCLK?"]


def test_a_modem_that_refuses_ctzu_still_gives_its_clock(tmp_path: Path) -> None:
    replies = {**NETWORK_SET, "AT+CTZU=1": "\r\nERROR\r\n"}
    with plugged(tmp_path / "modem", replies):
        assert modem_network_time(Modem(str(tmp_path / "modem"), timeout=0.5)) is not None


@pytest.mark.parametrize("replies", [{**NETWORK_SET, "AT+CCLK?": SILENT}, {**NETWORK_SET, "AT+CCLK?": "\r\nERROR\r\n"}],
                         ids=["silent", "error"])
def test_no_time_from_a_silent_or_refusing_modem(tmp_path: Path, replies: dict[str, object]) -> None:
    with plugged(tmp_path / "modem", replies):
        assert modem_network_time(Modem(str(tmp_path / "modem"), timeout=0.3), pause=0.01) is None


def test_no_time_without_a_modem(tmp_path: Path) -> None:
    assert modem_network_time(Modem(str(tmp_path / "nothing"), timeout=0.3), pause=0.01) is None


def test_rtc_from_sysfs(tmp_path: Path) -> None:
    rtc = tmp_path / "rtc0"
    rtc.mkdir()
    assert read_rtc(rtc) is None  # a folder without the attribute: no RTC
    (rtc / "since_epoch").write_text("1820818805\n")
    assert read_rtc(rtc) == datetime(2027, 9, 13, 7, 0, 5, tzinfo=timezone.utc)
    (rtc / "since_epoch").write_text("garbage\n")
    assert read_rtc(rtc) is None
    assert read_rtc(tmp_path / "rtc9") is None


def test_the_newest_loggbok_entry_is_the_floor(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "loggbok.jsonl")
    assert last_entry_time(journal.entries()) is None
    late = datetime(2027, 9, 13, 9, 30, tzinfo=OSLO)
    journal.append("start", {}, at=late)
    journal.append("stop", {}, at=late - timedelta(hours=1))  # an old clock that went backwards
    assert last_entry_time(journal.entries()) == late


def test_setting_the_clock_without_the_privilege_fails_cleanly() -> None:
    """The real clock_settime, in a child without CAP_SYS_TIME (as the kiosk would be
    without the capability): it refuses, the driver says False and logs it."""
    import shutil
    import subprocess
    import sys

    code = ("import sys, datetime; from valgkiosk.drivers.timesource import set_system_clock; "
            "sys.exit(0 if set_system_clock(datetime.datetime.now(datetime.timezone.utc)) is False else 1)")
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("setpriv (util-linux) is needed to drop CAP_SYS_TIME as root")
        cmd = ["setpriv", "--bounding-set=-sys_time", "--inh-caps=-sys_time", sys.executable, "-c", code]
    else:
        cmd = [sys.executable, "-c", code]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "the clock cannot be set" in done.stderr


class Stepper:
    def __init__(self, works: bool = True) -> None:
        self.works = works
        self.steps: list[datetime] = []

    def __call__(self, when: datetime) -> bool:
        self.steps.append(when)
        return self.works


def test_the_keeper_boots_without_ntp_and_takes_the_networks_time(tmp_path: Path) -> None:
    """The outage morning: no NTP, the clock from last night's clock file; the modem on
    the pty gives the network's time, the keeper steps the clock to it."""
    journal = Journal(tmp_path / "loggbok.jsonl")
    journal.append("stop", {}, at=datetime(2027, 9, 12, 21, 30, tzinfo=OSLO))
    stepper = Stepper()
    modem = Modem(str(tmp_path / "modem"), timeout=0.5)
    with plugged(tmp_path / "modem", NETWORK_SET):
        keeper = ClockKeeper(system=lambda: datetime(2027, 9, 12, 21, 31, tzinfo=OSLO), ntp=lambda: False,
                             modem=lambda: modem_network_time(modem), rtc=lambda: None,
                             last_entry=lambda: last_entry_time(journal.entries()), set_clock=stepper)
        assert keeper.synchronized is None
        state = keeper.check()
    assert state.source is ClockSource.MODEM and state.synchronized and keeper.synchronized
    assert stepper.steps == [datetime(2027, 9, 13, 7, 0, 5, tzinfo=timezone.utc)]
    assert state.describe() == "synkronisert, kilde: mobilnettet (modemet)"


def test_the_keeper_with_a_modem_that_never_had_the_time_falls_to_the_rtc(tmp_path: Path) -> None:
    rtc = tmp_path / "rtc0"
    rtc.mkdir()
    (rtc / "since_epoch").write_text("1820818805\n")
    stepper = Stepper()
    modem = Modem(str(tmp_path / "modem"), timeout=0.5)
    with plugged(tmp_path / "modem", NEVER_SET):
        keeper = ClockKeeper(system=lambda: datetime(2027, 9, 12, 21, 31, tzinfo=OSLO), ntp=lambda: None,
                             modem=lambda: modem_network_time(modem), rtc=lambda: read_rtc(rtc),
                             last_entry=lambda: None, set_clock=stepper)
        state = keeper.check()
    assert state.source is ClockSource.RTC and state.synchronized
    assert stepper.steps == [datetime(2027, 9, 13, 7, 0, 5, tzinfo=timezone.utc)]


def test_the_keeper_never_goes_back_past_the_loggbok(tmp_path: Path) -> None:
    """No source at all and a clock behind the loggbok (no clock file): forward to the
    newest entry, and the receipts' flag says unsynchronised."""
    journal = Journal(tmp_path / "loggbok.jsonl")
    newest = datetime(2027, 9, 13, 10, 15, tzinfo=OSLO)
    journal.append("start", {}, at=newest)
    stepper = Stepper()
    keeper = ClockKeeper(system=lambda: datetime(1970, 1, 1, tzinfo=timezone.utc), ntp=lambda: None,
                         modem=lambda: None, rtc=lambda: None,
                         last_entry=lambda: last_entry_time(journal.entries()), set_clock=stepper)
    state = keeper.check()
    assert state.source is ClockSource.LOGGBOK and stepper.steps == [newest]
    assert keeper.synchronized is False


def test_with_ntp_the_modem_is_not_asked(tmp_path: Path) -> None:
    asked: list[str] = []
    keeper = ClockKeeper(system=lambda: datetime(2027, 9, 13, 9, tzinfo=OSLO), ntp=lambda: True,
                         modem=lambda: asked.append("modem"), rtc=lambda: asked.append("rtc"),
                         set_clock=Stepper())
    assert keeper.check().source is ClockSource.NTP and asked == []


def test_a_step_that_fails_leaves_the_clock_unsynchronised() -> None:
    keeper = ClockKeeper(system=lambda: datetime(2027, 9, 12, 21, 31, tzinfo=OSLO), ntp=lambda: False,
                         modem=lambda: datetime(2027, 9, 13, 7, 0, 5, tzinfo=timezone.utc), rtc=lambda: None,
                         set_clock=Stepper(works=False))
    state = keeper.check()
    assert state.source is ClockSource.MODEM and not state.synchronized
    assert state.describe().startswith("IKKE synkronisert: klokken kunne ikke stilles")


def test_a_failing_source_is_logged_and_passed_over(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> datetime:
        raise RuntimeError("driver bug")

    keeper = ClockKeeper(system=lambda: datetime(2027, 9, 13, 9, tzinfo=OSLO), ntp=broken, modem=broken,
                         rtc=lambda: None, set_clock=Stepper())
    assert keeper.check().source is ClockSource.SYSTEM
    assert "clock source NTP failed" in caplog.text
