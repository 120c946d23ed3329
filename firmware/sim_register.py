"""Sim mode's register, reached through the simulated network.

In sim mode the watchdog's probes go through :class:`~valgkiosk.drivers.network.SimulatedConnectivity`;
the register calls must go the same way, or a cut the dev dock makes (the router's power,
"the register stops answering") fails only the probes while voters are still checked off.
:class:`ThroughSimulatedNetwork` wraps any Register and, before every call, asks the
simulated network what the call would meet: a layer up to TCP failing is "unreachable"
(nothing can have been recorded), a failing health check is a register that takes the
connection and never answers ("timeout": the answer is unknown).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from valgkiosk.core.outage import Layer
from valgkiosk.ports.register import Register, RegisterTimeout, RegisterUnreachable
from valgkiosk.register_wrapper import Call, ForwardingRegister

T = TypeVar("T")


class SimulatedNetwork(Protocol):
    """What this needs of the simulated network: which layers fail now."""

    def failing(self) -> Mapping[Layer, str]: ...


class ThroughSimulatedNetwork(ForwardingRegister):
    """A Register whose calls meet the simulated network's faults first. Other attributes
    (a MemoryRegister's test controls) pass through to the wrapped register."""

    def __init__(self, register: Register, network: SimulatedNetwork) -> None:
        self.inner = register
        self.network = network

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _pass(self) -> None:
        failing = self.network.failing()
        for layer in (Layer.LINK, Layer.GATEWAY, Layer.DNS, Layer.TCP):
            if layer in failing:
                raise RegisterUnreachable(f"Får ikke kontakt med manntallet ({failing[layer]}).")
        if Layer.HEALTH in failing:
            raise RegisterTimeout("Manntallet svarte ikke i tide.")

    async def _around(self, method: str, call: Call[T]) -> T:
        if method != "aclose":  # closing is local: no network in the way
            self._pass()
        return await call(self.inner)
