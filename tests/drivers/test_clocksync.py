"""Reading the clock's synchronisation: systemd's answer, the kernel's adjtimex state,
and what is shown when either is missing (never a guess)."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from valgkiosk.drivers import clocksync as cs


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Timezone=Europe/Oslo\nNTP=yes\nNTPSynchronized=yes\nTimeUSec=…\n", True),
        ("NTP=yes\nNTPSynchronized=no\n", False),
        ("NTP=no\n", None),
        ("NTPSynchronized=maybe\n", None),
        ("", None),
    ],
)
def test_parse_timedatectl(text: str, expected: bool | None) -> None:
    assert cs.parse_timedatectl(text) is expected


def test_timedatectl_missing_or_failing_is_unknown() -> None:
    def missing(*args: Any, **kwargs: Any) -> Any:
        raise FileNotFoundError("timedatectl")

    def failing(*args: Any, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(args, 1, "", "System has not been booted with systemd")

    def hanging(*args: Any, **kwargs: Any) -> Any:
        raise subprocess.TimeoutExpired("timedatectl", 5)

    assert cs.read_timedatectl(missing) is None
    assert cs.read_timedatectl(failing) is None
    assert cs.read_timedatectl(hanging) is None


def test_timedatectl_is_asked_with_show() -> None:
    calls: list[list[str]] = []

    def run(args: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        calls.append(args)
        return subprocess.CompletedProcess(args, 0, "NTPSynchronized=yes\n", "")

    assert cs.read_timedatectl(run) is True and calls == [["timedatectl", "show"]]


SYNCED = cs.KernelTime(True, 0.00042, 0.011)
UNSYNCED = cs.KernelTime(False, 0.0, 16.0)


@pytest.mark.parametrize(
    ("systemd", "kernel", "expected"),
    [
        (True, SYNCED, cs.ClockSync(True, 0.00042, 0.011, "timedatectl+adjtimex")),
        (None, SYNCED, cs.ClockSync(True, 0.00042, 0.011, "adjtimex")),
        (True, None, cs.ClockSync(True, None, None, "timedatectl")),  # synchronised, offset unknown
        (True, UNSYNCED, cs.ClockSync(True, None, None, "timedatectl")),  # the kernel's offset means nothing then
        (False, SYNCED, cs.ClockSync(False, None, None, "timedatectl")),  # systemd's answer wins
        (None, UNSYNCED, cs.ClockSync(False, None, None, "adjtimex")),
        (None, None, cs.ClockSync(None, None, None, "")),
    ],
)
def test_read_clock_sync_combines_the_sources(systemd: bool | None, kernel: cs.KernelTime | None,
                                              expected: cs.ClockSync) -> None:
    assert cs.read_clock_sync(timedatectl=lambda: systemd, kernel=lambda: kernel) == expected


def test_adjtimex_is_read_on_this_machine() -> None:
    """The ctypes struct matches the kernel's: the call succeeds and the values are in
    the kernel's ranges (maximum error at most NTP_PHASE_LIMIT, 16 s; the offset still
    being slewed is clamped to 0.5 s)."""
    k = cs.read_kernel_time()
    assert k is not None
    assert 0 <= k.max_error <= 16.0 and abs(k.offset) <= 0.5
