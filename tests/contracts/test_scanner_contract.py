"""The Scanner port's contract over the simulated scanner and both real drivers at their
lowest seam: the evdev driver reading recorded ``struct input_event`` records through
evdev's own reader (pipe-backed devices, tests/drivers/test_scanner_evdev.py), and the
serial driver on a real pty.

Every adapter reports its status first, reports each unplug and replug once, delivers
scans in order only while connected, calls back on the loop that runs it, and stops at
once when cancelled."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from test_scanner_evdev import Bench, typed
from test_scanner_serial import PtyScanner
from valgkiosk.drivers.scanner import SerialScanner
from valgkiosk.drivers.scanner.simulated import SimulatedScanner
from valgkiosk.ports.scanner import Scan, Scanner, ScannerStatus

pytestmark = pytest.mark.timeout(20)
PATH = "/dev/input/event7"


class Rig:
    """One scanner adapter, the hand that plugs and scans, and what it reported."""

    def __init__(self, kind: str, tmp: Path, *, plugged: bool) -> None:
        self.kind = kind
        self.scans: list[Scan] = []
        self.statuses: list[ScannerStatus] = []
        self.threads: set[int] = set()
        self.scanner: Scanner
        if kind == "sim":
            self.sim = SimulatedScanner(connected=plugged)
            self.scanner = self.sim
        elif kind == "evdev":
            self.bench = Bench()
            if plugged:
                self.bench.plug(PATH)
            self.scanner = self.bench.scanner()
        else:
            self.pty = PtyScanner(tmp / "scanner")
            if plugged:
                self.pty.plug()
            self.scanner = SerialScanner(str(self.pty.link), reopen_interval=0.01)

    def start(self) -> asyncio.Task[None]:
        def on_scan(scan: Scan) -> None:
            self.threads.add(threading.get_ident())
            self.scans.append(scan)

        def on_status(status: ScannerStatus) -> None:
            self.threads.add(threading.get_ident())
            self.statuses.append(status)

        return asyncio.create_task(self.scanner.run(on_scan, on_status))

    def scan(self, text: str) -> None:
        if self.kind == "sim":
            self.sim.scan(text)
        elif self.kind == "evdev":
            self.bench.current(PATH).send(typed(text))
        else:
            self.pty.send(text.encode("ascii") + b"\r\n")

    def unplug(self) -> None:
        if self.kind == "sim":
            self.sim.unplug()
        elif self.kind == "evdev":
            device = self.bench.current(PATH)
            del self.bench.plugged[PATH]
            device.unplug()
        else:
            self.pty.unplug()

    def replug(self) -> None:
        if self.kind == "sim":
            self.sim.replug()
        elif self.kind == "evdev":
            self.bench.plug(PATH)
        else:
            self.pty.plug()

    def connected(self) -> bool:
        return bool(self.statuses) and self.statuses[-1].connected

    def texts(self) -> list[str]:
        return [s.text for s in self.scans]

    def dispose(self) -> None:
        if self.kind == "evdev":
            self.bench.dispose()
        elif self.kind == "serial":
            self.pty.dispose()


KINDS = ["sim", "evdev", "serial"]


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def make(kind: str, tmp_path: Path) -> Iterator[Callable[..., Rig]]:
    rigs: list[Rig] = []

    def build(*, plugged: bool = True) -> Rig:
        rig = Rig(kind, tmp_path, plugged=plugged)
        rigs.append(rig)
        return rig

    yield build
    for rig in rigs:
        rig.dispose()


def run(coro: Awaitable[Any], timeout: float = 10.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def until(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.002)


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel ``run``: it must end at once, by cancellation."""
    task.cancel()
    async with asyncio.timeout(1.0):
        with pytest.raises(asyncio.CancelledError):
            await task


def test_status_first_then_scans_in_order_on_the_running_loop(make: Callable[..., Rig]) -> None:
    rig = make()

    async def main() -> None:
        task = rig.start()
        await until(rig.connected)
        assert len(rig.statuses) == 1 and rig.statuses[0].connected
        for number in ("000001234582", "123456789080", "000000012344"):
            rig.scan(number)
        await until(lambda: len(rig.scans) == 3)
        assert rig.texts() == ["000001234582", "123456789080", "000000012344"]
        assert all(isinstance(s.at, float) for s in rig.scans)
        await asyncio.sleep(0.05)
        assert len(rig.scans) == 3 and len(rig.statuses) == 1  # nothing twice
        await stop(task)

    run(main())
    assert rig.threads == {threading.get_ident()}  # every callback on the loop's thread


def test_unplug_and_replug_are_each_reported_once(make: Callable[..., Rig]) -> None:
    rig = make()

    async def main() -> None:
        task = rig.start()
        await until(rig.connected)
        rig.scan("11")
        await until(lambda: len(rig.scans) == 1)
        rig.unplug()
        await until(lambda: not rig.connected())
        assert rig.statuses[-1].detail  # says what is wrong
        await asyncio.sleep(0.05)  # the drivers poll while it is away: no repeated reports
        rig.replug()
        await until(rig.connected)
        rig.scan("33")
        await until(lambda: len(rig.scans) == 2)
        assert rig.texts() == ["11", "33"]
        assert [s.connected for s in rig.statuses] == [True, False, True]
        await stop(task)

    run(main())


def test_absent_at_start_says_so_then_finds_it(make: Callable[..., Rig]) -> None:
    rig = make(plugged=False)

    async def main() -> None:
        task = rig.start()
        await until(lambda: bool(rig.statuses))
        assert not rig.statuses[0].connected and rig.statuses[0].detail
        rig.replug()
        await until(rig.connected)
        rig.scan("42")
        await until(lambda: rig.texts() == ["42"])
        assert [s.connected for s in rig.statuses] == [False, True]
        await stop(task)

    run(main())


def test_a_scan_while_unplugged_is_lost(make: Callable[..., Rig], kind: str) -> None:
    rig = make()

    async def main() -> None:
        task = rig.start()
        await until(rig.connected)
        rig.unplug()
        await until(lambda: not rig.connected())
        if kind == "sim":  # a real scanner without its cable cannot send at all
            rig.sim.scan("99")
        rig.replug()
        await until(rig.connected)
        rig.scan("42")
        await until(lambda: bool(rig.scans))
        await asyncio.sleep(0.05)
        assert rig.texts() == ["42"]
        await stop(task)

    run(main())
