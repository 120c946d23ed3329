"""Reading the kernel's view of the uplink: link state from sysfs, the default gateway
from ``/proc/net/route``. Plain file reads (no netlink, no privileges); the paths are
parameters so that tests can point them at files of their own."""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DefaultRoute", "LinkState", "default_route", "read_link"]

SYS_CLASS_NET = Path("/sys/class/net")
PROC_NET_ROUTE = Path("/proc/net/route")

_RTF_UP = 0x0001
_RTF_GATEWAY = 0x0002


@dataclass(frozen=True, slots=True)
class LinkState:
    """What sysfs says about one interface. ``carrier`` is ``None`` when the kernel
    refuses to tell (the interface is administratively down)."""

    interface: str
    exists: bool
    operstate: str = ""
    carrier: bool | None = None

    @property
    def up(self) -> bool:
        # "unknown" is what loopback and some drivers report while passing traffic
        return self.exists and self.carrier is True and self.operstate in ("up", "unknown")


def read_link(interface: str, sys_class_net: Path = SYS_CLASS_NET) -> LinkState:
    """Carrier and operstate of ``interface``; an interface that is not there is reported so."""
    base = sys_class_net / interface
    if "/" in interface or interface in ("", ".", "..") or not base.is_dir():
        return LinkState(interface, exists=False)
    try:
        operstate = (base / "operstate").read_text().strip()
    except OSError:
        operstate = ""
    try:
        carrier: bool | None = (base / "carrier").read_text().strip() == "1"
    except OSError:  # EINVAL: the interface is administratively down, the carrier unknown
        carrier = None
    return LinkState(interface, exists=True, operstate=operstate, carrier=carrier)


@dataclass(frozen=True, slots=True)
class DefaultRoute:
    """An IPv4 default route: through ``gateway`` on ``interface``."""

    interface: str
    gateway: str
    metric: int


def default_route(interface: str | None = None, proc_net_route: Path = PROC_NET_ROUTE) -> DefaultRoute | None:
    """The IPv4 default route with the lowest metric (on ``interface`` if given), or None."""
    best: DefaultRoute | None = None
    lines = proc_net_route.read_text().splitlines()
    for line in lines[1:]:  # the first line is the header
        fields = line.split()
        if len(fields) < 8:
            continue
        iface, dest, gw, flags, metric, mask = fields[0], fields[1], fields[2], fields[3], fields[6], fields[7]
        try:
            if int(dest, 16) != 0 or int(mask, 16) != 0:
                continue
            flag_bits = int(flags, 16)
            if not (flag_bits & _RTF_UP and flag_bits & _RTF_GATEWAY):
                continue
            if interface is not None and iface != interface:
                continue
            # the kernel prints the address in host byte order (little-endian here)
            gateway = socket.inet_ntoa(struct.pack("=I", int(gw, 16)))
            route = DefaultRoute(iface, gateway, int(metric))
        except (ValueError, struct.error):
            continue
        if best is None or route.metric < best.metric:
            best = route
    return best
