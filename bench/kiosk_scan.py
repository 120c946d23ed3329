"""Scan-to-verdict through the real kiosk app, with the register on loopback; and the
kiosk's start-to-ready time and resident memory, beside a bare Textual app with the same
libraries imported (the reference), measured in the same run.

    .venv/bin/python bench/kiosk_scan.py [--scans 1000] [--typed 200]

Latency: the app runs headless (Textual's own driver, full rendering) in this process,
talking HTTP to a real register process on 127.0.0.1; a scan is handed to the simulated
scanner (the driver seam) and the clock stops after the screen that shows the register's
answer has been refreshed. Ready and memory: `valgkiosk run` in a pseudo-terminal, as on
tty1, with NOTIFY_SOCKET set: ready is the READY=1 systemd would receive; memory is VmRSS
then and 2 s later, and VmHWM after scans typed on its keyboard (sim mode).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import pty
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import httpx

from valgkiosk import config as station_config
from valgkiosk import wiring
from valgkiosk.core import checkoff as co
from valgkiosk.register import credentials, synthetic
from valgkiosk.register.model import Election, Kiosk, Role
from valgkiosk.register.store import open_store

ELECTION = Election("kommunestyre_og_fylkestingsvalg", 2027, date(2027, 9, 13))
TABLE = Kiosk("bench-bord1", Role.KIOSK, "9001", "0001", 1)

BARE_APP = """
import httpx, evdev, serial, escpos.printer, gpiozero, pydantic, sdnotify
from textual.app import App
from textual.widgets import Static

class Bare(App):
    def compose(self):
        yield Static("Skann valgkort")
    def on_mount(self):
        self.call_after_refresh(lambda: sdnotify.SystemdNotifier().notify("READY=1"))

Bare().run()
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_register(folder: Path, voters: int) -> tuple[str, str, list[str]]:
    """A register with ``voters`` voters at the bench table's station; its URL, credential, numbers."""
    db = f"sqlite:///{folder}/register.db"
    store = open_store(db)
    store.migrate()
    store.set_election(ELECTION)
    synthetic.populate(store, voters=voters, seed=11, kommuner=1, kretser_per_kommune=1)
    token = credentials.issue(store, TABLE)
    store.close()
    plan = synthetic.generate(voters=voters, seed=11, election_year=2027, election_date=ELECTION.date,
                              kretser_per_kommune=1)
    return db, token, [v.manntallsnummer for v in plan.voters()]


def write_config(folder: Path, url: str, token: str) -> Path:
    (folder / "credential").write_text(token + "\n")
    path = folder / "kiosk.toml"
    path.write_text(f"""
[station]
kommune = "9001"
krets = "0001"
bord = 1
[election]
year = 2027
[register]
url = "{url}"
credential_file = "credential"
[scanner]
kind = "sim"
[log]
file = "{folder}/kiosk.log"
""")
    return path


async def measure_latency(config_path: Path, numbers: list[str]) -> tuple[list[float], float]:
    """Seconds from each scan to the refreshed screen that shows the register's answer; and
    the kiosk's CPU seconds per scan (this process: the app and its HTTP client), which the
    other sessions on a shared machine disturb less than the wall-clock latencies."""
    config = station_config.load(config_path)
    kiosk = wiring.build_kiosk(config, sim=True, base=config_path.parent, config_path=config_path)
    app, scanner = kiosk.app, kiosk.scanner
    latencies: list[float] = []
    failed: list[str] = []  # a lookup that failed is no verdict: the run is void
    answered = asyncio.Event()
    started = 0.0
    shell = app.shell  # the register's answers come back through the shell (valgkiosk.shell)
    dispatch = shell.dispatch

    def instrumented(event: co.Event) -> bool:
        result = dispatch(event)
        if isinstance(event, co.LookupFailed):
            failed.append(event.failure.message)
        if isinstance(event, (co.LookupAnswered, co.LookupFailed)):
            def mark() -> None:
                latencies.append(time.perf_counter() - started)
                answered.set()
            app.call_after_refresh(mark)
        return result

    shell.dispatch = instrumented  # type: ignore[method-assign]
    async with app.run_test(size=(100, 32)) as pilot:
        await pilot.pause(0.5)
        cpu_began = time.process_time()
        for number in numbers:
            answered.clear()
            started = time.perf_counter()
            scanner.scan(number)
            await asyncio.wait_for(answered.wait(), 10)
            await asyncio.sleep(0.005)  # a clerk is slower than this; no queueing is measured
        cpu = (time.process_time() - cpu_began) / len(numbers)
        phase = app.kiosk_state.phase
    assert not failed, f"{len(failed)} of {len(numbers)} lookups failed, e.g. {failed[0]}"
    assert phase is co.Phase.CONFIRMING, phase  # the last voter is shown, ready to confirm
    return latencies, cpu


