"""The kiosk's secrets moved off the boot partition (issue 13): valgkiosk.keystore with a
temporary folder as the boot partition, the config import reading them from the
encrypted data partition's folder afterwards, and the boot's refusal (data-unlock)
when the board has no key for the data partition."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from image_stations import REPO, boot_folder, importer, station

from valgkiosk import keystore, signing

UNLOCK = REPO / "image-build" / "rootfs" / "usr" / "lib" / "valgkiosk" / "data-unlock"
CREDENTIAL = "kiosk-credential-" + "k" * 24


def provisioned(folder: Path) -> Path:
    """A boot folder as provision.sh leaves it: config, credential, loggbok key (+ .pub)."""
    text = station().replace("[log]\n", '[log]\nsigning_key = "/etc/valgkiosk/loggbok.key"\n', 1)
    boot = boot_folder(folder, text, CREDENTIAL)
    signing.generate(boot / "loggbok.key")
    return boot


def test_the_secrets_move_and_the_boot_copies_are_overwritten_then_deleted(tmp_path: Path) -> None:
    boot = provisioned(tmp_path / "boot")
    key_bytes = (boot / "loggbok.key").read_bytes()
    # second names for the boot copies' inodes: what the file system's blocks hold afterwards
    os.link(boot / "credential", tmp_path / "credential.blocks")
    os.link(boot / "loggbok.key", tmp_path / "loggbok.key.blocks")
    keys = tmp_path / "data" / "keys"
    assert keystore.move_secrets(boot, keys) == ["credential", "loggbok.key"]
    assert (keys / "credential").read_text(encoding="utf-8") == CREDENTIAL
    assert (keys / "loggbok.key").read_bytes() == key_bytes
    assert keys.stat().st_mode & 0o777 == 0o700
    assert all((keys / n).stat().st_mode & 0o777 == 0o600 for n in keystore.SECRETS)
    assert not (boot / "credential").exists() and not (boot / "loggbok.key").exists()
    # overwritten in place before the unlink: the old blocks hold zeros, as long as the file was
    assert (tmp_path / "credential.blocks").read_bytes() == bytes(len(CREDENTIAL))
    assert (tmp_path / "loggbok.key.blocks").read_bytes() == bytes(len(key_bytes))
    # what is not secret stays; a second boot has nothing to move
    assert (boot / "station.toml").is_file() and (boot / "loggbok.key.pub").is_file()
    assert keystore.move_secrets(boot, keys) == []
    assert (keys / "credential").read_text(encoding="utf-8") == CREDENTIAL


def test_a_card_provisioned_again_replaces_the_moved_secret(tmp_path: Path) -> None:
    boot = provisioned(tmp_path / "boot")
    keys = tmp_path / "keys"
    keystore.move_secrets(boot, keys)
    (boot / "credential").write_text("the-new-credential-" + "n" * 20, encoding="utf-8")
    assert keystore.move_secrets(boot, keys) == ["credential"]
    assert (keys / "credential").read_text(encoding="utf-8").startswith("the-new-credential-")
    assert not (boot / "credential").exists()


def test_the_config_import_reads_the_moved_secrets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    imp = importer()
    monkeypatch.setattr(imp, "SCREEN", str(tmp_path / "tty1"))
    boot = provisioned(tmp_path / "boot")
    key_bytes = (boot / "loggbok.key").read_bytes()
    keys = tmp_path / "data" / "keys"
    keystore.move_secrets(boot, keys)
    run = tmp_path / "run" / "valgkiosk"
    imp.import_config(boot, run, keys=keys)  # validates the credential and the signing key it finds
    assert (run / "credential").read_text(encoding="utf-8") == CREDENTIAL
    assert (run / "loggbok.key").read_bytes() == key_bytes
    # without the data partition's folder the boot partition has nothing left: the import refuses
    with pytest.raises(Exception, match="credential"):
        imp.import_config(boot, tmp_path / "run2" / "valgkiosk", keys=tmp_path / "not-mounted")


def test_a_secret_that_cannot_be_stored_stays_on_the_boot_partition(tmp_path: Path) -> None:
    boot = provisioned(tmp_path / "boot")
    blocked = tmp_path / "keys"
    blocked.write_text("a file where the folder should be", encoding="utf-8")
    with pytest.raises(keystore.KeystoreError):
        keystore.move_secrets(boot, blocked)
    assert (boot / "credential").read_text(encoding="utf-8") == CREDENTIAL
    done = subprocess.run([sys.executable, "-m", "valgkiosk.keystore", "move", str(boot), str(blocked)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and done.stderr.startswith("nøklene: ") and "Traceback" not in done.stderr
    assert (boot / "credential").is_file()


def test_without_a_key_the_boot_refuses_on_screen_and_touches_nothing(tmp_path: Path) -> None:
    # no data-secret on the card and no OTP here (no valgkiosk_otp, no /dev/vcio): the
    # clerk's screen says why in Norwegian, the unit fails, cryptsetup is never run
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("cryptsetup", "mkfs.ext4", "sfdisk", "debugfs", "vcmailbox"):
        if tool != "vcmailbox":
            (bin_dir / tool).write_text(f"#!/bin/sh\necho {tool} >> {tmp_path / 'ran'}\n", encoding="utf-8")
            (bin_dir / tool).chmod(0o755)
    boot = provisioned(tmp_path / "boot")
    screen = tmp_path / "tty1"
    env = {"PATH": f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin", "VALGKIOSK_PYTHON": sys.executable,
           "VALGKIOSK_BOOT_DIR": str(boot), "VALGKIOSK_SCREEN": str(screen),
           "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([str(UNLOCK)], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    shown = screen.read_text(encoding="utf-8")
    assert "VALGKIOSKEN KAN IKKE STARTE" in shown and "ikke noe OTP-minne" in shown
    assert "personopplysninger ukryptert" in shown and "IKT" in shown
    assert "ikke noe OTP-minne" in done.stderr  # the journal has it too
    assert not (tmp_path / "ran").exists()  # nothing on the card was touched
    # a broken file secret from the provisioning: refused the same way, naming the file
    (boot / "data-secret").write_text("not hex", encoding="ascii")
    done = subprocess.run([str(UNLOCK)], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1 and "heksadesimale" in screen.read_text(encoding="utf-8")
    assert not (tmp_path / "ran").exists()
