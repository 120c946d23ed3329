"""How many browser trainees one machine serves: `valgkiosk train-serve` (textual-serve, one
training kiosk process per tab) under N simulated trainees at once.

    .venv/bin/python bench/training.py [--trainees 1,4,8,12] [--rounds 5]

Each trainee is a WebSocket client that speaks textual-serve's protocol as the page's
script does (["resize", …], ["stdin", keys]); no browser runs here (the trainees' browsers
are on their own laptops: the server's cost is one Python process per tab). A trainee
connects, waits for the first drill's screen (start-up), then plays the first drill's
scan again and again: the valgkort number typed as a scan, Enter, and the clock stops when
the confirm screen's words arrive; Esc, and again. The reference is one trainee alone, in
the same run: the ratios say how much slower the step gets as the room fills.

The figures: start-up (connect to first screen), scan-to-screen p50/p95, the resident memory
of every session's process (VmRSS), and the CPU the server and its sessions used.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
#: A trainee's step counts as served while its p95 stays under this (a clerk's patience).
GOAL_P95_S = 1.0
GOAL_START_S = 20.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Trainee:
    """One browser tab, as textual-serve's page script talks to the server."""

    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self.session, self.url = session, url
        self.seen = b""
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.seen += ANSI.sub(b" ", message.data)
                self.seen = self.seen[-200_000:]

    def text(self) -> str:
        return " ".join(self.seen.decode("utf-8", "replace").split())

    async def wait_for(self, words: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while words not in self.text():
            if time.monotonic() > end:
                raise TimeoutError(f"{words}: ...{self.text()[-600:]}")
            await asyncio.sleep(0.01)

    async def send(self, keys: str) -> None:
        """Key by key, as xterm.js sends them while someone types (a chunk would be a paste)."""
        assert self.ws is not None
        for key in keys:
            await self.ws.send_str(json.dumps(["stdin", key]))
            await asyncio.sleep(0.01)

    async def start(self) -> float:
        t0 = time.monotonic()
        self.ws = await self.session.ws_connect(self.url + "/ws?width=110&height=44", max_msg_size=0)
        self.reader = asyncio.create_task(self._read())
        await self.ws.send_str(json.dumps(["resize", {"width": 110, "height": 44}]))
        await self.wait_for("Kallenavn", timeout=120)
        await self.send("bench\r")
        await self.wait_for("ØVELSE 1 av", timeout=60)
        return time.monotonic() - t0

    async def scan_round(self, card: str) -> float:
        await self.send(card)
        await self.wait_for("Tastatur som skanner: " + card, timeout=30)
        self.seen = b""
        t0 = time.monotonic()
        await self.send("\r")
        await self.wait_for("Stemmer det med legitimasjonen", timeout=30)
        elapsed = time.monotonic() - t0
        self.seen = b""
        await self.send("\x1b")  # Esc: nobody checked off, the next round meets the same voter
        await self.wait_for("SKANN VALGKORT", timeout=30)
        await asyncio.sleep(1.5)  # a trainee's pause; and the same card within 1 s is the scanner repeating
        return elapsed

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self.reader is not None:
            self.reader.cancel()


def children_rss_mib(pid: int) -> list[float]:
    """VmRSS of every process under ``pid`` (the sessions)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().split()
            if int(stat[3]) != pid and not _descends(int(stat[3]), pid):
                continue
            if not (entry / "comm").read_text().startswith("python"):
                continue  # the shell textual-serve starts the command with
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
        except (OSError, ValueError, IndexError):
            continue
    return out


def _descends(ppid: int, root: int) -> bool:
    for _ in range(4):
        if ppid == root:
            return True
        try:
            ppid = int(Path(f"/proc/{ppid}/stat").read_text().split()[3])
        except (OSError, ValueError):
            return False
    return False


def cpu_seconds(pid: int) -> float:
    """User+system CPU of ``pid`` and its reaped and living children (clock ticks → s)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid] + [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and _descends(
        _ppid(int(e.name)), pid)]
    for p in pids:
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])) / tick
        except (OSError, ValueError, IndexError):
            continue
    return total


def _ppid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


async def run_room(url: str, server_pid: int, trainees: int, rounds: int, card: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as session:
        room = [Trainee(session, url) for _ in range(trainees)]
        cpu0, t0 = cpu_seconds(server_pid), time.monotonic()
        starts = await asyncio.gather(*(t.start() for t in room))
        await asyncio.sleep(1.0)
        rss = children_rss_mib(server_pid)
        steps: list[float] = []

        async def play(t: Trainee) -> None:
            for _ in range(rounds):
                steps.append(await t.scan_round(card))

        await asyncio.gather(*(play(t) for t in room))
        wall, cpu = time.monotonic() - t0, cpu_seconds(server_pid) - cpu0
        idle0 = cpu_seconds(server_pid)
        await asyncio.sleep(5.0)
        idle_cpu = (cpu_seconds(server_pid) - idle0) / 5.0
        await asyncio.gather(*(t.close() for t in room))
    steps.sort()
    return {
        "trainees": trainees, "start_p50": statistics.median(starts), "start_max": max(starts),
        "step_p50": statistics.median(steps), "step_p95": steps[max(0, int(len(steps) * 0.95) - 1)],
        "rss_per_session": statistics.mean(rss) if rss else 0.0, "sessions_seen": len(rss),
        "cpu_s": cpu, "wall_s": wall, "idle_cores": idle_cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trainees", default="1,4,8,12")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from valgkiosk.training.register import voters

    card = voters()["ready"].manntallsnummer
    assert card is not None
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "valgkiosk", "train-serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        import urllib.request

        for _ in range(300):
            try:
                urllib.request.urlopen(url + "/kursleder", timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        print(f"# {platform.node()}  {os.cpu_count()} cores  Python {platform.python_version()}  "
              f"load before: {os.getloadavg()[0]:.1f}")
        print("trainees  start p50/max (s)  scan→screen p50/p95 (s)  ×ref p95  RSS/session (MiB)  "
              "CPU (core·s)  idle (cores)")
        reference = None
        for n in [int(x) for x in args.trainees.split(",")]:
            r = asyncio.run(run_room(url, server.pid, n, args.rounds, card))
            reference = reference or r
            ok = r["step_p95"] <= GOAL_P95_S and r["start_max"] <= GOAL_START_S
            print(f"{n:>8}  {r['start_p50']:>6.1f} / {r['start_max']:<6.1f}    {r['step_p50']:>6.3f} / "
                  f"{r['step_p95']:<6.3f}          {r['step_p95'] / reference['step_p95']:>5.1f}   "
                  f"{r['rss_per_session']:>10.0f} ({r['sessions_seen']})   {r['cpu_s']:>8.1f}      "
                  f"{r['idle_cores']:.2f}   {'ok' if ok else 'MISSED'}", flush=True)
            time.sleep(3)  # the closed sessions' processes exit
    finally:
        server.terminate()
        try:
            server.wait(15)
        except subprocess.TimeoutExpired:
            server.kill()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
