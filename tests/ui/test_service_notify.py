"""The kiosk tells systemd when it is ready and pets the watchdog from its UI loop,
over a real notify socket as systemd would read it."""

from __future__ import annotations

import asyncio
import os
import socket
from pathlib import Path

from valgkiosk.service import ServiceNotifier
from valgkiosk.ui.testing import SIZE, make_rig


def test_ready_then_watchdog_pets_over_the_notify_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(5)
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000", "WATCHDOG_PID": str(os.getpid())}
    old = os.environ.get("NOTIFY_SOCKET")
    os.environ["NOTIFY_SOCKET"] = path  # sdnotify reads the socket from the environment
    try:
        notifier = ServiceNotifier(env)
        assert notifier.watchdog_interval == 0.1
        rig = make_rig()
        rig.app.shell.service = notifier

        async def main() -> list[str]:
            async with rig.app.run_test(size=SIZE) as pilot:
                await pilot.pause(0.5)
            return [m.decode() for m in _drain(sock)]

        messages = asyncio.run(main())
    finally:
        if old is None:
            os.environ.pop("NOTIFY_SOCKET", None)
        else:
            os.environ["NOTIFY_SOCKET"] = old
        sock.close()
    assert messages[0].startswith("READY=1")
    assert messages.count("WATCHDOG=1") >= 2          # petted while the UI loop runs
    assert messages[-1] == "STOPPING=1"


def test_outside_systemd_nothing_is_sent() -> None:
    notifier = ServiceNotifier({})
    assert not notifier.enabled and notifier.watchdog_interval is None
    notifier.ready()
    notifier.alive()  # no socket, no error


def test_a_watchdog_meant_for_another_process_is_ignored() -> None:
    notifier = ServiceNotifier({"NOTIFY_SOCKET": "/nonexistent", "WATCHDOG_USEC": "1000000",
                                "WATCHDOG_PID": "1"})
    assert notifier.watchdog_interval is None


def _drain(sock: socket.socket) -> list[bytes]:
    out = []
    sock.settimeout(0.2)
    while True:
        try:
            out.append(sock.recv(4096))
        except (TimeoutError, socket.timeout):
            return out
