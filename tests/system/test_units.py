"""The systemd units in systemd/: valid, and hardened to the project's threshold."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS = sorted((Path(__file__).parents[2] / "systemd").glob("*.service"))
INSTALL_PREFIX = "/opt/valgkiosk/"  # where the image installs the kiosk; absent on a dev machine
OVERLAY = Path(__file__).parents[2] / "image-build" / "rootfs"  # files the image adds to the root
pytestmark = pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                                reason="systemd-analyze is not installed")


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_verifies_without_warnings(unit: Path) -> None:
    # systemd-analyze verify exits 0 even on bad directives: any stderr line is a failure,
    # except that the installed program itself is missing on a development machine.
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True,
                            timeout=60)
    # (or a script that the image build puts there from image-build/rootfs).
    missing = re.compile(r"Command (/\S+) is not executable")

    def installed_by_image(line: str) -> bool:
        found = missing.search(line)
        return found is not None and (found.group(1).startswith(INSTALL_PREFIX)
                                      or (OVERLAY / found.group(1).lstrip("/")).is_file())

    problems = [line for line in result.stderr.splitlines() if line.strip() and not installed_by_image(line)]
    assert problems == []


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_unit_exposure_is_at_most_2(unit: Path) -> None:
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--threshold=20",
                             str(unit)], capture_output=True, text=True, timeout=60)
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert score is not None, result.stdout + result.stderr
    assert float(score.group(1)) <= 2.0