def start_to_ready(argv: list[str], folder: Path, typed: list[str]) -> tuple[float, int, int, int, float]:
    """Run ``argv`` in a pseudo-terminal; seconds to READY=1, VmRSS at ready, and with ``typed``:
    VmRSS 2 s after ready (settled: the workers' first requests done), VmHWM after typing;
    last the CPU seconds the process had used at ready."""
    sock_path = str(folder / f"notify-{time.monotonic_ns()}")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(30)
    env = {**os.environ, "NOTIFY_SOCKET": sock_path, "TERM": "linux", "COLUMNS": "100", "LINES": "32"}
    master, slave = pty.openpty()
    began = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True, cwd=folder)
    os.close(slave)
    stop = threading.Event()

    def drain() -> None:  # the child must never block on a full terminal
        while not stop.is_set():
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return

    threading.Thread(target=drain, daemon=True).start()
    try:
        message = sock.recv(4096).decode()
        ready = time.perf_counter() - began
        assert message.startswith("READY=1"), message
        rss = _status_kb(proc.pid, "VmRSS")
        cpu = _cpu_seconds(proc.pid)
        if typed:  # what it holds once its workers have made their first requests (before any scan)
            time.sleep(2)
            settled = _status_kb(proc.pid, "VmRSS")
        else:
            settled = 0
        for number in typed:
            os.write(master, number.encode() + b"\r")
            time.sleep(0.03)
        time.sleep(0.5)
        hwm = _status_kb(proc.pid, "VmHWM")
    finally:
        stop.set()
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(master)
        sock.close()
    return ready, rss, settled, hwm, cpu


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of ``pid`` so far (/proc/PID/stat), which other load on a
    shared machine disturbs far less than the wall-clock time to ready."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--typed", type=int, default=200, help="scans typed into the real process")
    parser.add_argument("--starts", type=int, default=5, help="start-to-ready repetitions")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vk-kiosk-bench-") as tmp:
        folder = Path(tmp)
        db, token, numbers = make_register(folder, args.scans + args.typed + 10)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        register = subprocess.Popen([sys.executable, "-m", "valgkiosk", "register", "serve", "--db", db,
                                     "--port", str(port), "--log-level", "warning",
                                     # the bench scans far faster than a table: no per-credential read limit
                                     "--lookup-rate", "0", "--search-rate", "0"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            config = write_config(folder, url, token)
            latencies, cpu_per_scan = asyncio.run(measure_latency(config, numbers[: args.scans]))
            typed = numbers[args.scans: args.scans + args.typed]
            kiosk_runs = [start_to_ready([sys.executable, "-m", "valgkiosk", "run", "--sim", "--config",
                                          str(config)], folder, typed if i == 0 else [])
                          for i in range(args.starts)]
            bare_script = folder / "bare.py"
            bare_script.write_text(BARE_APP)
            bare_runs = [start_to_ready([sys.executable, str(bare_script)], folder, [])
                         for _ in range(args.starts)]
        finally:
            register.terminate()
            register.wait(timeout=10)

    ms = [x * 1000 for x in latencies]
    kiosk_ready = statistics.median(r[0] for r in kiosk_runs)
    bare_ready = statistics.median(r[0] for r in bare_runs)
    kiosk_cpu = statistics.median(r[4] for r in kiosk_runs)
    bare_cpu = statistics.median(r[4] for r in bare_runs)
    kiosk_rss = statistics.median(r[1] for r in kiosk_runs) / 1024
    bare_rss = statistics.median(r[1] for r in bare_runs) / 1024
    kiosk_settled = kiosk_runs[0][2] / 1024
    kiosk_hwm = kiosk_runs[0][3] / 1024
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}")
    print(f"scan-to-verdict over {len(ms)} scans (register on loopback, SQLite):")
    print(f"  p50 {percentile(ms, 50):6.1f} ms   p90 {percentile(ms, 90):6.1f} ms   "
          f"p99 {percentile(ms, 99):6.1f} ms   max {max(ms):6.1f} ms   goal (issue 12) p99 <= 25 ms: "
          f"{'met' if percentile(ms, 99) <= 25 else 'MISSED'}")
    print(f"  kiosk CPU per scan {cpu_per_scan * 1000:.2f} ms (less disturbed by other load than the latencies)")
    print(f"start to ready (median of {args.starts}): kiosk {kiosk_ready:.2f} s, bare Textual app "
          f"{bare_ready:.2f} s, ratio {kiosk_ready / bare_ready:.2f}   goal (issue 12) ratio <= 1.3: "
          f"{'met' if kiosk_ready / bare_ready <= 1.3 else 'MISSED'}")
    print(f"  CPU time to ready (median): kiosk {kiosk_cpu:.2f} s, bare {bare_cpu:.2f} s, ratio {kiosk_cpu / bare_cpu:.2f}")
    print(f"resident memory at ready: kiosk {kiosk_rss:.1f} MB, bare {bare_rss:.1f} MB, ratio "
          f"{kiosk_rss / bare_rss:.2f}; kiosk 2 s after ready {kiosk_settled:.1f} MB, peak after {args.typed} typed "
          f"scans {kiosk_hwm:.1f} MB   "
          f"goal (issue 12) at ready <= 64 MB: {'met' if kiosk_rss <= 64 else 'MISSED'}")
    print(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
