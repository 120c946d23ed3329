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


FSTAB = Path(__file__).parents[2] / "image-build" / "rootfs" / "etc" / "fstab"
#: where systemd makes a unit's StateDirectory=, CacheDirectory= and LogsDirectory=
_DIRECTORY_ROOTS = {"StateDirectory": "/var/lib", "CacheDirectory": "/var/cache", "LogsDirectory": "/var/log"}


def _writable_mounts() -> list[str]:
    """The image's mount points that can be written under its read-only root (fstab)."""
    points = []
    for line in FSTAB.read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if len(fields) >= 4 and not line.lstrip().startswith("#"):
            options = fields[3].split(",")
            if fields[1] != "/" and "ro" not in options:
                points.append(fields[1])
    return points


@pytest.mark.parametrize("unit", [u for u in UNITS if u.name != "valgkiosk-register.service"], ids=lambda p: p.name)
def test_every_directory_systemd_makes_for_an_image_unit_is_writable_there(unit: Path) -> None:
    """The image's root is read-only: a StateDirectory=/CacheDirectory=/LogsDirectory= outside the
    writable mounts makes systemd fail the unit before it runs (a CacheDirectory= once kept the
    kiosk from starting on the image while every test outside it passed)."""
    writable = _writable_mounts()
    assert "/var/lib/valgkiosk" in writable  # (the parse found the fstab's bind mounts)
    for key, root in _DIRECTORY_ROOTS.items():
        for match in re.finditer(rf"^{key}=(.+)$", unit.read_text(encoding="utf-8"), re.MULTILINE):
            for name in match.group(1).split():
                path = f"{root}/{name.split(':')[0]}"
                assert any(path == m or path.startswith(m + "/") for m in writable), (
                    f"{unit.name}: {key}={name} → {path} is on the read-only root (writable: {writable})")
