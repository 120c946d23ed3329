"""Every shell script in the repository is clean under shellcheck (settings in .shellcheckrc)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
SKIP_DIRS = {".git", ".venv", "build", "node_modules", "__pycache__"}


def shell_scripts() -> list[Path]:
    """Files ending in .sh, or whose first line names sh or bash."""
    found = []
    for path in sorted(REPO.rglob("*")):
        if not path.is_file() or SKIP_DIRS & set(path.relative_to(REPO).parts):
            continue
        if path.suffix == ".sh":
            found.append(path)
            continue
        try:
            first = path.open("rb").readline(100)
        except OSError:
            continue
        if first.startswith(b"#!") and (first.rstrip().endswith((b"/sh", b"/bash", b" bash", b" sh"))):
            found.append(path)
    return found


SCRIPTS = shell_scripts()


def test_the_image_scripts_are_found() -> None:
    names = {p.name for p in SCRIPTS}
    assert {"build.sh", "customize.sh", "provision.sh", "selftest", "test"} <= names


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: str(p.relative_to(REPO)))
def test_shellcheck_is_clean(script: Path) -> None:
    # The image's scripts are held to every level, style notes included; the older
    # scripts/ to warnings and errors (their remaining notes are info level).
    severity = "style" if script.is_relative_to(REPO / "image-build") else "warning"
    result = subprocess.run(["shellcheck", f"--severity={severity}", str(script.relative_to(REPO))], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
