"""The default route as the kernel has it, asked over rtnetlink (the kiosk's unit hides
``/proc/net``): in a network namespace made here with routes of its own, compared with
what ``ip route`` and ``/proc/net/route`` say. Root only; nothing leaves the namespace."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="the «ip» command (iproute2) is not installed"),
    pytest.mark.timeout(60),
]

ASK = """
import json, sys
from pathlib import Path
from valgkiosk.drivers.network.routes import default_route, netlink_default_route
iface = sys.argv[1] or None
def show(r):
    return None if r is None else [r.interface, r.gateway, r.metric]
print(json.dumps({"netlink": show(netlink_default_route(iface)),
                  "proc": show(default_route(iface, Path("/proc/net/route")))}))
"""


@pytest.fixture
def netns() -> Iterator[str]:
    name = f"vk-routes-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        def ipn(*args: str) -> None:
            subprocess.run(["ip", "-n", name, *args], check=True)
        ipn("link", "set", "lo", "up")
        for dev, net in (("dummy0", "10.211.0"), ("dummy1", "10.211.1")):
            # a veth pair with both ends inside (this kernel may have no dummy driver)
            ipn("link", "add", dev, "type", "veth", "peer", "name", dev + "p")
            ipn("addr", "add", f"{net}.2/24", "dev", dev)
            ipn("link", "set", dev + "p", "up")
            ipn("link", "set", dev, "up")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def ask(netns: str, interface: str = "") -> dict[str, list | None]:
    out = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", ASK, interface],
                         capture_output=True, text=True, check=True, timeout=30)
    return json.loads(out.stdout)


def test_no_default_route(netns: str) -> None:
    assert ask(netns) == {"netlink": None, "proc": None}


def test_lowest_metric_wins_and_the_interface_filter_holds(netns: str) -> None:
    subprocess.run(["ip", "-n", netns, "route", "add", "default", "via", "10.211.1.1", "dev", "dummy1",
                    "metric", "200"], check=True)
    subprocess.run(["ip", "-n", netns, "route", "add", "default", "via", "10.211.0.1", "dev", "dummy0",
                    "metric", "50"], check=True)
    # a default route in another table is not the main table's
    subprocess.run(["ip", "-n", netns, "route", "add", "default", "via", "10.211.1.9", "dev", "dummy1",
                    "table", "100"], check=True)
    assert ask(netns) == {"netlink": ["dummy0", "10.211.0.1", 50], "proc": ["dummy0", "10.211.0.1", 50]}
    assert ask(netns, "dummy1")["netlink"] == ["dummy1", "10.211.1.1", 200]
    assert ask(netns, "eth9")["netlink"] is None


def test_a_route_without_gateway_is_no_default_route(netns: str) -> None:
    subprocess.run(["ip", "-n", netns, "route", "add", "default", "dev", "dummy0"], check=True)
    assert ask(netns) == {"netlink": None, "proc": None}
