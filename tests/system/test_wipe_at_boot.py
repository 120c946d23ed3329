"""The image's after-the-election boot (``valgkiosk.wipe`` on the kernel command line):
/usr/lib/valgkiosk/wipe-at-boot run on the host over a data partition and a boot partition
as folders, with a recording ``cryptsetup`` and ``journalctl``. The same script on the
image itself is booted in tests/system/test_image_boot.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from valgkiosk import signing
from valgkiosk.core.loggbok import head_of, from_line, verify
from valgkiosk.journal import Journal, read_lines

REPO = Path(__file__).parents[2]
WIPE = REPO / "image-build" / "rootfs" / "usr" / "lib" / "valgkiosk" / "wipe-at-boot"
VALGKIOSK = Path(sys.executable).parent / "valgkiosk"
pytestmark = pytest.mark.skipif(not VALGKIOSK.is_file(), reason="the valgkiosk command is not installed beside python")


class Card:
    """A kiosk's card after election day, as folders: the boot partition (station config,
    the loggbok's public key, the file secret) and the data partition (the loggbok with an
    emergency vote, a kept manual valgkort, the moved credential and key, the journal)."""

    def __init__(self, root: Path, cmdline: str = "console=tty3 valgkiosk.wipe") -> None:
        self.root = root
        self.boot, self.data = root / "boot", root / "data"
        folder = self.boot / "valgkiosk"
        folder.mkdir(parents=True)
        (folder / "station.toml").write_text("[station]\n", encoding="utf-8")
        (folder / "data-secret").write_text("ab" * 32 + "\n", encoding="ascii")
        keys = self.data / "keys"
        signing.generate(keys / "loggbok.key")
        (keys / "loggbok.key.pub").rename(folder / "loggbok.key.pub")
        (keys / "credential").write_text("vk1_secret\n", encoding="ascii")
        sign, _ = signing.load_signer(keys / "loggbok.key")
        self.loggbok = self.data / "valgkiosk" / "loggbok.jsonl"
        journal = Journal(self.loggbok, sign=sign, reserve_bytes=4096)
        journal.append("emergency_vote", {"vote_id": "a", "manntallsnummer": "000001234525", "manual_valgkort": False})
        journal.append("stop", {})
        (self.data / "valgkiosk" / "print-queue").mkdir()
        (self.data / "valgkiosk" / "print-queue" / "x.job.json").write_text('{"navn": "Kari Nordmann"}', encoding="utf-8")
        (self.data / "journal").mkdir()
        (self.data / "journal" / "system.journal").write_bytes(b"kiosk journal")
        self.screen = root / "tty1"
        self.cmdline = root / "cmdline"
        self.cmdline.write_text(cmdline + "\n", encoding="ascii")
        self.bin = root / "bin"
        self.bin.mkdir()
        self.ran = root / "ran"
        # cryptsetup: the mapping's device, a LUKS header there, the erase recorded
        self._tool("cryptsetup", f"""echo "cryptsetup $*" >> {self.ran}
case "$1" in
  status) printf '/dev/mapper/valgdata is active and is in use.\\n  type:    LUKS2\\n  device:  /dev/vda3\\n' ;;
  isLuks) exit 0 ;;
  luksErase) exit ${{VALGKIOSK_TEST_ERASE_STATUS:-0}} ;;
