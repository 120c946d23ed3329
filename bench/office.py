#!/usr/bin/env python3
"""Benchmarks of the election office's line (issue 15), all on this machine.

1. **The register's cost per status report** against its health endpoint: one
   ``valgkiosk register serve`` (SQLite, one worker) driven by wrk
   (``bench/wrk/status.lua``) with one kiosk credential per wrk thread:
   ``GET /healthz`` (the reference: the HTTP stack's limit), ``POST /v1/status`` with
   reports that change nothing (the common case, answered from memory), with a new
   check-off count in every report (memory until the heartbeat), and with a change of
   state in every report (each one written with its history row: the rare case). From
   the measured rates it works out the share of the register's capacity a
   municipality's kiosks would take.
2. **From the cut to the text handed to the modem** (root only): the station of
   ``tests/netns_testbed.py`` as its station's messenger in a network
   namespace, the register in another, the fake modem on a pty; the uplink is cut
   ``--cycles`` times. Per cycle: cut → alarm (the kiosk's own clock line), alarm → the
   modem has the whole text (Ctrl-Z). Goal: ≤ 5 s p99 after the alarm.

    .venv/bin/python bench/office.py                # both, ~4 minutes
    .venv/bin/python bench/office.py --skip-sms     # only the register's cost
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests" / "drivers"))
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cli(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "valgkiosk", "register", *args], check=True,
                          capture_output=True, text=True).stdout


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# -- 1. the register's cost -------------------------------------------------------------------
def register_cost(duration: int, connections: int, threads: int, kiosks: int, report_s: float) -> dict[str, Any]:
    import httpx

    tmp = Path(tempfile.mkdtemp(prefix="vk-office-bench-"))
    db = f"sqlite:///{tmp}/register.db"
    cli("init", "--db", db, "--election-date", "2027-09-13", "--election-type", "kommunestyre_og_fylkestingsvalg")
    cli("generate", "--db", db, "--voters", "1000")
    tokens = []
    for i in range(threads):
        out = tmp / f"cred{i}"
        cli("issue-credential", "--db", db, "--kiosk-id", f"bench-bord{i + 1}", "--kommune", "9001", "--krets",
            "0001", "--bord", str(i + 1), "--out", str(out))
        tokens.append(out.read_text().strip())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "valgkiosk", "register", "serve", "--db", db, "--port",
                               str(port), "--log-level", "warning"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the register did not start")
            time.sleep(0.1)
        results: dict[str, Any] = {}
        for mode in ("health", "quiet", "counters", "state"):
            subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", "3s", "-s",
                            str(HERE / "wrk" / "status.lua"), url, "--", mode, ",".join(tokens)],
                           capture_output=True, check=True)  # warm-up
            out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s",
                                  "--latency", "-s", str(HERE / "wrk" / "status.lua"), url, "--", mode,
                                  ",".join(tokens)], capture_output=True, text=True, check=True).stdout
            m = re.search(r"^VKRESULT (\{.*\})$", out, re.M)
            assert m, out
            r = json.loads(m.group(1))
            if r["bad"]:
                raise RuntimeError(f"{mode}: {r['bad']} answers were not 200")
            r["rate"] = r["requests"] / (r["duration_us"] / 1e6)
            results[mode] = r
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    # A municipality: `kiosks` tables reporting every `report_s` seconds; one report in six
    # carries a new count (a check-off every 30 s per table at the busiest), one in 120 a
    # change of state (one every ten minutes per table: generous).
    load = kiosks / report_s
    mixed = 1 / (0.825 / results["quiet"]["rate"] + 1 / 6 / results["counters"]["rate"]
                 + 1 / 120 / results["state"]["rate"])
    results["municipality"] = {"kiosks": kiosks, "report_s": report_s, "reports_per_s": load,
                               "mixed_capacity": mixed, "share": load / mixed}
    return results


# -- 2. cut to text ---------------------------------------------------------------------------
def cut_to_sms(cycles: int) -> dict[str, Any]:
    from fake_modem import SMS_GOOD, FakeModem

    from tests.drivers.test_station_netns import register_db
    from tests.netns_testbed import SCRIPT as TESTBED
    from tests.netns_testbed import JsonLines, NamespacePair

    tmp = Path(tempfile.mkdtemp(prefix="vk-sms-bench-"))
    db, token = register_db(tmp)
    bed = NamespacePair(f"sb{os.getpid()}")
    modem = FakeModem(tmp / "modem", SMS_GOOD)
    modem.plug()
    kiosk = None
    cut_alarm: list[float] = []
    alarm_sms: list[float] = []
    try:
        bed.serve(db, tmp / "register.log")
        kiosk = JsonLines(bed.in_kiosk(sys.executable, str(TESTBED), bed.url, token,
                                       str(tmp / "loggbok.jsonl"), str(tmp / "modem"), stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        kiosk.until(lambda s: s[-1].get("network") == "reachable", 30, "reachable")
        for _ in range(cycles):
            texts_before = len(modem.sms_at)
            seen_before = len(kiosk.seen)
            cut_at = time.monotonic()
            bed.cut()
            alarm = kiosk.until(lambda s: any(x.get("alarm") == "alarm" for x in s[seen_before:]), 20, "alarm")
            alarm = next(x for x in kiosk.seen[seen_before:] if x.get("alarm") == "alarm")
            deadline = time.monotonic() + 20
            while len(modem.sms_at) == texts_before:
                assert time.monotonic() < deadline, "no text"
                time.sleep(0.01)
            cut_alarm.append(alarm["t"] - cut_at)
            alarm_sms.append(modem.sms_at[texts_before] - alarm["t"])
            bed.restore()
            seen_before = len(kiosk.seen)
            kiosk.until(lambda s: any(x.get("sms") == "sms_sent" and x.get("reason") == "back"
                                      for x in s[seen_before:]), 40, "back")
            time.sleep(0.5)
    finally:
        if kiosk is not None and kiosk.proc.poll() is None:
            assert kiosk.proc.stdin is not None
            kiosk.proc.stdin.write(b"quit\n")
            kiosk.proc.stdin.flush()
            kiosk.proc.wait(10)
        modem.unplug()
        bed.close()
        shutil.rmtree(tmp, ignore_errors=True)

    def summary(values: list[float]) -> dict[str, float]:
        return {"n": len(values), "p50": statistics.median(values), "p99": percentile(values, 99),
                "max": max(values)}

    return {"cut_to_alarm_s": summary(cut_alarm), "alarm_to_sms_s": summary(alarm_sms),
            "cut_to_sms_s": summary([a + b for a, b in zip(cut_alarm, alarm_sms)])}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--kiosks", type=int, default=1000, help="a municipality's kiosks (Oslo: ~1000 tables)")
    p.add_argument("--report-seconds", type=float, default=5.0)
    p.add_argument("--cycles", type=int, default=20)
    p.add_argument("--skip-sms", action="store_true")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed (apt-get install wrk)", file=sys.stderr)
        return 1
    out: dict[str, Any] = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                       "kernel": platform.release()}}
    cost = register_cost(args.duration, args.connections, args.threads, args.kiosks, args.report_seconds)
    out["register"] = cost
    h, q, c, st = cost["health"], cost["quiet"], cost["counters"], cost["state"]
    print(f"{'call':<28}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'vs health':>11}")
    for name, r in (("GET /healthz", h), ("POST /v1/status (no change)", q), ("POST /v1/status (counters)", c),
                    ("POST /v1/status (state)", st)):
        print(f"{name:<28}{r['rate']:>10.0f}{r['latency_us']['p50'] / 1000:>9.2f}"
              f"{r['latency_us']['p99'] / 1000:>9.2f}{r['rate'] / h['rate']:>11.2f}")
    m = cost["municipality"]
    print(f"{m['kiosks']} kiosks every {m['report_s']:.0f} s = {m['reports_per_s']:.0f} reports/s: "
          f"{100 * m['share']:.1f} % of the register's status capacity ({m['mixed_capacity']:.0f}/s; "
          "1 in 6 with a new count, 1 in 120 a new state)"
          f" — goal < 10 %: {'met' if m['share'] < 0.1 else 'MISSED'}")
    if not args.skip_sms:
        if os.geteuid() != 0 or shutil.which("ip") is None:
            print("cut-to-SMS skipped: needs root and «ip» for the network namespaces")
        else:
            s = cut_to_sms(args.cycles)
            out["sms"] = s
            for key, label in (("cut_to_alarm_s", "cut → alarm"), ("alarm_to_sms_s", "alarm → text at the modem"),
                               ("cut_to_sms_s", "cut → text at the modem")):
                v = s[key]
                print(f"{label:<28} n={v['n']:<3} p50 {v['p50']:.2f} s  p99 {v['p99']:.2f} s  max {v['max']:.2f} s")
            print(f"goal ≤ 5 s p99 after the alarm: {'met' if s['alarm_to_sms_s']['p99'] <= 5 else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
