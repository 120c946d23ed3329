"""``valgkiosk run --sim`` from an installed wheel, in a folder far from the repository: the
wheel is built from this tree, installed without the repository on the path (a fresh
venv that borrows only the third-party packages of the project's .venv), and the kiosk
is run on a pty until it draws its ready screen. The sim configuration is package data
(``valgkiosk/sim-offline.toml``); before, it was read from the repository's ``config/``."""

from __future__ import annotations

import os
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from pty_terminal import run_until_drawn

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
#: the idle screen's footer: the register answers (search is offered only then), the kiosk is ready
READY = "F2 Søk uten valgkort".encode()


def _run(*args: str, **kwargs: object) -> None:
    done = subprocess.run(list(args), capture_output=True, text=True, timeout=400, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{args[:3]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def test_run_sim_from_an_installed_wheel_reaches_ready(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO))
    [wheel] = wheels.glob("valgkiosk-*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    python = venv / "bin" / "python"
    target = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                 capture_output=True, text=True, check=True).stdout.strip())
    # the third-party packages only: a .pth names the project's site-packages, whose own .pth
    # files (the editable install's import hook) are not read from there
    (target / "borrowed.pth").write_text(sysconfig.get_path("purelib") + "\n" + "\n".join(site.getsitepackages()) + "\n")
    _run(sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "--no-index", "-q", str(wheel))
    where = subprocess.run([str(python), "-c", "import valgkiosk, valgkiosk.bootstrap as b; "
                            "print(valgkiosk.__file__); print(b.SIM_CONFIG)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout.split()
    assert where[0].startswith(str(venv)) and where[1].startswith(str(venv)), where  # not the repository's
    assert not where[1].startswith(str(REPO))

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(TERM="linux", HOME=str(tmp_path))
    # Textual draws on stderr: the pty is the whole terminal
    drawn = run_until_drawn([str(venv / "bin" / "valgkiosk"), "run", "--sim"], READY, rows=25, columns=80,
                            timeout=120, env=env, cwd=elsewhere)
    assert READY in drawn.screen, f"not ready (exit {drawn.returncode}); screen: {drawn.screen[-2000:]!r}"
