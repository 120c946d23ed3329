"""The boot-time import of the station config (image-build's import_config.py): copies,
validates, generates the device rules, and stops the kiosk with a message on screen."""

from __future__ import annotations

from pathlib import Path

import pytest

from image_stations import boot_folder, importer, station

imp = importer()
USB_PRINTER = 'kind = "usb"\nvendor = 0x04b8\nproduct = 0x0202'


def run_import(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch, **kw: str | None) -> tuple[int, Path]:
    boot = boot_folder(tmp_path / "boot", text, **kw)  # type: ignore[arg-type]
    run = tmp_path / "run"
    monkeypatch.setattr(imp, "BOOT_DIR", boot)
    monkeypatch.setattr(imp, "RUN_DIR", run)
    monkeypatch.setattr(imp, "SCREEN", str(tmp_path / "tty1"))
    return imp.main([]), run


def test_valid_config_is_copied_and_rules_generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, run = run_import(tmp_path, station(printer=USB_PRINTER), monkeypatch)
    assert code == 0
    assert (run / "station.toml").read_text(encoding="utf-8").startswith("# Station configuration")
    assert (run / "credential").read_text(encoding="utf-8") == "k" * 32
    policy = (run / "usbguard-rules.conf").read_text(encoding="utf-8")
    assert "allow id 05e0:1200" in policy and "allow id 04b8:0202" in policy
    assert policy.rstrip().endswith("block")
    assert (run / "usbguard-rules.conf").stat().st_mode & 0o777 == 0o600
    rules = (run / "70-valgkiosk-devices.rules").read_text(encoding="utf-8")
    assert 'SUBSYSTEM=="input", KERNEL=="event*", ATTRS{idVendor}=="05e0", ATTRS{idProduct}=="1200"' in rules
    assert 'SUBSYSTEM=="usb", ENV{DEVTYPE}=="usb_device", ATTR{idVendor}=="04b8", ATTR{idProduct}=="0202"' in rules
    assert not (tmp_path / "tty1").exists()  # nothing on the clerk's screen when all is well


def test_invalid_config_stops_with_norwegian_message_on_screen(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    text = station().replace("bord = 3", 'bord = "3"')
    code, run = run_import(tmp_path, text, monkeypatch)
    assert code == 1
    screen = (tmp_path / "tty1").read_text(encoding="utf-8")
    assert "VALGKIOSKEN KAN IKKE STARTE" in screen
    assert "«station.bord» må være et heltall" in screen
    assert "Kontakt IKT-ansvarlig" in screen
    assert not (run / "usbguard-rules.conf").exists()  # no policy: USBGuard admits nothing


def test_missing_config_on_boot_partition_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, run = run_import(tmp_path, station(), monkeypatch)
    (tmp_path / "boot" / "station.toml").unlink()
    code = imp.main([])
    assert code == 1
    assert "filen finnes ikke" in (tmp_path / "tty1").read_text(encoding="utf-8")


def test_missing_credential_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _ = run_import(tmp_path, station(), monkeypatch, credential=None)
    assert code == 1
    assert "register.credential_file" in (tmp_path / "tty1").read_text(encoding="utf-8")


def test_scanner_by_path_only_cannot_be_admitted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = station(scanner='kind = "evdev"\npath = "/dev/input/by-id/usb-x-event-kbd"\nlayout = "no"')
    code, _ = run_import(tmp_path, text, monkeypatch)
    assert code == 1
    assert "USB-vakten" in (tmp_path / "tty1").read_text(encoding="utf-8")


def test_scanner_by_name_gets_name_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = station(scanner='kind = "evdev"\nname = "Symbol Bar Code Scanner"\nlayout = "us"')
    code, run = run_import(tmp_path, text, monkeypatch)
    assert code == 0
    assert 'allow name "Symbol Bar Code Scanner"' in (run / "usbguard-rules.conf").read_text(encoding="utf-8")
    assert 'ATTRS{name}=="Symbol Bar Code Scanner"' in (run / "70-valgkiosk-devices.rules").read_text(encoding="utf-8")


def test_name_with_quote_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = station(scanner='kind = "evdev"\nname = "Evil\\" , allow"\nlayout = "us"')
    code, _ = run_import(tmp_path, text, monkeypatch)
    assert code == 1


def test_serial_scanner_on_usb_gets_tty_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = station(scanner='kind = "serial"\ndevice = "/dev/ttyACM0"\nvendor = 0x05e0\nproduct = 0x1900')
    code, run = run_import(tmp_path, text, monkeypatch)
    assert code == 0
    rules = (run / "70-valgkiosk-devices.rules").read_text(encoding="utf-8")
    assert 'SUBSYSTEM=="tty"' in rules and 'ENV{ID_MM_DEVICE_IGNORE}="1"' in rules


def test_check_folder_maps_etc_paths_to_the_folder(tmp_path: Path) -> None:
    folder = boot_folder(tmp_path / "ok", station())  # credential_file = "/etc/valgkiosk/credential"
    assert imp.main(["--check", str(folder)]) == 0
    (folder / "credential").unlink()
    assert imp.main(["--check", str(folder)]) == 1


def test_usblp_printer_needs_ids_and_gets_a_usbmisc_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = station(printer='kind = "file"\ndevice = "/dev/usb/lp0"\nvendor = 0x04b8\nproduct = 0x0e15')
    code, run = run_import(tmp_path, text, monkeypatch)
    assert code == 0
    assert "allow id 04b8:0e15" in (run / "usbguard-rules.conf").read_text(encoding="utf-8")
    assert 'SUBSYSTEM=="usbmisc", KERNEL=="lp*"' in (run / "70-valgkiosk-devices.rules").read_text(encoding="utf-8")
    code, _ = run_import(tmp_path / "noids", station(printer='kind = "file"\ndevice = "/dev/usb/lp0"'), monkeypatch)
    assert code == 1


def test_usb_modem_without_ids_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _ = run_import(tmp_path, station() + '\n[modem]\ndevice = "/dev/ttyUSB2"\n', monkeypatch)
    assert code == 1
    assert "[modem]" in (tmp_path / "tty1").read_text(encoding="utf-8")


def test_ssh_keys_go_where_sshd_can_read_them_as_the_it_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # sshd opens authorized_keys as the user logging in (ikt), who is not in the kiosk's
    # group: the keys sit in a folder of their own that everyone may traverse and read,
    # while the folder with the credential stays closed to others.
    boot = boot_folder(tmp_path / "boot", station())
    (boot / "authorized_keys").write_text("ssh-ed25519 AAAAtest ikt@kommune\n", encoding="utf-8")
    run, ssh = tmp_path / "run" / "valgkiosk", tmp_path / "run" / "valgkiosk-public"
    imp.import_config(boot, run)
    keys = ssh / "authorized_keys"
    assert keys.read_text(encoding="utf-8").startswith("ssh-ed25519 AAAAtest")
    assert keys.stat().st_mode & 0o777 == 0o644 and ssh.stat().st_mode & 0o777 == 0o755
    assert run.stat().st_mode & 0o007 == 0  # others cannot enter the credential's folder
    assert not (run / "ssh").exists()
    # the policy in force is public too (the self-test over SSH compares the devices with it)
    assert (ssh / "usbguard-rules.conf").read_text(encoding="utf-8") == (run / "usbguard-rules.conf").read_text(
        encoding="utf-8")
    # a card without keys the next boot: no stale keys left behind
    (boot / "authorized_keys").unlink()
    imp.import_config(boot, run)
    assert not keys.exists()
