"""Detection and recovery times of the network watchdog over repeated real link cuts.

    sudo .venv/bin/python bench/outage_detection.py [--cuts 20]

The station (real probes on the uplink, the default detector: a round every 0.25 s,
8 failed rounds to alarm, 12 good ones to recover) runs in the kiosk's network namespace
(tests/netns_testbed.py); the register serves in another. Each cut sets the
router's end of the veth pair down; detection is cut → the alarm output switched on;
recovery is restore → the station says "reachable". Times are CLOCK_MONOTONIC, which the
two processes share. The reference, measured in the same run, is the bound the detector's
configuration gives (fail_after × interval; recover_after × interval): the ratio says what
the probes and the event loop add on top. Goals: alarm within 3 s (p99), recovery within 5 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.drivers.test_station_netns import KioskProcess, register_db  # noqa: E402
from valgkiosk.core.outage import Timings  # noqa: E402
from tests.netns_testbed import NamespacePair  # noqa: E402


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cuts", type=int, default=20)
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("needs root (network namespaces)", file=sys.stderr)
        return 2
    timings = Timings()
    tmp = Path(tempfile.mkdtemp(prefix="vk-bench-outage-"))
    db, token = register_db(tmp)
    bed = NamespacePair(f"bench{os.getpid()}")
    detect: list[float] = []
    recover: list[float] = []
    try:
        bed.serve(db, tmp / "register.log")
        kiosk = KioskProcess(bed, token, tmp / "loggbok.jsonl")
        try:
            kiosk.latest(lambda s: s.get("network") == "reachable", 30, "reachable at start")
            for _ in range(args.cuts):
                time.sleep(1.0)
                cut = time.monotonic()
                bed.cut()
                alarm = kiosk.latest(lambda s: s.get("alarm") == "alarm", 15, "alarm")
                detect.append(alarm["t"] - cut)
                time.sleep(0.5)
                restore = time.monotonic()
                bed.restore()
                back = kiosk.latest(lambda s: s.get("reachable") is True, 20, "recovery")
                recover.append(back["t"] - restore)
        finally:
            kiosk.close()
    finally:
        bed.close()
    ref_detect = timings.fail_after * timings.probe_interval
    ref_recover = timings.recover_after * timings.probe_interval
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform()}")
    print(f"cuts: {args.cuts}; detector: interval {timings.probe_interval} s, fail_after {timings.fail_after}, "
          f"recover_after {timings.recover_after}")
    for name, values, ref, goal in (("cut -> alarm", detect, ref_detect, 3.0),
                                    ("restore -> reachable", recover, ref_recover, 5.0)):
        p50, p99, worst = statistics.median(values), pct(values, 99), max(values)
        print(f"{name:>22}: p50 {p50:.2f} s, p99 {p99:.2f} s, max {worst:.2f} s; reference (configured bound) "
              f"{ref:.2f} s, p99/reference {p99 / ref:.2f}; goal {goal:.1f} s: {'met' if p99 <= goal else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
