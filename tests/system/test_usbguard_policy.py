"""The USBGuard policy and udev rules generated from station configs: both parse with
their own tools (``usbguard-rule-parser``, the daemon's parser; ``udevadm verify`` where
systemd has it, else a strict reading of udev's rule syntax), and admit exactly the
configured devices, each by its ids (and port, where configured) *and* the interface
classes its kind may present. Values that could widen a match are refused."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from image_stations import importer, station

from valgkiosk import config as cfg

imp = importer()
needs_parser = pytest.mark.skipif(shutil.which("usbguard-rule-parser") is None,
                                  reason="usbguard-rule-parser is not installed (Debian's usbguard)")

KEYBOARD = 'vendor = 0x0627\nproduct = 0x0001\nport = "1-2"'
CONFIGS = {
    "example": station(),
    "usb-printer": station(printer='kind = "usb"\nvendor = 0x04b8\nproduct = 0x0202'),
    "scanner-by-name": station(scanner='kind = "evdev"\nname = "Symbol Bar Code Scanner"\nlayout = "no"'),
    "serial-scanner": station(scanner='kind = "serial"\ndevice = "/dev/ttyACM0"\nvendor = 0x05e0\nproduct = 0x1900'),
    "board-uart-scanner": station(scanner='kind = "serial"\ndevice = "/dev/ttyAMA0"'),
    "keyboard-and-scanner-by-port": station(
        scanner='kind = "evdev"\nvendor = 0x0627\nproduct = 0x0001\nport = "1-1"\nlayout = "us"', keyboard=KEYBOARD),
    "usb-modem": station() + '[modem]\ndevice = "/dev/valgkiosk-modem"\nvendor = 0x2c7c\nproduct = 0x0125\n',
}
REFUSED = {
    "vendor-only": (station(scanner='kind = "evdev"\nvendor = 0x0c2e\nlayout = "us"'), "«vendor» er satt uten «product»"),
    "printer-vendor-only": (station(printer='kind = "file"\ndevice = "/dev/usb/lp0"\nvendor = 0x04b8'),
                            "«vendor» er satt uten «product»"),
    "usb-modem-without-ids": (station() + '[modem]\ndevice = "/dev/ttyUSB2"\n', "oppgi «vendor» og «product»"),
    "name-with-pipe": (station(scanner='kind = "evdev"\nname = "Scanner|Keyboard"\nlayout = "no"'), "kan ikke brukes"),
    "name-with-quote": (station(scanner='kind = "evdev"\nname = "Scan\\"ner"\nlayout = "no"'), "kan ikke brukes"),
    "name-with-glob": (station(scanner='kind = "evdev"\nname = "Scan*"\nlayout = "no"'), "kan ikke brukes"),
    "name-with-control": (station(scanner='kind = "evdev"\nname = "Scan\\u0007ner"\nlayout = "no"'), "kan ikke brukes"),
}


def usbguard_parse(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["usbguard-rule-parser", "-f", str(path)], capture_output=True, text=True, timeout=30)


def allows(name: str) -> list[str]:
    return sorted(line for line in imp.usbguard_policy(cfg.parse(CONFIGS[name])).splitlines()
                  if line.startswith("allow"))


@needs_parser
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_generated_policy_parses(name: str, tmp_path: Path) -> None:
    policy = imp.usbguard_policy(cfg.parse(CONFIGS[name]))
    path = tmp_path / "rules.conf"
    path.write_text(policy, encoding="utf-8")
    result = usbguard_parse(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "block" == policy.strip().splitlines()[-1]


@needs_parser
def test_the_parser_is_strict_enough_to_catch_a_broken_rule(tmp_path: Path) -> None:
    path = tmp_path / "rules.conf"
    path.write_text(imp.usbguard_policy(cfg.parse(CONFIGS["example"])) + "allow id 05e0:\n", encoding="utf-8")
    assert usbguard_parse(path).returncode != 0


def test_policy_admits_each_device_by_ids_and_interfaces() -> None:
    assert allows("usb-printer") == [
        "allow id 0424:7800", "allow id 0424:ec00",
        "allow id 04b8:0202 with-interface match-all { 07:01:* }",
        "allow id 05e0:1200 with-interface match-all { 03:00:* 03:01:01 }",
        "allow id 1a2c:2124 with-interface equals { 03:01:01 }",
        "allow with-interface equals { 09:00:* }"]


def test_keyboard_is_a_hid_keyboard_only_and_ports_pin_both() -> None:
    rules = allows("keyboard-and-scanner-by-port")
    assert 'allow id 0627:0001 via-port "1-2" with-interface equals { 03:01:01 }' in rules
    assert 'allow id 0627:0001 via-port "1-1" with-interface match-all { 03:00:* 03:01:01 }' in rules
    # no rule admits a keyboard anywhere else, nor any other keyboard
    assert not any("03:01:01" in rule and "via-port" not in rule for rule in rules)


def test_serial_scanner_and_modem_present_serial_interfaces_only() -> None:
    assert "allow id 05e0:1900 with-interface match-all { 02:02:* 0a:00:* ff:*:* }" in allows("serial-scanner")
    assert "allow id 2c7c:0125 with-interface match-all { 02:02:* 0a:00:* ff:*:* }" in allows("usb-modem")


def test_scanner_on_the_boards_uart_needs_no_usb_rule() -> None:
    policy = imp.usbguard_policy(cfg.parse(CONFIGS["board-uart-scanner"]))
    assert "[scanner]" not in policy


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unsafe_or_widening_configs_are_refused(name: str, tmp_path: Path) -> None:
    text, message = REFUSED[name]
    (tmp_path / "station.toml").write_text(text, encoding="utf-8")
    (tmp_path / "credential").write_text("k" * 32, encoding="utf-8")
    with pytest.raises(cfg.ConfigError) as caught:
        imp.check_folder(tmp_path)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_a_bad_port_is_a_config_error() -> None:
    with pytest.raises(cfg.ConfigError) as caught:
        cfg.parse(station(keyboard='vendor = 0x0627\nproduct = 0x0001\nport = \'1-1", ATTR{x}=="y\''))
    assert any("keyboard.port" in p for p in caught.value.problems), caught.value.problems


# -- udev ----------------------------------------------------------------------------------

#: One udev rule key: KEY, KEY{attr}, an operator, a double-quoted value without quotes.
_UDEV_KEY = re.compile(r'^(?P<key>[A-Z_]+)(\{[A-Za-z0-9_]+\})?(?P<op>==|!=|\+=|-=|:=|=)"(?P<value>[^"\\]*)"$')
_MATCH_KEYS = {"SUBSYSTEM", "KERNEL", "KERNELS", "ATTR", "ATTRS", "ENV"}
_ASSIGN_KEYS = {"GROUP", "MODE", "SYMLINK", "ENV"}


def udev_lines(rules: str) -> list[list[tuple[str, str, str]]]:
    """Every rule as (key, operator, value) triples; AssertionError on anything udev would
    read differently from what was meant (unquoted or escaped values, a glob or | in a match)."""
    parsed = []
    for line in rules.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        keys = []
        for part in line.split(", "):
            m = _UDEV_KEY.match(part)
            assert m, f"not a udev key: {part!r} in {line!r}"
            key, op, value = m["key"], m["op"], m["value"]
            if op in ("==", "!="):
                assert key in _MATCH_KEYS, part
                fixed = key == "KERNEL" and value in ("event*", "lp*")  # the generator's own, not a config value
                assert fixed or not set(value) & set("*?[]|"), f"a pattern widens the match: {part!r}"
            else:
                assert key in _ASSIGN_KEYS, part
            keys.append((key, op, value))
        parsed.append(keys)
    return parsed


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_generated_udev_rules_parse_back(name: str, tmp_path: Path) -> None:
    rules = imp.udev_rules(cfg.parse(CONFIGS[name]))
    for keys in udev_lines(rules):
        assert ("GROUP", "=", "valgkiosk") in keys
    udevadm = shutil.which("udevadm")
    if udevadm and subprocess.run([udevadm, "verify", "--help"], capture_output=True).returncode == 0:
        path = tmp_path / "70-valgkiosk-devices.rules"
        path.write_text(rules, encoding="utf-8")
        result = subprocess.run([udevadm, "verify", "--no-style", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_udev_rules_pin_the_scanner_to_its_port_and_name_the_modem() -> None:
    rules = imp.udev_rules(cfg.parse(CONFIGS["keyboard-and-scanner-by-port"]))
    assert ('SUBSYSTEM=="input", KERNEL=="event*", ATTRS{idVendor}=="0627", ATTRS{idProduct}=="0001", '
            'KERNELS=="1-1"') in rules
    modem = imp.udev_rules(cfg.parse(CONFIGS["usb-modem"]))
    assert 'ATTRS{idVendor}=="2c7c", ATTRS{idProduct}=="0125"' in modem and 'SYMLINK+="valgkiosk-modem"' in modem


def test_the_udev_reader_catches_a_widened_match() -> None:
    with pytest.raises(AssertionError):
        udev_lines('SUBSYSTEM=="input", ATTRS{name}=="Scanner|Keyboard", GROUP="valgkiosk"')
