"""``valgkiosk run --sim`` from an installed wheel, in a folder far from the repository: the
wheel is built from this tree, installed without the repository on the path (a fresh
venv that borrows only the third-party packages of the project's .venv), and the kiosk
is run on a pty until it draws its ready screen. The sim configuration is package data
(``valgkiosk/sim-offline.toml``); before, it was read from the repository's ``config/``."""

from __future__ import annotations

import os
import select
import signal
import site
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

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
    master, slave = os.openpty()
    os.set_blocking(master, False)
    import fcntl
    import struct
    import termios

    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 25, 80, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(TERM="linux", HOME=str(tmp_path))
    # Textual draws on stderr: the pty is the whole terminal
    proc = subprocess.Popen([str(venv / "bin" / "valgkiosk"), "run", "--sim"], stdin=slave, stdout=slave,
                            stderr=slave, env=env, cwd=elsewhere, start_new_session=True)
    os.close(slave)
    screen = b""
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and READY not in screen and proc.poll() is None:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    screen += os.read(master, 65536)
                except OSError:
                    break
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    assert READY in screen, f"not ready (exit {proc.returncode}); screen: {screen[-2000:]!r}"