esac""")
        self._tool("journalctl", f'echo "journalctl $*" >> {self.ran}')
        self._tool("mount", f'echo "mount $*" >> {self.ran}; exit 1')

    def _tool(self, name: str, body: str) -> None:
        (self.bin / name).write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        (self.bin / name).chmod(0o755)

    def boot_wipe(self, **env: str) -> subprocess.CompletedProcess[str]:
        full = {"PATH": f"{self.bin}:{Path(sys.executable).parent}:/usr/sbin:/usr/bin:/sbin:/bin",
                "VALGKIOSK_BOOT_DIR": str(self.boot), "VALGKIOSK_DATA_DIR": str(self.data),
                "VALGKIOSK_SCREEN": str(self.screen), "VALGKIOSK_CMDLINE": str(self.cmdline),
                "VALGKIOSK_BIN": str(VALGKIOSK), "VALGKIOSK_BOOT_REMOUNT": "0", "VALGKIOSK_WIPE_PAUSE": "0",
                "PYTHONPATH": os.pathsep.join(sys.path), "HOME": str(self.root), **env}
        return subprocess.run([str(WIPE)], capture_output=True, text=True, timeout=120, env=full)

    def ran_lines(self) -> list[str]:
        return self.ran.read_text(encoding="utf-8").splitlines() if self.ran.exists() else []

    def data_files(self) -> list[str]:
        return sorted(str(p.relative_to(self.data)) for p in self.data.rglob("*") if p.is_file())


def test_the_wipe_boot_exports_verifies_destroys_and_erases(tmp_path: Path) -> None:
    card = Card(tmp_path)
    original = card.loggbok.read_bytes()
    head = head_of([from_line(line) for line in read_lines(card.loggbok)])
    (card.boot / "valgkiosk" / "forventet-kjedehode.txt").write_text(f"# fra avslutningsrapporten\r\n{head.text()}\r\n",
                                                                     encoding="ascii")
    done = card.boot_wipe()
    assert done.returncode == 0, done.stdout + done.stderr
    exports = list((card.boot / "valgkiosk-eksport").glob("loggbok-*"))
    assert len(exports) == 1
    export = exports[0]
    assert (export / "loggbok.jsonl").read_bytes() == original
    public = (card.boot / "valgkiosk" / "loggbok.key.pub").read_text().strip()
    assert (export / "loggbok.key.pub").read_text().strip() == public  # the key it was checked with
    assert verify(read_lines(export / "loggbok.jsonl"), expect=[head], check_signature=signing.checker(public)) == []
    assert head.text() in (export / "kjedehode.txt").read_text(encoding="utf-8")
    # everything on the data partition gone, the boot partition's file secret too
    assert card.data_files() == []
    assert not (card.boot / "valgkiosk" / "data-secret").exists()
    assert (card.boot / "valgkiosk" / "station.toml").is_file()
    # the journal was moved off the data partition first, the keyslots erased last
    ran = card.ran_lines()
    assert "journalctl --relinquish-var" in ran
    assert ran.index("journalctl --relinquish-var") < ran.index("cryptsetup luksErase --batch-mode /dev/vda3")
    shown = card.screen.read_text(encoding="utf-8")
    assert "SLETTING ETTER VALGET: FERDIG" in shown and "kan ikke leses igjen" in shown and "slår seg av" in shown
    assert "Traceback" not in shown + done.stdout + done.stderr
    record = (card.boot / "valgkiosk-eksport" / "sletting.txt").read_text(encoding="utf-8")
    assert "FERDIG" in record and head.text() in record and "Nøkkelplassene på /dev/vda3 er slettet" in record


def test_a_loggbok_that_does_not_reach_the_expected_head_is_refused_and_nothing_destroyed(tmp_path: Path) -> None:
    card = Card(tmp_path)
    head = head_of([from_line(line) for line in read_lines(card.loggbok)])
    # the register saw one entry more than the card holds: entries cut off the end
    longer = f"{head.count + 1}:{'0' * 64}"
    (card.boot / "valgkiosk" / "forventet-kjedehode.txt").write_text(longer + "\n", encoding="ascii")
    before = card.data_files()
    done = card.boot_wipe()
    assert done.returncode == 1
    assert card.data_files() == before and (card.boot / "valgkiosk" / "data-secret").is_file()
    assert not any("luksErase" in line for line in card.ran_lines())
    assert "journalctl --flush" in card.ran_lines()  # the journal back on the data partition
    shown = card.screen.read_text(encoding="utf-8")
    assert "SLETTING ETTER VALGET: STOPPET" in shown and "kortere enn kjedehodet" in shown, shown
    assert "Minnekortet er som før" in shown and "even-if-damaged" in shown
    assert "kortere enn kjedehodet" in (card.boot / "valgkiosk-eksport" / "sletting.txt").read_text(encoding="utf-8")


def test_even_if_damaged_exports_the_damaged_loggbok_and_then_wipes(tmp_path: Path) -> None:
    card = Card(tmp_path, cmdline="console=tty3 valgkiosk.wipe=even-if-damaged")
    card.loggbok.write_bytes(card.loggbok.read_bytes().replace(b"000001234525", b"000001234533"))
    damaged = card.loggbok.read_bytes()
    done = card.boot_wipe()
    assert done.returncode == 0, done.stdout + done.stderr
    export = next((card.boot / "valgkiosk-eksport").glob("loggbok-*"))
    assert (export / "loggbok.jsonl").read_bytes() == damaged
    assert "problem:" in (export / "kjedehode.txt").read_text(encoding="utf-8")
    assert card.data_files() == []


def test_without_the_word_or_the_mapping_nothing_happens(tmp_path: Path) -> None:
    card = Card(tmp_path, cmdline="console=tty3 valgkiosk.wiped")
    before = card.data_files()
    assert card.boot_wipe().returncode == 1
    assert "ikke bedt om" in card.screen.read_text(encoding="utf-8")
    assert card.data_files() == before and card.ran_lines() == []
    card.cmdline.write_text("valgkiosk.wipe\n", encoding="ascii")
    card._tool("cryptsetup", "exit 4")  # valgdata is not open
    done = card.boot_wipe()
    assert done.returncode == 1 and card.data_files() == before
    assert "Finner ikke den krypterte datapartisjonen" in card.screen.read_text(encoding="utf-8")


def test_a_failed_erase_is_said_plainly(tmp_path: Path) -> None:
    card = Card(tmp_path)
    done = card.boot_wipe(VALGKIOSK_TEST_ERASE_STATUS="1")
    assert done.returncode == 1
    shown = card.screen.read_text(encoding="utf-8")
    assert "IKKE FERDIG" in shown and "nøkkelplassene på /dev/vda3 kunne ikke slettes" in shown, shown
    assert "Slettet ingenting" not in shown and "som før" not in shown
    assert card.data_files() == []  # the files went; the screen says the erase did not
