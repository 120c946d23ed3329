"""The self-test opens the kiosk's own devices, so it refuses (in Norwegian, opening
nothing) while a kiosk holds them: the lock beside the loggbok, held by a real second
process, as the kiosk holds it for its lifetime."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from image_stations import station

from valgkiosk import kiosklock

HOLDER = """
import sys, time
from pathlib import Path
from valgkiosk import kiosklock
kiosklock.hold(kiosklock.lock_path(Path(sys.argv[1])))
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_holder_is_refused_and_the_lock_is_freed_on_exit(tmp_path: Path) -> None:
    path = kiosklock.lock_path(tmp_path / "loggbok.jsonl")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "loggbok.jsonl")],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(kiosklock.KioskBusy, match="systemctl stop valgkiosk"):
            kiosklock.hold(path)
    finally:
        holder.kill()
        holder.wait()
    fd = kiosklock.hold(path)  # the kernel dropped the dead holder's lock
    assert fd >= 0


def test_selftest_refuses_while_the_kiosk_holds_the_devices(tmp_path: Path) -> None:
    loggbok = tmp_path / "loggbok.jsonl"
    config = tmp_path / "station.toml"
    (tmp_path / "credential").write_text("k" * 32, encoding="utf-8")
    text = station(log=f'loggbok = "{loggbok}"').replace('"/etc/valgkiosk/credential"', f'"{tmp_path}/credential"')
    config.write_text(text, encoding="utf-8")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(loggbok)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = subprocess.run([sys.executable, "-m", "valgkiosk.cli", "selftest", "--config", str(config)],
                                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Selvtesten starter ikke" in result.stderr and "systemctl stop valgkiosk" in result.stderr
    assert "Traceback" not in result.stderr
