"""Power sensing on GPIO inputs through gpiozero: the PowerSensors port.

gpiozero calls its callbacks on its own threads. The callbacks only stamp the edge with
the clock and queue it; the event loop that runs :meth:`GpioPowerSensors.run` takes the
queue (woken by ``loop.call_soon_threadsafe``), feeds the pure debouncer in
:mod:`valgkiosk.core.sensing` and calls ``on_change`` there. The pin factory's own
bounce handling is not used: a level counts once it has held for ``Timings.stable``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable, Mapping
from functools import partial

from gpiozero import DigitalInputDevice
from gpiozero.pins import Factory

from valgkiosk.core import sensing
from valgkiosk.ports.clock import Clock, SystemClock
from valgkiosk.ports.power import PowerChange, PowerSource

from .pins import InputPin

__all__ = ["GpioPowerSensors"]

log = logging.getLogger(__name__)


class GpioPowerSensors:
    """A :class:`~valgkiosk.ports.power.PowerSensors` on gpiozero input devices made by
    ``pin_factory`` (never gpiozero's global default)."""

    def __init__(
        self,
        inputs: Mapping[PowerSource, InputPin],
        *,
        pin_factory: Factory,
        timings: sensing.Timings = sensing.Timings(),
        clock: Clock | None = None,
    ) -> None:
        self.timings = timings
        self._clock: Clock = clock or SystemClock()
        self._pins = dict(inputs)
        self._devices: dict[PowerSource, DigitalInputDevice] = {}
        self._lock = threading.Lock()
        self._edges: deque[sensing.Edge] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_change: Callable[[PowerChange], None] | None = None
        try:
            for source, spec in self._pins.items():
                device = DigitalInputDevice(spec.pin, pin_factory=pin_factory, **spec.device_kwargs())
                self._devices[source] = device
                device.when_activated = partial(self._edge, source, not spec.inverted)
                device.when_deactivated = partial(self._edge, source, spec.inverted)
            readings = {source: self._present(source) for source in self._devices}
            self._state = sensing.initial(readings, self._clock.monotonic())
        except BaseException:
            self.close()
            raise

    def _present(self, source: PowerSource) -> bool:
        """The raw reading of ``source`` now, with the wiring's polarity applied."""
        return bool(self._devices[source].is_active) != self._pins[source].inverted

    def states(self) -> dict[PowerSource, bool | None]:
        """The stable state of every source (``None``: unknown or not fitted)."""
        stable = self._state.stable()
        return {source: stable.get(source) for source in PowerSource}

    def raw(self) -> dict[PowerSource, bool]:
        """What every fitted input reads this instant (for the self-test), not debounced."""
        return {source: self._present(source) for source in self._devices}

    # -- gpiozero's threads ---------------------------------------------------------------

    def _edge(self, source: PowerSource, present: bool) -> None:
        """A gpiozero callback: stamp and queue the edge, wake the loop. Any thread."""
        edge = sensing.Edge(source, present, self._clock.monotonic())
        with self._lock:
            self._edges.append(edge)
            loop = self._loop
        if loop is not None:
            try:
                loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # the loop closed under us; run() is over
                pass

    # -- the event loop -------------------------------------------------------------------

    async def run(self, on_change: Callable[[PowerChange], None]) -> None:
        """Debounce the inputs and report stable changes until cancelled."""
        with self._lock:
            if self._loop is not None:
                raise RuntimeError("GpioPowerSensors.run is already running")
            self._loop = asyncio.get_running_loop()
        self._on_change = on_change
        try:
            self._drain()
            while True:
                await asyncio.sleep(self.timings.tick)
                self.poll()
        finally:
            with self._lock:
                self._loop = None
            self._on_change = None

    def poll(self) -> list[PowerChange]:
        """Take queued edges and let time pass up to the clock's now; report and return
        the stable changes. ``run`` calls this every tick; tests may call it directly."""
        changes = self._drain()
        return changes + self._feed(sensing.Tick(self._clock.monotonic()))

    def _drain(self) -> list[PowerChange]:
        with self._lock:
            edges = list(self._edges)
            self._edges.clear()
        changes: list[PowerChange] = []
        for edge in edges:
            changes += self._feed(edge)
        return changes

    def _feed(self, event: sensing.Event) -> list[PowerChange]:
        if isinstance(event, sensing.Edge) and self._state.now is not None and event.at < self._state.now:
            # stamped on a gpiozero thread just before a tick the loop handled first
            event = sensing.Edge(event.source, event.level, self._state.now)
        self._state, changes = sensing.step(self._state, event, self.timings)
        for change in changes:
            log.info(
                "power %s: %s (was %s; edge at %.3f, stable at %.3f)",
                change.source.value,
                "present" if change.present else "absent",
                {True: "present", False: "absent", None: "unknown"}[change.previous],
                change.edge_at,
                change.at,
            )
            if self._on_change is not None:
                try:
                    self._on_change(change)
                except Exception:
                    log.exception("power on_change callback failed")
        return changes

    def close(self) -> None:
        """Release the pins."""
        for device in self._devices.values():
            device.close()
        self._devices.clear()
