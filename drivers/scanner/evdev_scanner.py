"""The hand scanner in keyboard mode, read through evdev (Linux input events).

The driver finds the scanner by vendor/product id, name or path, grabs it exclusively
(so its keystrokes never reach the console UI), reads it with one long-lived
``async_read_loop()`` and decodes the events with :class:`ScanDecoder`. On unplug
(``OSError`` ENODEV) it reports the scanner as disconnected, closes the device and
polls for it again until it comes back.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import evdev
from evdev import ecodes

from valgkiosk.ports.scanner import Scan, ScannerStatus

from ._buffer import DEFAULT_MAX_LENGTH
from ._status import StatusReporter, call_safely
from .keymap import KeyboardLayout, ScanDecoder

__all__ = ["EvdevScanner", "InputDeviceLike"]

log = logging.getLogger(__name__)

NOT_FOUND = "Finner ingen skanner"
UNPLUGGED = "Skanneren er koblet fra"
BUSY = "Skanneren er i bruk av et annet program"
CANNOT_GRAB = "Kan ikke ta skanneren i bruk"
UNEXPECTED = "Uventet feil i skannerdriveren"


class _DeviceInfo(Protocol):
    vendor: int
    product: int


class InputDeviceLike(Protocol):
    """The part of ``evdev.InputDevice`` the driver uses; tests hand in pipe-backed twins."""

    path: str
    name: str

    @property
    def info(self) -> _DeviceInfo: ...

    def capabilities(self) -> Mapping[int, Sequence[Any]]: ...

    def grab(self) -> None: ...

    def close(self) -> None: ...

    def async_read_loop(self) -> AsyncIterator[Any]: ...


class EvdevScanner:
    """A :class:`~valgkiosk.ports.scanner.Scanner` on an evdev keyboard device.

    At least one of ``vendor``, ``product``, ``name`` (case-insensitive substring of the
    device name) or ``path`` (e.g. a ``/dev/input/by-id/...-event-kbd`` symlink) must
    be given; all given ones must match. Only devices that can send Enter qualify, so a
    scanner's extra consumer-control node is passed over. ``layout`` is the keyboard
    language the scanner itself is set to. ``list_devices`` and ``open_device`` are the
    discovery seam (defaults: ``evdev.list_devices`` and ``evdev.InputDevice``).
    """

    def __init__(
        self,
        *,
        vendor: int | None = None,
        product: int | None = None,
        name: str | None = None,
        path: str | None = None,
        layout: KeyboardLayout | str = "us",
        rescan_interval: float = 1.0,
        max_length: int = DEFAULT_MAX_LENGTH,
        list_devices: Callable[[], Iterable[str]] = evdev.list_devices,
        open_device: Callable[[str], InputDeviceLike] = evdev.InputDevice,  # type: ignore[assignment]
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if vendor is None and product is None and not name and not path:
            raise ValueError("EvdevScanner needs vendor, product, name or path to find the scanner")
        if rescan_interval <= 0:
            raise ValueError("rescan_interval must be positive")
        self.vendor = vendor
        self.product = product
        self.name = name
        self.path = path
        self.rescan_interval = rescan_interval
        self._decoder = ScanDecoder(layout, max_length=max_length)
        self._list_devices = list_devices
        self._open_device = open_device
        self._clock = clock

    async def run(
        self,
        on_scan: Callable[[Scan], None],
        on_status: Callable[[ScannerStatus], None],
    ) -> None:
        """Find, read and re-find the scanner until cancelled; never raises otherwise."""
        report = StatusReporter(on_status, log)
        absent = NOT_FOUND
        while True:
            device = self._find()
            if device is None:
                report(ScannerStatus(False, absent))
                await asyncio.sleep(self.rescan_interval)
                continue
            try:
                absent = await self._serve(device, on_scan, report)
            finally:
                self._close(device)
            await asyncio.sleep(self.rescan_interval)

    def describe_match(self) -> str:
        """The configured criteria, for log messages."""
        parts = []
        if self.vendor is not None:
            parts.append(f"vendor={self.vendor:04x}")
        if self.product is not None:
            parts.append(f"product={self.product:04x}")
        if self.name:
            parts.append(f"name~{self.name!r}")
        if self.path:
            parts.append(f"path={self.path}")
        return " ".join(parts)

    def _find(self) -> InputDeviceLike | None:
        """Open the first device that matches, or return None; never raises."""
        try:
            paths = [self.path] if self.path else sorted(self._list_devices())
        except Exception:
            log.exception("listing input devices failed")
            return None
        for path in paths:
            try:
                device = self._open_device(path)
            except OSError as exc:
                log.debug("cannot open %s: %s", path, exc)
                continue
            except Exception:
                log.exception("opening %s failed", path)
                continue
            try:
                if self._matches(device):
                    return device
            except Exception:
                log.exception("inspecting %s failed", path)
            self._close(device)
        return None

    def _matches(self, device: InputDeviceLike) -> bool:
        """Whether ``device`` fits the configured criteria and can send Enter."""
        info = device.info
        if self.vendor is not None and info.vendor != self.vendor:
            return False
        if self.product is not None and info.product != self.product:
            return False
        if self.name and self.name.casefold() not in str(device.name).casefold():
            return False
        keys = device.capabilities().get(ecodes.EV_KEY, ())
        return ecodes.KEY_ENTER in keys or ecodes.KEY_KPENTER in keys

    async def _serve(
        self,
        device: InputDeviceLike,
        on_scan: Callable[[Scan], None],
        report: StatusReporter,
    ) -> str:
        """Grab and read an opened device until it fails; return the detail for while it is away."""
        label = f"{device.name} ({device.path})"
        try:
            device.grab()
        except OSError as exc:
            detail = BUSY if exc.errno == errno.EBUSY else f"{CANNOT_GRAB}: {exc.strerror or exc}"
            report(ScannerStatus(False, detail), cause=exc)
            return NOT_FOUND
        except Exception as exc:
            log.exception("grabbing scanner %s failed", label)
            report(ScannerStatus(False, f"{CANNOT_GRAB}: {type(exc).__name__}"), cause=exc)
            return NOT_FOUND
        report(ScannerStatus(True, label))
        try:
            await self._read(device, on_scan)
        except OSError as exc:
            if exc.errno == errno.ENODEV:
                report(ScannerStatus(False, UNPLUGGED), cause=exc)
                return UNPLUGGED
            detail = f"Feil ved lesing fra skanneren: {exc.strerror or exc}"
            report(ScannerStatus(False, detail), cause=exc)
        except Exception as exc:
            log.exception("scanner driver failed on %s", label)
            report(ScannerStatus(False, f"{UNEXPECTED}: {type(exc).__name__}"), cause=exc)
        finally:
            dropped = self._decoder.reset()
            if dropped:
                log.warning("dropped a partial scan of %d characters", len(dropped))
        return NOT_FOUND

    async def _read(self, device: InputDeviceLike, on_scan: Callable[[Scan], None]) -> None:
        """Decode events from the device's one read loop; returns only by raising."""
        events = device.async_read_loop()
        while True:
            try:
                event = await anext(events)
            except BlockingIOError:
                # A wake-up with nothing to read: keep the same iterator (it holds the batch).
                continue
            except StopAsyncIteration:
                raise OSError(errno.ENODEV, "input device read loop ended") from None
            scan = self._decoder.feed(event, self._clock())
            if scan is not None:
                if self._decoder.replacement in scan.text:
                    log.warning("garbled scan of %d characters", len(scan.text))
                call_safely(on_scan, scan, log)

    @staticmethod
    def _close(device: InputDeviceLike) -> None:
        """Close a device, ignoring the errors an unplugged device gives."""
        try:
            device.close()
        except Exception as exc:
            log.debug("closing input device failed: %s", exc)
