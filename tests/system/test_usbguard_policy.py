"""The USBGuard policy generated from station configs parses with usbguard-rule-parser
(the daemon's own parser), and allows exactly the configured devices."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from image_stations import importer, station

from valgkiosk import config as cfg

imp = importer()
pytestmark = pytest.mark.skipif(shutil.which("usbguard-rule-parser") is None,
                                reason="usbguard-rule-parser is not installed (Debian's usbguard)")

CONFIGS = {
    "example": station(),
    "usb-printer": station(printer='kind = "usb"\nvendor = 0x04b8\nproduct = 0x0202'),
    "scanner-by-name": station(scanner='kind = "evdev"\nname = "Symbol Bar Code Scanner"\nlayout = "no"'),
    "serial-scanner": station(scanner='kind = "serial"\ndevice = "/dev/ttyACM0"\nvendor = 0x05e0\nproduct = 0x1900'),
    "vendor-only": station(scanner='kind = "evdev"\nvendor = 0x0c2e\nlayout = "us"'),
    "board-uart-scanner": station(scanner='kind = "serial"\ndevice = "/dev/ttyAMA0"'),
}


def parse(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["usbguard-rule-parser", "-f", str(path)], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_generated_policy_parses(name: str, tmp_path: Path) -> None:
    policy = imp.usbguard_policy(cfg.parse(CONFIGS[name]))
    path = tmp_path / "rules.conf"
    path.write_text(policy, encoding="utf-8")
    result = parse(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "reject" == policy.strip().splitlines()[-1]


def test_the_parser_is_strict_enough_to_catch_a_broken_rule(tmp_path: Path) -> None:
    path = tmp_path / "rules.conf"
    path.write_text(imp.usbguard_policy(cfg.parse(CONFIGS["example"])) + "allow id 05e0:\n", encoding="utf-8")
    assert parse(path).returncode != 0


def test_policy_allows_exactly_the_configured_devices() -> None:
    policy = imp.usbguard_policy(cfg.parse(CONFIGS["usb-printer"]))
    allows = sorted(line for line in policy.splitlines() if line.startswith("allow"))
    assert allows == ["allow id 0424:7800", "allow id 0424:ec00", "allow id 04b8:0202", "allow id 05e0:1200",
                      "allow with-interface equals { 09:00:* }"]


def test_scanner_on_the_boards_uart_needs_no_usb_rule() -> None:
    policy = imp.usbguard_policy(cfg.parse(CONFIGS["board-uart-scanner"]))
    assert "[scanner]" not in policy
