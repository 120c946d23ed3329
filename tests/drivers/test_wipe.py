"""``valgkiosk wipe``: refuses until the loggbok is exported and verified, then destroys
every file on the data partition (overwritten, not just unlinked)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from valgkiosk import signing
from valgkiosk.cli import main
from valgkiosk.core.loggbok import verify
from valgkiosk.journal import Journal, read_lines
from valgkiosk.wipe import EraseFailed, WipeRefused, wipe


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A data partition after election day: a signed loggbok with an emergency vote, a
    kept manual valgkort in the print queue, the key."""
    folder = tmp_path / "data"
    signing.generate(folder / "loggbok.key")
    sign, _ = signing.load_signer(folder / "loggbok.key")
    journal = Journal(folder / "loggbok.jsonl", sign=sign, reserve_bytes=4096)
    journal.append("emergency_vote", {"vote_id": "a", "manntallsnummer": "000001234525", "manual_valgkort": False})
    journal.append("stop", {})
    (folder / "print-queue").mkdir()
    (folder / "print-queue" / "x.job.json").write_text('{"navn": "Kari Nordmann"}', encoding="utf-8")
    return folder


def witnesses(data: Path, tmp_path: Path) -> list[Path]:
    """Second names for the files' blocks, outside the data folder (same filesystem)."""
    out = []
    for i, path in enumerate(p for p in data.rglob("*") if p.is_file()):
        link = tmp_path / f"witness-{i}"
        os.link(path, link)
        out.append(link)
    return out


def test_wipe_exports_verifies_then_destroys(data: Path, tmp_path: Path) -> None:
    original = (data / "loggbok.jsonl").read_bytes()
    public = (data / "loggbok.key.pub").read_text().strip()
    links = witnesses(data, tmp_path)
    stick = tmp_path / "stick"
    report = wipe(data, stick, check_signature=signing.checker(public), running=lambda: False)
    assert (report.export_dir / "loggbok.jsonl").read_bytes() == original
    assert verify(read_lines(report.export_dir / "loggbok.jsonl"), check_signature=signing.checker(public)) == []
    assert (report.export_dir / "loggbok.key.pub").read_text().strip() == public
    assert report.head.text() in (report.export_dir / "kjedehode.txt").read_text()
    assert "Beredskapsstemme" in (report.export_dir / "loggbok.csv").read_text(encoding="utf-8")
    assert data.is_dir() and list(data.rglob("*")) == []
    for link in links:
        assert set(link.read_bytes()) <= {0}, f"{link} still holds its bytes"


def test_wipe_refuses_a_damaged_loggbok_and_destroys_nothing(data: Path, tmp_path: Path) -> None:
    loggbok = data / "loggbok.jsonl"
    loggbok.write_bytes(loggbok.read_bytes().replace(b"000001234525", b"000001234533"))
    before = sorted(p.name for p in data.rglob("*"))
    with pytest.raises(WipeRefused, match="ikke intakt"):
        wipe(data, tmp_path / "stick", running=lambda: False)
    assert sorted(p.name for p in data.rglob("*")) == before
    report = wipe(data, tmp_path / "stick", even_if_damaged=True, running=lambda: False)
    assert "problem:" in (report.export_dir / "kjedehode.txt").read_text() and list(data.rglob("*")) == []


def test_wipe_refuses_while_the_kiosk_runs_without_a_loggbok_or_into_the_data(data: Path, tmp_path: Path) -> None:
    with pytest.raises(WipeRefused, match="Kiosken kjører"):
        wipe(data, tmp_path / "stick", running=lambda: True)
    with pytest.raises(WipeRefused, match="utenfor datapartisjonen"):
        wipe(data, data / "export", running=lambda: False)
    with pytest.raises(WipeRefused, match="Finner ikke loggboken"):
        wipe(data, tmp_path / "stick", loggbok=data / "nope.jsonl", running=lambda: False)
    assert (data / "loggbok.jsonl").exists()


def test_the_wipe_command_needs_yes_and_an_export(data: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr("valgkiosk.wipe.kiosk_running", lambda: False)
    args = ["wipe", "--data", str(data), "--export-to", str(tmp_path / "stick")]
    assert main(args) == 1
    assert "Uten --yes slettes ingenting" in capsys.readouterr().out and (data / "loggbok.jsonl").exists()
    assert main([*args, "--yes", "--expect", "3:" + "0" * 64]) == 2
    assert "kortere enn kjedehodet" in capsys.readouterr().err and (data / "loggbok.jsonl").exists()
    assert main([*args, "--yes"]) == 0
    assert "er eksportert og kontrollert" in capsys.readouterr().out and not (data / "loggbok.jsonl").exists()


def recording_cryptsetup(tmp_path: Path, *, luks: bool, erase_ok: bool = True) -> Path:
    """A ``cryptsetup`` on PATH that records its calls: the LUKS volume itself needs
    device-mapper (tests/system/test_data_crypt.py runs the real one where there is one)."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    log = tmp_path / "cryptsetup-calls"
    tool = folder / "cryptsetup"
    tool.write_text(f'#!/bin/sh\necho "$@" >> {log}\ncase "$1" in isLuks) exit {0 if luks else 1} ;; '
                    f'luksErase) exit {0 if erase_ok else 1} ;; esac\n', encoding="utf-8")
    tool.chmod(0o755)
    return log


def test_wipe_destroys_the_encrypted_partitions_keyslots_last(data: Path, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    log = recording_cryptsetup(tmp_path, luks=True)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    device = Path("/dev/disk/by-label/valgdata-crypt")
    report = wipe(data, tmp_path / "stick", running=lambda: False, luks_device=device)
    assert report.luks_erased == device and list(data.rglob("*")) == []
    assert log.read_text().splitlines() == [f"isLuks {device}", f"luksErase --batch-mode {device}"]


def test_wipe_refuses_a_device_that_is_not_luks_before_destroying_anything(data: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    log = recording_cryptsetup(tmp_path, luks=False)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    before = sorted(p.name for p in data.rglob("*"))
    with pytest.raises(WipeRefused, match="ikke et kryptert LUKS-volum"):
        wipe(data, tmp_path / "stick", running=lambda: False, luks_device=tmp_path / "sda3")
    assert sorted(p.name for p in data.rglob("*")) == before and "luksErase" not in log.read_text()
    recording_cryptsetup(tmp_path, luks=True, erase_ok=False)
    with pytest.raises(EraseFailed, match="kunne ikke slettes"):
        wipe(data, tmp_path / "stick2", running=lambda: False, luks_device=tmp_path / "sda3")
