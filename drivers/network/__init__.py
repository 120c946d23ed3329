"""The network watchdog's probes: the real adapter (sysfs, rtnetlink, sockets
and httpx) and the simulated twin for sim mode.

The composition root builds :class:`NetworkProbes` from the register's URL, the uplink
interface and :class:`valgkiosk.core.outage.Timings`, or :class:`SimulatedConnectivity`
in sim mode (and for a ``memory:`` register).
"""

from __future__ import annotations

from .probes import NetworkProbes, Resolver
from .routes import DefaultRoute, LinkState, default_route, read_link
from .simulated import SimulatedConnectivity

__all__ = [
    "DefaultRoute",
    "LinkState",
    "NetworkProbes",
    "Resolver",
    "SimulatedConnectivity",
    "default_route",
    "read_link",
]
