"""The UPS readers: a fuel gauge's power_supply folder (sysfs-shaped, in a temp folder),
NUT's upsc output, the low-battery line on MockFactory pins, and the power-off request."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from gpiozero.pins.mock import MockFactory

from valgkiosk.core.ups import UpsReading
from valgkiosk.drivers.ups import SenseLowBattery, parse_upsc, read_nut, read_sysfs, request_poweroff


def gauge(tmp_path: Path, **attrs: str) -> Path:
    folder = tmp_path / "battery"
    folder.mkdir()
    for name, value in attrs.items():
        (folder / name).write_text(value + "\n")
    return folder


def test_sysfs_fuel_gauge(tmp_path: Path) -> None:
    folder = gauge(tmp_path, status="Discharging", capacity="42", time_to_empty_now="1260", capacity_level="Normal")
    assert read_sysfs(folder) == UpsReading(True, 42.0, 1260.0, False)


def test_sysfs_charging_without_time_and_critical(tmp_path: Path) -> None:
    folder = gauge(tmp_path, status="Charging", capacity="7", capacity_level="Critical")
    assert read_sysfs(folder) == UpsReading(False, 7.0, None, True)


def test_sysfs_missing_supply(tmp_path: Path) -> None:
    assert read_sysfs(tmp_path / "nothing") is None


UPSC = """battery.charge: 38
battery.runtime: 840
device.model: Back-UPS ES 700G
ups.status: OB DISCHRG LB
"""


def test_upsc_output() -> None:
    assert parse_upsc(UPSC) == UpsReading(True, 38.0, 840.0, True)
    assert parse_upsc("ups.status: OL CHRG\nbattery.charge: 100\n") == UpsReading(False, 100.0, None, False)
    assert parse_upsc("garbage") == UpsReading()


def test_read_nut_runs_upsc_and_survives_its_absence() -> None:
    def upsc(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        assert args == ["upsc", "ups@localhost"]
        return subprocess.CompletedProcess(args, 0, UPSC, "")

    def missing(args: list[str], **kwargs: Any) -> Any:
        raise FileNotFoundError("upsc")

    def refusing(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 1, "", "Error: Unknown UPS")

    assert read_nut("ups@localhost", upsc).low_battery is True  # type: ignore[union-attr]
    assert read_nut("ups@localhost", missing) is None
    assert read_nut("ups@localhost", refusing) is None


def test_low_battery_line_on_mock_pins() -> None:
    factory = MockFactory()
    line = SenseLowBattery(26, active_high=False, pin_factory=factory)
    pin = factory.pin(26)
    pin.drive_high()
    assert line.read() == UpsReading(low_battery=False)
    pin.drive_low()
    assert line.read() == UpsReading(low_battery=True)
    line.close()


def test_poweroff_request(tmp_path: Path) -> None:
    target = tmp_path / "power" / "poweroff"
    assert request_poweroff(target) and target.read_text() == "low battery\n"
    blocked = tmp_path / "file"
    blocked.write_text("")
    assert request_poweroff(blocked / "poweroff") is False
