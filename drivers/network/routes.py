"""Reading the kernel's view of the uplink: link state from sysfs, the default gateway
from the kernel's routing table over rtnetlink. No privileges either way.

The routing table is asked over netlink (one ``RTM_GETROUTE`` dump) and not read from
``/proc/net/route``: the kiosk's unit has ``ProcSubset=pid``, which hides ``/proc/net``,
and netlink needs only an ``AF_NETLINK`` socket, which the unit allows. The request and
its answer are fixed structures of ``<linux/netlink.h>`` and ``<linux/rtnetlink.h>``, so
this is done with :mod:`socket` and :mod:`struct` (pyroute2 would bring a few hundred
modules into the kiosk's start-up for this one request). ``/proc/net/route`` is still
read when a path is given: tests point it at files of their own."""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass
from pathlib import Path

__all__ = ["DefaultRoute", "LinkState", "default_route", "netlink_default_route", "read_link"]

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


def default_route(interface: str | None = None, proc_net_route: Path | None = None) -> DefaultRoute | None:
    """The IPv4 default route with the lowest metric (on ``interface`` if given), or None:
    from the kernel over netlink, or from a file in ``/proc/net/route``'s format."""
    if proc_net_route is None:
        return netlink_default_route(interface)
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


# <linux/netlink.h> and <linux/rtnetlink.h>
_NLMSG_HDR = struct.Struct("=IHHII")      # nlmsg_len, nlmsg_type, nlmsg_flags, nlmsg_seq, nlmsg_pid
_RTMSG = struct.Struct("=BBBBBBBBI")      # family, dst_len, src_len, tos, table, protocol, scope, type, flags
_RTATTR = struct.Struct("=HH")            # rta_len, rta_type
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_RTM_NEWROUTE, _RTM_GETROUTE = 24, 26
_NLM_F_REQUEST, _NLM_F_DUMP = 0x1, 0x300
_RT_TABLE_MAIN, _RTN_UNICAST = 254, 1
_RTA_OIF, _RTA_GATEWAY, _RTA_PRIORITY, _RTA_TABLE = 4, 5, 6, 15


def _align(n: int) -> int:
    return (n + 3) & ~3


def _routes_dump(sock: socket.socket, seq: int) -> list[bytes]:
    """Every RTM_NEWROUTE message of an IPv4 route dump (the payloads after the header)."""
    request = _RTMSG.pack(socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)
    header = _NLMSG_HDR.pack(_NLMSG_HDR.size + len(request), _RTM_GETROUTE, _NLM_F_REQUEST | _NLM_F_DUMP, seq, 0)
    sock.sendto(header + request, (0, 0))
    messages: list[bytes] = []
    while True:
        data = sock.recv(65536)
        offset = 0
        while offset + _NLMSG_HDR.size <= len(data):
            length, kind, _flags, msg_seq, _pid = _NLMSG_HDR.unpack_from(data, offset)
            if length < _NLMSG_HDR.size or offset + length > len(data):
                raise OSError("netlink: a truncated message")
            payload = data[offset + _NLMSG_HDR.size: offset + length]
            offset += _align(length)
            if msg_seq != seq:
                continue
            if kind == _NLMSG_DONE:
                return messages
            if kind == _NLMSG_ERROR:
                (code,) = struct.unpack_from("=i", payload)
                if code:
                    raise OSError(-code, os.strerror(-code))
                continue
            if kind == _RTM_NEWROUTE:
                messages.append(payload)


def _parse_route(payload: bytes) -> tuple[int, int, dict[int, bytes]] | None:
    """(dst_len, table, attributes) of one route message, or None if it is not a unicast route."""
    if len(payload) < _RTMSG.size:
        return None
    family, dst_len, _src, _tos, table, _proto, _scope, kind, _flags = _RTMSG.unpack_from(payload)
    if family != socket.AF_INET or kind != _RTN_UNICAST:
        return None
    attrs: dict[int, bytes] = {}
    offset = _RTMSG.size
    while offset + _RTATTR.size <= len(payload):
        length, rta_type = _RTATTR.unpack_from(payload, offset)
        if length < _RTATTR.size:
            break
        attrs[rta_type] = payload[offset + _RTATTR.size: offset + length]
        offset += _align(length)
    if _RTA_TABLE in attrs and len(attrs[_RTA_TABLE]) >= 4:
        (table,) = struct.unpack_from("=I", attrs[_RTA_TABLE])
    return dst_len, table, attrs


def netlink_default_route(interface: str | None = None) -> DefaultRoute | None:
    """The IPv4 default route of the main table with the lowest metric (on ``interface``
    if given), asked from the kernel over rtnetlink. Raises OSError if netlink fails."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, socket.NETLINK_ROUTE) as sock:
        sock.settimeout(2.0)
        sock.bind((0, 0))
        messages = _routes_dump(sock, seq=1)
    best: DefaultRoute | None = None
    for payload in messages:
        parsed = _parse_route(payload)
        if parsed is None:
            continue
        dst_len, table, attrs = parsed
        gateway, oif = attrs.get(_RTA_GATEWAY), attrs.get(_RTA_OIF)
        if dst_len != 0 or table != _RT_TABLE_MAIN or gateway is None or len(gateway) != 4 or oif is None:
            continue
        try:
            iface = socket.if_indextoname(struct.unpack("=I", oif[:4])[0])
        except OSError:
            continue  # the interface went away between the dump and now
        if interface is not None and iface != interface:
            continue
        metric = struct.unpack("=I", attrs[_RTA_PRIORITY][:4])[0] if _RTA_PRIORITY in attrs else 0
        route = DefaultRoute(iface, socket.inet_ntoa(gateway), metric)
        if best is None or route.metric < best.metric:
            best = route
    return best
