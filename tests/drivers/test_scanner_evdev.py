"""The evdev scanner driver, read through evdev's own async read loop on pipe-backed devices.

Each fake device is an ``evdev.eventio_async.EventIO`` on an ``os.pipe``: the test
writes native ``struct input_event`` records into the pipe and evdev's C reader parses
them. Closing the write end is an unplug: the read then fails with ENODEV, as the
kernel's does.
"""

from __future__ import annotations

import asyncio
import errno
import os
import struct
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from evdev import ecodes as e
from evdev.device import DeviceInfo
from evdev.eventio_async import EventIO
from evdev.events import InputEvent

from valgkiosk.drivers.scanner import EvdevScanner
from valgkiosk.drivers.scanner.evdev_scanner import BUSY, NOT_FOUND, UNPLUGGED
from valgkiosk.ports.scanner import Scan, ScannerStatus

VENDOR, PRODUCT = 0x0C2E, 0x0B61
NAME = "Honeywell Imaging & Mobility 1900"


def run(coro: Awaitable[Any], timeout: float = 5.0) -> Any:
    """Run a test coroutine with a hard time limit."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Wait until ``predicate()`` holds, or fail."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.002)


def records(events: list[tuple[int, int, int]]) -> bytes:
    """(type, code, value) triples as native ``struct input_event`` records."""
    return b"".join(
        struct.pack("llHHi", 1_700_000_000, i, t, c, v) for i, (t, c, v) in enumerate(events)
    )


def typed(text: str, *, terminator: int = e.KEY_ENTER) -> list[tuple[int, int, int]]:
    """The events a scanner in keyboard mode sends for ``text`` (digits) and Enter."""
    out: list[tuple[int, int, int]] = []
    for code in [getattr(e, f"KEY_{c}") for c in text] + [terminator]:
        out += [(e.EV_MSC, e.MSC_SCAN, code), (e.EV_KEY, code, 1), (e.EV_SYN, 0, 0)]
        out += [(e.EV_KEY, code, 0), (e.EV_SYN, 0, 0)]
    return out


class PipeInputDevice(EventIO):
    """An input device whose events come from a pipe the test writes to."""

    def __init__(
        self,
        path: str,
        *,
        name: str = NAME,
        vendor: int = VENDOR,
        product: int = PRODUCT,
        keys: tuple[int, ...] = (e.KEY_ENTER, e.KEY_1, e.KEY_KPENTER),
    ) -> None:
        self.path = path
        self.name = name
        self.info = DeviceInfo(bustype=3, vendor=vendor, product=product, version=0x0111)
        self.keys = keys
        self.fd, self._writer = os.pipe()
        os.set_blocking(self.fd, False)
        self.grabbed = False
        self.closed = False
        self.busy = False

    def capabilities(self) -> dict[int, list[int]]:
        return {e.EV_SYN: [0], e.EV_KEY: list(self.keys)}

    def grab(self) -> None:
        if self.busy or self.grabbed:
            raise OSError(errno.EBUSY, os.strerror(errno.EBUSY))
        self.grabbed = True

    def read(self) -> Iterator[InputEvent]:
        events = list(super().read())
        if not events:  # the pipe's writer is gone: the device was unplugged
            raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))
        return iter(events)

    def send(self, events: list[tuple[int, int, int]]) -> None:
        os.write(self._writer, records(events))

    def unplug(self) -> None:
        os.close(self._writer)
        self._writer = -1

    def close(self) -> None:
        if not self.closed:
            super().close()
            os.close(self.fd)
            self.closed = True

    def dispose(self) -> None:
        self.close()
        if self._writer >= 0:
            os.close(self._writer)
            self._writer = -1


class Bench:
    """The /dev/input a test controls: plugged devices by path, and what the driver opened."""

    def __init__(self) -> None:
        self.plugged: dict[str, dict[str, Any]] = {}
        self.opened: list[PipeInputDevice] = []
        self.scans: list[Scan] = []
        self.statuses: list[ScannerStatus] = []

    def plug(self, path: str, **kwargs: Any) -> None:
        self.plugged[path] = kwargs

    def list_devices(self) -> list[str]:
        return list(self.plugged)

    def open_device(self, path: str) -> PipeInputDevice:
        if path not in self.plugged:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        device = PipeInputDevice(path, **self.plugged[path])
        self.opened.append(device)
        return device

    def current(self, path: str) -> PipeInputDevice:
        return [d for d in self.opened if d.path == path and not d.closed][-1]

    def scanner(self, **kwargs: Any) -> EvdevScanner:
        kwargs.setdefault("vendor", VENDOR)
        kwargs.setdefault("product", PRODUCT)
        return EvdevScanner(
            rescan_interval=0.01,
            list_devices=self.list_devices,
            open_device=self.open_device,
            clock=lambda: 123.0,
            **kwargs,
        )

    def start(self, scanner: EvdevScanner) -> asyncio.Task[None]:
        return asyncio.create_task(scanner.run(self.scans.append, self.statuses.append))

    def connected(self) -> bool:
        return bool(self.statuses) and self.statuses[-1].connected

    def dispose(self) -> None:
        for device in self.opened:
            device.dispose()


@pytest.fixture
def bench() -> Iterator[Bench]:
    b = Bench()
    yield b
    b.dispose()


async def stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


PATH = "/dev/input/event7"


def test_grabs_the_scanner_and_reads_two_scans_from_one_write(bench: Bench) -> None:
    async def main() -> None:
        bench.plug(PATH)
        task = bench.start(bench.scanner())
        await until(bench.connected)
        device = bench.current(PATH)
        assert device.grabbed
        assert bench.statuses == [ScannerStatus(True, f"{NAME} ({PATH})")]
        device.send(typed("123456789080") + typed("000000012344", terminator=e.KEY_KPENTER))
        await until(lambda: len(bench.scans) == 2)
        assert bench.scans == [Scan("123456789080", 123.0), Scan("000000012344", 123.0)]
        await stop(task)
        assert device.closed

    run(main())


def test_a_batch_with_only_presses_and_two_scans(bench: Bench) -> None:
    async def main() -> None:
        bench.plug(PATH)
        task = bench.start(bench.scanner())
        await until(bench.connected)
        presses = [ev for ev in typed("12") + typed("34") if ev[0] == e.EV_KEY and ev[2] == 1]
        bench.current(PATH).send(presses)
        await until(lambda: len(bench.scans) == 2)
        assert [s.text for s in bench.scans] == ["12", "34"]
        await stop(task)

    run(main())


def test_unplug_then_replug_reconnects_to_a_fresh_device(bench: Bench) -> None:
    async def main() -> None:
        bench.plug(PATH)
        task = bench.start(bench.scanner())
        await until(bench.connected)
        first = bench.current(PATH)
        first.send(typed("11"))
        await until(lambda: len(bench.scans) == 1)
        first.send(typed("2")[:3])  # half a scan, then the cable is pulled
        del bench.plugged[PATH]
        first.unplug()
        await until(lambda: not bench.connected())
        assert bench.statuses[-1] == ScannerStatus(False, UNPLUGGED)
        assert first.closed
        await asyncio.sleep(0.05)  # several rediscovery polls while it is away
        assert bench.statuses[-1] == ScannerStatus(False, UNPLUGGED)
        bench.plug(PATH)
        await until(bench.connected)
        second = bench.current(PATH)
        assert second is not first and second.grabbed
        second.send(typed("33"))
        await until(lambda: len(bench.scans) == 2)
        assert [s.text for s in bench.scans] == ["11", "33"]  # the half scan is not glued on
        assert [s.connected for s in bench.statuses] == [True, False, True]
        await stop(task)

    run(main())


def test_no_scanner_at_start_then_it_appears(bench: Bench) -> None:
    async def main() -> None:
        bench.plug("/dev/input/event0", name="AT keyboard", vendor=0x0001, product=0x0001)
        task = bench.start(bench.scanner())
        await until(lambda: bool(bench.statuses))
        assert bench.statuses == [ScannerStatus(False, NOT_FOUND)]
        keyboard = bench.opened[0]
        assert keyboard.closed and not keyboard.grabbed
        bench.plug(PATH)
        await until(bench.connected)
        assert bench.current(PATH).grabbed
        await stop(task)

    run(main())


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({"vendor": VENDOR, "product": PRODUCT}, "/dev/input/event3"),
        ({"vendor": VENDOR, "product": None}, "/dev/input/event3"),
        ({"vendor": None, "product": None, "name": "honeywell"}, "/dev/input/event3"),
        ({"vendor": None, "product": None, "name": "Datalogic"}, "/dev/input/event5"),
        ({"vendor": None, "product": None, "path": "/dev/input/event5"}, "/dev/input/event5"),
    ],
)
def test_matching(bench: Bench, criteria: dict[str, Any], expected: str) -> None:
    async def main() -> None:
        bench.plug("/dev/input/event1", name="AT keyboard", vendor=1, product=1)
        # The scanner's consumer-control node: same ids, but it cannot send Enter.
        bench.plug("/dev/input/event2", keys=(e.KEY_VOLUMEUP,))
        bench.plug("/dev/input/event3")
        bench.plug("/dev/input/event5", name="Datalogic QuickScan", vendor=0x05F9, product=0x2214)
        task = bench.start(bench.scanner(**criteria))
        await until(bench.connected)
        grabbed = [d.path for d in bench.opened if d.grabbed]
        assert grabbed == [expected]
        assert all(d.closed for d in bench.opened if not d.grabbed)
        await stop(task)

    run(main())


def test_a_scanner_grabbed_by_another_program_is_retried(bench: Bench) -> None:
    async def main() -> None:
        bench.plug(PATH, name=NAME)
        original_open = bench.open_device
        busy = True

        def open_busy(path: str) -> PipeInputDevice:
            device = original_open(path)
            device.busy = busy
            return device

        bench.open_device = open_busy  # type: ignore[method-assign]
        task = bench.start(bench.scanner())
        await until(lambda: bool(bench.statuses))
        assert bench.statuses == [ScannerStatus(False, BUSY)]
        await until(lambda: len(bench.opened) >= 3)  # it keeps trying
        assert all(d.closed for d in bench.opened)
        busy = False
        await until(bench.connected)
        await stop(task)

    run(main())


def test_unreadable_devices_are_skipped(bench: Bench) -> None:
    async def main() -> None:
        bench.plug("/dev/input/event1")
        bench.plug(PATH)
        original_open = bench.open_device

        def open_or_deny(path: str) -> PipeInputDevice:
            if path == "/dev/input/event1":
                raise PermissionError(errno.EACCES, "Permission denied", path)
            return original_open(path)

        bench.open_device = open_or_deny  # type: ignore[method-assign]
        task = bench.start(bench.scanner())
        await until(bench.connected)
        assert bench.statuses[-1].detail.endswith(f"({PATH})")
        await stop(task)

    run(main())


def test_a_failing_callback_does_not_stop_the_driver(bench: Bench) -> None:
    async def main() -> None:
        bench.plug(PATH)
        seen: list[str] = []

        def on_scan(scan: Scan) -> None:
            seen.append(scan.text)
            raise RuntimeError("UI exploded")

        def on_status(status: ScannerStatus) -> None:
            bench.statuses.append(status)
            raise RuntimeError("UI exploded")

        task = asyncio.create_task(bench.scanner().run(on_scan, on_status))
        await until(bench.connected)
        bench.current(PATH).send(typed("1") + typed("2"))
        await until(lambda: len(seen) == 2)
        assert seen == ["1", "2"]
        assert not task.done()
        await stop(task)

    run(main())


def test_norwegian_layout_and_garbage_through_the_driver(bench: Bench) -> None:
    async def main() -> None:
        bench.plug(PATH)
        task = bench.start(bench.scanner(layout="no"))
        await until(bench.connected)
        press = [(e.EV_KEY, e.KEY_1, 1), (e.EV_KEY, e.KEY_SLASH, 1), (e.EV_KEY, e.KEY_F13, 1)]
        bench.current(PATH).send(press + [(e.EV_KEY, e.KEY_ENTER, 1)])
        await until(lambda: len(bench.scans) == 1)
        assert bench.scans[0].text == "1-\ufffd"
        await stop(task)

    run(main())


def test_cancel_while_searching_returns_promptly(bench: Bench) -> None:
    async def main() -> None:
        scanner = bench.scanner()
        scanner.rescan_interval = 30.0
        task = bench.start(scanner)
        await until(lambda: bool(bench.statuses))
        async with asyncio.timeout(0.5):
            await stop(task)

    run(main())


def test_needs_something_to_find_the_scanner_by() -> None:
    with pytest.raises(ValueError, match="vendor, product, name or path"):
        EvdevScanner()
