"""Whether the kiosk's clock is synchronised, read from the OS without pretending.

Two sources, both read-only and unprivileged: ``timedatectl show`` (systemd's own
``NTPSynchronized`` answer) and the kernel's NTP state through ``adjtimex(2)`` with no
modes set (via ctypes: the standard library has no binding, and a small struct read
is simpler than a dependency). The kernel gives the estimated offset still being
slewed out and the maximum error; systemd-timesyncd and chrony both keep it current.
Whatever cannot be read is ``None`` ("ukjent" on screen), never a guess.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["ClockSync", "KernelTime", "parse_timedatectl", "read_clock_sync", "read_kernel_time", "read_timedatectl"]

log = logging.getLogger(__name__)

STA_UNSYNC = 0x0040  # the kernel's clock is not synchronised
STA_NANO = 0x2000  # offset is in nanoseconds, not microseconds
TIME_ERROR = 5  # adjtimex's return value when the clock is not synchronised


@dataclass(frozen=True, slots=True)
class ClockSync:
    """What is known about the clock: ``synchronized`` and ``offset``/``max_error`` in
    seconds, each ``None`` when unknown; ``source`` says where the answer came from."""

    synchronized: bool | None
    offset: float | None = None
    max_error: float | None = None
    source: str = ""


@dataclass(frozen=True, slots=True)
class KernelTime:
    """The kernel's NTP state from ``adjtimex``."""

    synchronized: bool
    offset: float  # seconds
    max_error: float  # seconds


class _Timeval(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long)]


class _Timex(ctypes.Structure):
    """``struct timex`` from <sys/timex.h> (glibc), natural alignment."""

    _fields_ = [
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_reserved", ctypes.c_int * 11),
    ]


def read_kernel_time() -> KernelTime | None:
    """``adjtimex`` with no modes (read only); ``None`` if it cannot be called."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        tx = _Timex()
        state = libc.adjtimex(ctypes.byref(tx))
    except (OSError, AttributeError) as exc:
        log.info("adjtimex unavailable: %s", exc)
        return None
    if state < 0:
        log.info("adjtimex failed: errno %s", ctypes.get_errno())
        return None
    unit = 1e-9 if tx.status & STA_NANO else 1e-6
    synchronized = state != TIME_ERROR and not tx.status & STA_UNSYNC
    return KernelTime(synchronized, tx.offset * unit, tx.maxerror * 1e-6)


def parse_timedatectl(text: str) -> bool | None:
    """``NTPSynchronized`` from ``timedatectl show`` output (``None``: not in it)."""
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "NTPSynchronized":
            return {"yes": True, "no": False}.get(value.strip())
    return None


def read_timedatectl(run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run) -> bool | None:
    """systemd's answer, or ``None`` without systemd (or when it does not answer in 5 s)."""
    try:
        done = run(["timedatectl", "show"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        log.info("timedatectl unavailable: %s", exc)
        return None
    if done.returncode != 0:
        log.info("timedatectl show failed: %s", done.stderr.strip())
        return None
    return parse_timedatectl(done.stdout)


def read_clock_sync(
    *,
    timedatectl: Callable[[], bool | None] = read_timedatectl,
    kernel: Callable[[], KernelTime | None] = read_kernel_time,
) -> ClockSync:
    """Both sources together. systemd's answer decides whether the clock is synchronised
    when it gives one, the kernel's otherwise; the offset comes from the kernel and is
    shown only while the clock is synchronised (otherwise it means nothing)."""
    systemd = timedatectl()
    k = kernel()
    if systemd is not None:
        synchronized: bool | None = systemd
        source = "timedatectl"
    elif k is not None:
        synchronized, source = k.synchronized, "adjtimex"
    else:
        return ClockSync(None, source="")
    if synchronized and k is not None and k.synchronized:
        return ClockSync(True, k.offset, k.max_error, source + ("+adjtimex" if source != "adjtimex" else ""))
    return ClockSync(synchronized, None, None, source)
