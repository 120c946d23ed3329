"""The simulated scanner: injected scans, garbage, unplug and replug, as the real drivers do."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from valgkiosk.drivers.scanner import SimulatedScanner
from valgkiosk.drivers.scanner.simulated import GARBAGE, UNPLUGGED
from valgkiosk.ports.scanner import Scan, ScannerStatus

CONNECTED = ScannerStatus(True, "Simulert skanner")
DISCONNECTED = ScannerStatus(False, UNPLUGGED)


def run(coro: Awaitable[Any], timeout: float = 5.0) -> Any:
    """Run a test coroutine with a hard time limit."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Wait until ``predicate()`` holds, or fail."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.002)


class Recorder:
    def __init__(self) -> None:
        self.events: list[Scan | ScannerStatus] = []

    def start(self, scanner: SimulatedScanner) -> asyncio.Task[None]:
        return asyncio.create_task(scanner.run(self.events.append, self.events.append))


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_scans_unplug_replug_in_order() -> None:
    async def main() -> None:
        scanner = SimulatedScanner(clock=lambda: 5.0)
        rec = Recorder()
        task = rec.start(scanner)
        await until(lambda: rec.events == [CONNECTED])
        scanner.scan("123456789080")
        scanner.send_garbage()
        scanner.unplug()
        assert not scanner.connected
        scanner.scan("000000012344")  # lost: the scanner is unplugged
        scanner.replug()
        scanner.scan("000001234582")
        await until(lambda: len(rec.events) == 6)
        assert rec.events == [
            CONNECTED,
            Scan("123456789080", 5.0),
            Scan(GARBAGE, 5.0),
            DISCONNECTED,
            CONNECTED,
            Scan("000001234582", 5.0),
        ]
        assert "\ufffd" in GARBAGE
        await stop(task)

    run(main())


def test_starts_unplugged_and_repeats_are_not_reported() -> None:
    async def main() -> None:
        scanner = SimulatedScanner(connected=False, name="Dev dock", clock=lambda: 0.0)
        rec = Recorder()
        task = rec.start(scanner)
        await until(lambda: bool(rec.events))
        scanner.unplug()
        scanner.replug()
        scanner.replug()
        scanner.scan("1")
        await until(lambda: len(rec.events) == 3)
        await asyncio.sleep(0.01)
        assert rec.events == [DISCONNECTED, ScannerStatus(True, "Dev dock"), Scan("1", 0.0)]
        await stop(task)

    run(main())


def test_actions_before_run_are_carried_out_when_it_starts() -> None:
    async def main() -> None:
        scanner = SimulatedScanner(clock=lambda: 1.0)
        scanner.scan("7")
        scanner.unplug()
        rec = Recorder()
        task = rec.start(scanner)
        await until(lambda: len(rec.events) == 3)
        assert rec.events == [CONNECTED, Scan("7", 1.0), DISCONNECTED]
        await stop(task)

    run(main())


def test_scans_from_another_thread_arrive_on_the_loop() -> None:
    async def main() -> None:
        scanner = SimulatedScanner()
        loop_thread = threading.get_ident()
        threads: list[int] = []
        task = asyncio.create_task(
            scanner.run(lambda s: threads.append(threading.get_ident()), lambda s: None)
        )
        await asyncio.sleep(0.01)
        worker = threading.Thread(target=lambda: [scanner.scan(str(i)) for i in range(5)])
        worker.start()
        worker.join()
        await until(lambda: len(threads) == 5)
        assert set(threads) == {loop_thread}
        await stop(task)

    run(main())


def test_a_failing_callback_does_not_stop_it() -> None:
    async def main() -> None:
        scanner = SimulatedScanner()
        seen: list[str] = []

        def on_scan(scan: Scan) -> None:
            seen.append(scan.text)
            raise RuntimeError("UI exploded")

        task = asyncio.create_task(scanner.run(on_scan, lambda s: None))
        scanner.scan("1")
        scanner.scan("2")
        await until(lambda: seen == ["1", "2"])
        assert not task.done()
        await stop(task)

    run(main())


def test_can_run_again_after_cancel_keeping_its_state() -> None:
    async def main() -> None:
        scanner = SimulatedScanner()
        first = Recorder()
        task = first.start(scanner)
        scanner.unplug()
        await until(lambda: first.events == [CONNECTED, DISCONNECTED])
        await stop(task)
        second = Recorder()
        task = second.start(scanner)
        await until(lambda: bool(second.events))
        assert second.events == [DISCONNECTED]
        await stop(task)

    run(main())
