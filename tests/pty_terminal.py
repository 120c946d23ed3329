"""A program on a pseudo-terminal, as on the kiosk's tty1: the tests that start the real
kiosk and wait for its screen share this one read loop (tests/system/test_wheel_sim.py,
tests/system/test_console_split.py)."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class Drawn:
    """What the program drew on the terminal, and how it ended (None: it was stopped)."""

    screen: bytes
    returncode: int | None


def run_until_drawn(argv: Sequence[str], until: bytes, *, rows: int, columns: int, timeout: float,
                    env: Mapping[str, str], cwd: Path, output: IO[bytes] | None = None) -> Drawn:
    """Run ``argv`` with a pty of ``rows`` × ``columns`` as its terminal until ``until`` is
    on the screen, it exits, or ``timeout`` seconds pass; then stop it (SIGTERM to its
    session, SIGKILL after 20 s). Stdout and stderr go to the pty too unless ``output``
    (a file, e.g. the journal stream) takes them."""
    master, slave = os.openpty()
    os.set_blocking(master, False)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    out: IO[bytes] | int = output if output is not None else slave
    proc = subprocess.Popen(list(argv), stdin=slave, stdout=out, stderr=out, env=dict(env), cwd=cwd,
                            start_new_session=True)
    os.close(slave)
    screen = b""
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and until not in screen:
            exited = proc.poll() is not None
            ready, _, _ = select.select([master], [], [], 0.1 if exited else 1.0)
            if ready:
                try:
                    screen += os.read(master, 65536)
                    continue
                except OSError:  # the terminal's other end is gone
                    break
            if exited:
                break  # and nothing left to read
    finally:
        returncode = proc.poll()
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except ProcessLookupError:  # it and its session are gone already
            proc.wait()
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        os.close(master)
    return Drawn(screen, returncode)
