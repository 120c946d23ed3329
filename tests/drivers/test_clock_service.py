"""``valgkiosk clock sync|status`` from a station file: the modem of its ``[modem]`` on a
fake pty, an RTC folder and a loggbok, the state written where the kiosk reads it. Run
with --dry-run: the test machine's clock is not the test's to set."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from fake_modem import GOOD, ok, plugged
from valgkiosk.cli import main
from valgkiosk.drivers.clocksync import read_clock_sync
from valgkiosk.drivers.timesource import read_state
from valgkiosk.journal import Journal

pytestmark = pytest.mark.timeout(30)

STATION = """\
[station]
kommune = "0301"
krets = "0101"
bord = 1

[election]
year = 2027

[register]
url = "memory:"

[scanner]
kind = "sim"

[log]
loggbok = "{loggbok}"

[modem]
device = "{modem}"
timeout_seconds = 0.5

[clock]
rtc = "{rtc}"
state_file = "{state}"
"""


def no_ntp_here() -> None:
    if read_clock_sync().synchronized:
        pytest.skip("this machine's clock is NTP-synchronised: the rules would not ask the modem")


def station(tmp_path: Path) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(STATION.format(loggbok=tmp_path / "loggbok.jsonl", modem=tmp_path / "modem",
                                   rtc=tmp_path / "rtc0", state=tmp_path / "run" / "state.json"))
    return path


def test_sync_takes_the_modems_network_time_and_writes_the_state(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    no_ntp_here()
    config = station(tmp_path)
    # the modem's time is far from this machine's clock, so a step is wanted (not done: dry run)
    now = datetime.now(timezone.utc) + timedelta(hours=3)
    cclk = now.strftime('+CCLK: "%y/%m/%d,%H:%M:%S+00"')
    with plugged(tmp_path / "modem", {**GOOD, "AT+CTZU=1": ok(), "AT+CCLK?": ok(cclk)}):
        code = main(["clock", "--config", str(config), "sync", "--dry-run"])
    report = read_state(tmp_path / "run" / "state.json")
    assert report is not None and report.source.value == "modem"
    assert code == 1 and not report.synchronized  # the step was wanted but not done (dry run)
    assert "klokken kunne ikke stilles" in report.words
    assert report.words in capsys.readouterr().out
    assert main(["clock", "--config", str(config), "status"]) == (0 if report.synchronized else 1)


def test_sync_without_any_source_goes_no_further_back_than_the_loggbok(tmp_path: Path) -> None:
    no_ntp_here()
    config = station(tmp_path)
    Journal(tmp_path / "loggbok.jsonl").append("start", {}, at=datetime.now(timezone.utc) + timedelta(days=1))
    main(["clock", "--config", str(config), "sync", "--dry-run"])
    report = read_state(tmp_path / "run" / "state.json")
    assert report is not None and report.source.value == "loggbok" and not report.synchronized


def test_status_without_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["clock", "--config", str(station(tmp_path)), "status"]) == 1
    assert "Ingen klokkestatus" in capsys.readouterr().out


def test_a_broken_station_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[clock]\ncheck_seconds = 1\n")
    assert main(["clock", "--config", str(bad), "status"]) == 2
