#!/usr/bin/env python3
"""Load test of the register service (issue 2): check-offs and lookups per second, p50/p99.

What it does, all on 127.0.0.1, and all of it started and stopped here:

1. Creates a PostgreSQL database in the server named by ``--pg-dsn`` (or
   ``$VALGKIOSK_BENCH_PG_DSN``) and an SQLite file in a temporary folder, and fills both
   with the same synthetic register (``valgkiosk register init`` + ``generate``; 4.3
   million voters in the full run, Norway's size).
2. For each backend, starts ``valgkiosk register serve`` (``--workers N``) and drives it
   with wrk (``bench/wrk/checkoff.lua``) from a separate process, at 1, 8 and 32 concurrent
   kiosks (connections):
   - ``GET /healthz``: the reference, the limit of the HTTP stack;
   - ``POST /v1/voters/lookup`` by manntallsnummer over a random sample of the register;
   - ``POST /v1/checkoffs`` with a fresh request id and a fresh voter per request (every
     phase and every wrk thread gets its own disjoint slice of the register's numbers).
3. pgbench on the same PostgreSQL: one single-row insert with a unique key per
   transaction into a table shaped like ``checkoffs`` (``-M prepared``, same client
   counts): the reference for the database.
4. Prints a table, the ratios and the goals (met, or "MISSED"), writes the figures as
   JSON (``--json``), drops the database and removes the temporary folder.

Exit status: 0 when every measurement ran and was valid, even if a goal was missed;
1 on a real failure (a server that does not start, errors from the service, a
check-off count in the database that does not match the answers, a slice of voters
used up, a tool missing).

    .venv/bin/python bench/register_load.py --quick     # ~2 minutes
    .venv/bin/python bench/register_load.py             # full: 4.3 M voters, ~12 minutes
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LUA = HERE / "wrk" / "checkoff.lua"
LINE = 13  # "123456789012\n"
ELECTION_DATE = "2025-09-08"
KOMMUNE, KRETS = "9001", "0001"  # the synthetic register's first kommune and station
PG_ENV = "VALGKIOSK_BENCH_PG_DSN"

GOAL_RATIO = 0.5  # check-off rate / health rate at 8 kiosks
GOAL_CHECKOFF_P99_MS = 25.0
GOAL_LOOKUP_P99_MS = 5.0
GOAL_KIOSKS = 8


class BenchFailure(Exception):
    """A real failure: the measurement is not valid."""


@dataclass
class Phase:
    backend: str
    call: str  # health | lookup | checkoff | pgbench
    kiosks: int
    seconds: float
    workers: int | None = None  # uvicorn workers of the server (None: pgbench)
    requests: int = 0
    rate: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    errors: int = 0
    unexpected: int = 0
    server_cpu: float | None = None  # % of one core, the server's processes
    # CPU seconds (utime + stime from /proc/<pid>/stat, the server's process tree) per
    # 1,000 requests answered in the phase: what the rate ratio is about on one worker,
    # and much less noisy than the rates on a shared machine
    server_cpu_s_per_1000: float | None = None
    load_cpu: float | None = None  # % of one core, wrk or pgbench
    pg_cpu: float | None = None  # % of one core, every postgres process on the machine
    machine_busy: float | None = None  # % of all cores
    others_cpu: float | None = None  # % of one core used by anything else on the machine
    extra: dict[str, Any] = field(default_factory=dict)


# -- small helpers ----------------------------------------------------------------------
def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))  # .venv/bin
    if found:
        return found
    for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (d / name).exists():
            return str(d / name)
    raise BenchFailure(f"{name} not found (apt-get install -y {'wrk' if name == 'wrk' else 'postgresql-client'})")


def valgkiosk_cmd(register_src: Path | None = None) -> list[str]:
    """``python -m valgkiosk``; with ``register_src``, its ``valgkiosk.register`` package is
    that folder (another commit's ``register/``, for ``--before``) and the rest is this tree's."""
    if register_src is None:
        return [sys.executable, "-m", "valgkiosk"]
    return [sys.executable, "-c", BEFORE_MAIN, str(register_src)]


# The server of --before: the other commit's register package in place of this tree's
# (set in sys.modules before anything imports it; uvicorn with one worker serves in this process).
BEFORE_MAIN = """
import importlib.util, sys
src = sys.argv.pop(1)
import valgkiosk
spec = importlib.util.spec_from_file_location("valgkiosk.register", src + "/__init__.py",
                                              submodule_search_locations=[src])
module = importlib.util.module_from_spec(spec)
sys.modules["valgkiosk.register"] = module
spec.loader.exec_module(module)
valgkiosk.register = module
from valgkiosk.cli import main
sys.exit(main(sys.argv[1:]))
"""


def export_register(ref: str, dest: Path) -> Path:
    """``register/`` of commit ``ref`` in ``dest`` (for ``--before``)."""
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(HERE.parent), "archive", ref, "register"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    return dest / "register"


def run(cmd: list[str], *, timeout: float, env: dict[str, str] | None = None) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired as exc:
        raise BenchFailure(f"timed out after {timeout:.0f} s: {' '.join(cmd[:6])}") from exc
    if p.returncode != 0:
        raise BenchFailure(f"failed ({p.returncode}): {' '.join(cmd[:8])}\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    return p.stdout


# -- CPU accounting (from /proc; read-only) --------------------------------------------
_TICK = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[str, int, float] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = text[text.index("(") + 1:text.rindex(")")]
    rest = text[text.rindex(")") + 2:].split()
    ppid = int(rest[1])
    # utime + stime, plus cutime + cstime: the time of reaped children (postgres backends
    # that ended during the phase, e.g. pgbench's, are counted in the postmaster's).
    cpu = (int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])) / _TICK
    return comm, ppid, cpu


def _all_procs() -> dict[int, tuple[str, int, float]]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _proc_stat(int(entry))
            if st is not None:
                out[int(entry)] = st
    return out


def _tree_cpu(procs: dict[int, tuple[str, int, float]], root: int) -> float:
    children: dict[int, list[int]] = {}
    for pid, (_, ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in procs:
            total += procs[pid][2]
        todo.extend(children.get(pid, []))
    return total


def _machine() -> tuple[float, float]:
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) / _TICK, idle / _TICK


class CpuWatch:
    """CPU seconds of the server tree, the load generator, postgres and the machine."""

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid

    def __enter__(self) -> "CpuWatch":
        procs = _all_procs()
        self.t0 = time.monotonic()
        self.server0 = _tree_cpu(procs, self.server_pid) if self.server_pid else 0.0
        self.pg0 = {pid: c for pid, (comm, _, c) in procs.items() if comm.startswith("postgres")}
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.child0 = ru.ru_utime + ru.ru_stime
        self.m0 = _machine()
        return self

    def __exit__(self, *exc: object) -> None:
        procs = _all_procs()
        wall = time.monotonic() - self.t0
        self.server_s = (_tree_cpu(procs, self.server_pid) - self.server0) if self.server_pid else None
        self.server = None if self.server_s is None else self.server_s / wall * 100
        self.pg = sum(c - self.pg0.get(pid, 0.0) for pid, (comm, _, c) in procs.items()
                      if comm.startswith("postgres")) / wall * 100
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.load = (ru.ru_utime + ru.ru_stime - self.child0) / wall * 100
        total1, idle1 = _machine()
        total0, idle0 = self.m0
        self.busy = 100 * (1 - (idle1 - idle0) / max(total1 - total0, 1e-9))

    def fill(self, phase: Phase) -> None:
        phase.server_cpu = None if self.server is None else round(self.server, 1)
        if self.server_s is not None and phase.requests:
            phase.server_cpu_s_per_1000 = round(self.server_s / phase.requests * 1000, 4)
        phase.load_cpu = round(self.load, 1)
        phase.pg_cpu = round(self.pg, 1)
        phase.machine_busy = round(self.busy, 1)
        # What is left of the machine's busy time: other people's work on the shared cores.
        ours = (self.server or 0.0) + self.load + self.pg
        phase.others_cpu = round(max(0.0, self.busy * (os.cpu_count() or 1) - ours), 1)


# -- databases ---------------------------------------------------------------------------
def pg_url_for(dsn: str, dbname: str) -> str:
    parts = urllib.parse.urlsplit(dsn)
    if parts.scheme not in ("postgresql", "postgres"):
        raise BenchFailure("--pg-dsn must be a URL: postgresql://user@127.0.0.1:port/db")
    host = parts.hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise BenchFailure(f"PostgreSQL must be on loopback, not {host!r}")
    return urllib.parse.urlunsplit(parts._replace(path="/" + dbname))


def pg_admin(dsn: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)


def populate(url: str, voters: int, seed: int, log_path: Path) -> subprocess.Popen[bytes]:
    """``valgkiosk register init`` then ``generate``, in a subprocess (two run side by side)."""
    script = (
        "import subprocess, sys\n"
        f"base = {valgkiosk_cmd()!r}\n"
        f"subprocess.run(base + ['register', 'init', '--db', {url!r}, '--election-date', {ELECTION_DATE!r}], check=True)\n"
        "try:\n"
        "    from valgkiosk.register import synthetic\n"
        "    have = hasattr(synthetic, 'populate')\n"
        "except Exception as exc:\n"
        "    print('synthetic generator not usable:', exc); have = False\n"
        "if have:\n"
        f"    subprocess.run(base + ['register', 'generate', '--db', {url!r}, '--voters', '{voters}', '--seed', '{seed}'], check=True)\n"
        "else:\n"
        f"    subprocess.run([sys.executable, {str(Path(__file__).resolve())!r}, '--fallback-load', {url!r}, '{voters}'], check=True)\n"
    )
    out = open(log_path, "wb")  # noqa: SIM115 - handed to the child
    return subprocess.Popen([sys.executable, "-c", script], stdout=out, stderr=subprocess.STDOUT)


def fallback_load(url: str, voters: int) -> None:
    """A plain loader for the bench only, if the synthetic generator is not there."""
    from datetime import date, timedelta

    from valgkiosk.core.manntallsnummer import make
    from valgkiosk.register.model import Kommune, Krets, Voter
    from valgkiosk.register.store import open_store

    def gen():  # type: ignore[no-untyped-def]
        for i in range(voters):
            born = date(1930, 1, 1) + timedelta(days=i % 27_000)
            fnr = f"{born:%d%m%y}{i // 27_000:05d}"  # unique, plausible shape (not checked)
            yield Voter(make(1_000_000 + i, 2025).digits, fnr, "Test", f"Prøvesen{i % 997}", born,
                        f"Øvingsveien {i % 200 + 1}", "1000", "ØVINGSBY", KOMMUNE, f"{i % 4 + 1:04d}", False)

    store = open_store(url)
    try:
        store.import_voters(gen(), kommuner=[Kommune(KOMMUNE, "Øvingskommune 1", False)],
                            kretser=[Krets(KOMMUNE, f"{j:04d}", f"Prøveskolen {j}") for j in range(1, 5)])
    finally:
        store.close()


def prepare_store(url: str, tokens_needed: int) -> list[str]:
    """ANALYZE, a checkpoint, and one kiosk credential per wrk thread."""
    from valgkiosk.register import credentials
    from valgkiosk.register.model import Kiosk, Role
    from valgkiosk.register.store import open_store

    store = open_store(url)
    try:
        if store.dialect == "postgres":
            with store._pool.connection() as conn:  # noqa: SLF001 - bench only
                conn.execute("VACUUM ANALYZE voters")
                conn.execute("CHECKPOINT")
        else:
            with store.write() as cur:
                cur.execute("ANALYZE")
        return [credentials.issue(store, Kiosk(f"bench-bord{i + 1}", Role.KIOSK, KOMMUNE, KRETS, i + 1))
                for i in range(tokens_needed)]
    finally:
        store.close()


def export_numbers(url: str, path: Path) -> int:
    """Every manntallsnummer in the register, in id order, fixed width, to ``path``."""
    n = 0
    with open(path, "wb") as out:
        if url.startswith("sqlite:///"):
            conn = sqlite3.connect(url.removeprefix("sqlite:///"))
            try:
                for (m,) in conn.execute("SELECT manntallsnummer FROM voters ORDER BY id"):
                    out.write(m.encode() + b"\n")
                    n += 1
            finally:
                conn.close()
        else:
            import psycopg

            with psycopg.connect(url) as conn, conn.cursor(name="numbers") as cur:
                cur.itersize = 50_000
                cur.execute("SELECT manntallsnummer FROM voters ORDER BY id")
                for (m,) in cur:
                    out.write(m.encode() + b"\n")
                    n += 1
    if path.stat().st_size != n * LINE:
        raise BenchFailure(f"{path}: manntallsnummer are not all 12 digits")
    return n


def checkoff_count(url: str) -> int:
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return int(conn.execute("SELECT count(*) FROM checkoffs").fetchone()[0])
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT count(*) FROM checkoffs").fetchone()[0])


# -- the server ------------------------------------------------------------------------------
class Server:
    def __init__(self, url: str, workers: int, log_path: Path, register_src: Path | None = None) -> None:
        self.url, self.workers, self.log_path, self.register_src = url, workers, log_path, register_src
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Server":
        out = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [*valgkiosk_cmd(self.register_src), "register", "serve", "--db", self.url, "--host", "127.0.0.1",
             "--lookup-rate", "0",  # a load test is a scraper by design
             "--port", str(self.port), "--workers", str(self.workers), "--log-level", "warning"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
        out.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchFailure(f"server exited ({self.proc.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise BenchFailure(f"server not healthy within 60 s; see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group this script started
            self.proc.wait(timeout=10)

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- load ---------------------------------------------------------------------------------------
class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.wrk = find_tool("wrk")
        self.phases: list[Phase] = []
        self.nonce = random.SystemRandom().randrange(1, 2**31)
        self.before_src = export_register(args.before, work / "before") if args.before else None

    def wrk_run(self, server: Server, backend: str, mode: str, kiosks: int, seconds: float,
                numbers: Path | None, first: int, count: int, tokens: list[str],
                record: bool = True) -> Phase:
        profiler = self.profile(server, backend, mode, kiosks, seconds) if record else None
        try:
            return self._wrk_run(server, backend, mode, kiosks, seconds, numbers, first, count, tokens, record)
        finally:
            if profiler is not None:
                profiler.wait(timeout=seconds + 30)

    def profile(self, server: Server, backend: str, mode: str, kiosks: int,
                seconds: float) -> subprocess.Popen[bytes] | None:
        """``--profile DIR``: py-spy samples the server through the phase (collapsed stacks,
        one file per phase; without pausing the server, --nonblocking)."""
        if not self.args.profile or server.proc is None:
            return None
        folder = Path(self.args.profile)
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{backend}-{mode}-c{kiosks}.txt"
        return subprocess.Popen([find_tool("py-spy"), "record", "--nonblocking", "-f", "raw", "-r", "200",
                                 "-d", str(max(1, int(seconds) - 1)), "-p", str(server.proc.pid), "-o", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _wrk_run(self, server: Server, backend: str, mode: str, kiosks: int, seconds: float,
                 numbers: Path | None, first: int, count: int, tokens: list[str],
                 record: bool = True) -> Phase:
        threads = max(1, min(kiosks, self.args.wrk_threads))
        self.nonce += 1
        cmd = [self.wrk, "-t", str(threads), "-c", str(kiosks), "-d", f"{seconds:.0f}s",
               "--timeout", "10s", "--latency", "-s", str(LUA), server.base, "--",
               mode, str(numbers or "-"), str(first), str(count), str(self.nonce),
               ",".join(tokens[:threads]), str(threads)]
        with CpuWatch(server.proc.pid if server.proc else None) as cpu:
            out = run(cmd, timeout=seconds + 60)
        m = re.search(r"^VKRESULT (\{.*\})$", out, re.M)
        if not m:
            raise BenchFailure(f"wrk printed no result:\n{out[-3000:]}")
        res = json.loads(m.group(1))
        lat = res["latency_us"]
        e = res["errors"]
        errors = e["connect"] + e["read"] + e["write"] + e["timeout"] + res["bad"]
        ph = Phase(backend, mode, kiosks, res["duration_us"] / 1e6, workers=server.workers,
                   requests=res["requests"],
                   rate=res["requests"] / (res["duration_us"] / 1e6),
                   p50_ms=lat["p50"] / 1000, p90_ms=lat["p90"] / 1000, p99_ms=lat["p99"] / 1000,
                   max_ms=lat["max"] / 1000, errors=errors, unexpected=res["other"],
                   extra={"ok": res["ok"], "sent": res["sent"], "exhausted_threads": res["exhausted_threads"],
                          "wrk_threads": threads, "socket_errors": e})
        cpu.fill(ph)
        if record:
            self.phases.append(ph)
            log(f"{backend:10} w={server.workers} {mode:8} c={kiosks:<3} {ph.rate:9.1f}/s p50 {ph.p50_ms:6.2f} ms "
                f"p99 {ph.p99_ms:6.2f} ms errors {errors} unexpected {ph.unexpected} "
                f"cpu server {ph.server_cpu}% ({ph.server_cpu_s_per_1000} s/1000) wrk {ph.load_cpu}% pg {ph.pg_cpu}% others {ph.others_cpu}% "
                f"machine {ph.machine_busy}%")
        if not record:
            # Warm-up: a freshly started worker answers /healthz with 503 until its first
            # database ping returns (register/api.py), so errors here are only noted.
            if errors:
                log(f"{backend:10} w={server.workers} warm-up {mode} c={kiosks}: {errors} errors (not counted)")
            return ph
        if res["exhausted_threads"]:
            raise BenchFailure(f"{backend} {mode} c={kiosks}: ran out of fresh voters; raise --voters")
        if errors > 0.001 * max(res["requests"], 1) or res["other"]:
            raise BenchFailure(f"{backend} {mode} c={kiosks}: {errors} errors, {res['other']} unexpected "
                               f"answers in {res['requests']} requests; see {self.work}")
        return ph

    def backend(self, name: str, url: str, numbers: Path, voters: int, lookups: Path,
                n_lookups: int, tokens: list[str]) -> None:
        serves = [(workers, label, src) for workers in self.args.workers for label, src in self.variants(name)]
        for k, (workers, label, src) in enumerate(serves):
            self.serve(label, url, workers, k, len(serves), numbers, voters, lookups, n_lookups, tokens, src)

    def variants(self, name: str) -> list[tuple[str, Path | None]]:
        """The servers to measure on one backend: this tree's, or with ``--before REF`` that
        commit's register and this tree's in turn (before, after, after, before, ...), each
        labelled ``backend:before1``, ``backend:after1``, ..."""
        if not self.args.before:
            return [(name, None)]
        out: list[tuple[str, Path | None]] = []
        for i in range(self.args.ab_rounds):
            pair: list[tuple[str, Path | None]] = [(f"{name}:before{i + 1}", self.before_src),
                                                   (f"{name}:after{i + 1}", None)]
            out.extend(pair if i % 2 == 0 else pair[::-1])
        return out

    def serve(self, name: str, url: str, workers: int, k: int, n_serves: int, numbers: Path, voters: int,
              lookups: Path, n_lookups: int, tokens: list[str], register_src: Path | None = None) -> None:
        a = self.args
        conc = a.concurrency
        # every check-off phase (of every server) gets its own slice of the register
        slice_size = voters // (len(conc) * n_serves)
        log(f"{name}: serving with {workers} worker(s)")
        with Server(url, workers, self.work / f"server-{name.replace(':', '-')}-w{workers}.log",
                    register_src) as server:
            # warm up: imports, pools, caches, page cache of the lookup sample
            self.wrk_run(server, name, "health", 8, a.warmup, None, 0, 0, tokens, record=False)
            self.wrk_run(server, name, "lookup", 8, a.warmup, lookups, 0, n_lookups, tokens, record=False)
            for c in a.lookup_concurrency:
                self.wrk_run(server, name, "lookup", c, a.duration, lookups, 0, n_lookups, tokens)
            before = checkoff_count(url)
            ok = 0
            for i, c in enumerate(conc):
                self.wrk_run(server, name, "health", c, a.duration, None, 0, 0, tokens)
                ph = self.wrk_run(server, name, "checkoff", c, a.duration, numbers,
                                  (k * len(conc) + i) * slice_size, slice_size, tokens)
                ok += ph.extra["ok"]
        recorded = checkoff_count(url) - before
        # wrk stops at the deadline with up to one request per connection in flight: the
        # server may have recorded those, but it must have recorded every one it answered.
        if not ok <= recorded <= ok + sum(conc):
            raise BenchFailure(f"{name}: {ok} check-offs acknowledged but {recorded} recorded")
        log(f"{name}: {ok} acknowledged check-offs, {recorded} rows recorded "
            f"(≤ {sum(conc)} cut off in flight at wrk's deadline): consistent")

    def pgbench(self, url: str, voters: int) -> None:
        import psycopg

        a = self.args
        pgbench = find_tool("pgbench")
        with psycopg.connect(url, autocommit=True) as conn:
            lo, hi = conn.execute("SELECT min(id), max(id) FROM voters").fetchone()
            conn.execute("DROP TABLE IF EXISTS bench_checkoffs")
            # Shaped like checkoffs: same columns, primary key, unique request id, index on
            # the table, and the foreign key to voters.
            conn.execute("CREATE TABLE bench_checkoffs (LIKE checkoffs INCLUDING ALL)")
            conn.execute("ALTER TABLE bench_checkoffs ADD FOREIGN KEY (voter_id) REFERENCES voters")
            conn.execute("DROP SEQUENCE IF EXISTS bench_voter_seq")
            conn.execute(f"CREATE SEQUENCE bench_voter_seq MINVALUE {lo} START {lo} MAXVALUE {hi}")
        script = self.work / "pgbench_checkoff.sql"
        script.write_text(
            "INSERT INTO bench_checkoffs (voter_id, request_id, checked_off_at, kiosk_id, kommune, krets, bord)\n"
            "VALUES (nextval('bench_voter_seq'), gen_random_uuid()::text, now(), 'pgbench-bord1', "
            f"'{KOMMUNE}', '{KRETS}', 1) ON CONFLICT DO NOTHING RETURNING voter_id;\n")
        parts = urllib.parse.urlsplit(url)
        env = {"PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432),
               "PGUSER": urllib.parse.unquote(parts.username or "postgres"),
               "PGDATABASE": parts.path.lstrip("/")}
        if parts.password:
            env["PGPASSWORD"] = urllib.parse.unquote(parts.password)
        for c in a.concurrency:
            logdir = self.work / f"pgbench-c{c}"
            logdir.mkdir()
            jobs = max(1, min(c, a.wrk_threads))
            cmd = [pgbench, "-n", "-M", "prepared", "-c", str(c), "-j", str(jobs), "-T", f"{a.duration:.0f}",
                   "-f", str(script), "--log", f"--log-prefix={logdir}/tx"]
            with CpuWatch(None) as cpu:
                out = run(cmd, timeout=a.duration + 60, env=env)
            m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
            failed = re.search(r"number of failed transactions: (\d+)", out)
            if not m:
                raise BenchFailure(f"pgbench printed no tps:\n{out[-2000:]}")
            lat = []
            for f in logdir.iterdir():
                with open(f) as fh:
                    lat.extend(int(line.split()[2]) for line in fh)
            lat.sort()
            if not lat:
                raise BenchFailure("pgbench wrote no transaction log")

            def pct(p: float) -> float:
                return lat[min(len(lat) - 1, int(len(lat) * p / 100))] / 1000

            ph = Phase("postgresql", "pgbench", c, a.duration, requests=len(lat), rate=float(m.group(1)),
                       p50_ms=pct(50), p90_ms=pct(90), p99_ms=pct(99), max_ms=lat[-1] / 1000,
                       errors=int(failed.group(1)) if failed else 0)
            cpu.fill(ph)
            ph.server_cpu = None
            self.phases.append(ph)
            log(f"postgresql pgbench  c={c:<3} {ph.rate:9.1f}/s p50 {ph.p50_ms:6.2f} ms p99 {ph.p99_ms:6.2f} ms "
                f"cpu pgbench {ph.load_cpu}% pg {ph.pg_cpu}% machine {ph.machine_busy}%")
            shutil.rmtree(logdir)
            if ph.errors:
                raise BenchFailure(f"pgbench: {ph.errors} failed transactions")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("TRUNCATE bench_checkoffs")
                conn.execute(f"ALTER SEQUENCE bench_voter_seq RESTART WITH {lo}")


# -- report ---------------------------------------------------------------------------------------
def find(phases: list[Phase], backend: str, call: str, kiosks: int, workers: int | None) -> Phase | None:
    for p in phases:
        if (p.backend, p.call, p.kiosks, p.workers) == (backend, call, kiosks, workers):
            return p
    return None


def labels(backends: list[str], args: argparse.Namespace) -> list[str]:
    """The backends' server labels in the phases (see ``Bench.variants``)."""
    if not args.before:
        return backends
    return [f"{b}:{v}{i + 1}" for b in backends for i in range(args.ab_rounds) for v in ("before", "after")]


def report(phases: list[Phase], args: argparse.Namespace, meta: dict[str, Any]) -> str:
    lines = []
    w = lines.append
    w("")
    w(f"valgkiosk register load test — {meta['date']} — {meta['voters']:,} voters, "
      f"{args.duration:.0f} s per phase, uvicorn workers {'/'.join(map(str, args.workers))}, "
      f"wrk threads ≤ {args.wrk_threads}")
    w("")
    w("| backend | workers | call | kiosks | req/s | p50 ms | p99 ms | errors | server CPU % | load-gen CPU % "
      "| postgres CPU % | others CPU % | machine busy % |")
    w("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")

    def f(x: float | None) -> str:
        return "–" if x is None else f"{x:.0f}"

    order = {"health": 0, "checkoff": 1, "lookup": 2, "pgbench": 3}
    for p in sorted(phases, key=lambda p: (not p.backend.startswith("postgresql"), p.backend, p.workers or 99,
                                           order[p.call], p.kiosks)):
        w(f"| {p.backend} | {p.workers or '–'} | {p.call} | {p.kiosks} | {p.rate:,.0f} | {p.p50_ms:.2f} | {p.p99_ms:.2f} | "
          f"{p.errors} | {f(p.server_cpu)} | {f(p.load_cpu)} | {f(p.pg_cpu)} | {f(p.others_cpu)} "
          f"| {f(p.machine_busy)} |")
    w("")
    w("CPU columns: % of one core over the phase (server = all `register serve` processes; load-gen = wrk "
      "or pgbench; postgres = every postgres process; others = the rest of the machine's busy time, "
      "i.e. other people's work on the shared cores); machine busy = % of all cores.")
    w("")
    w("Ratios (check-off rate ÷ reference rate, same run):")
    w("")
    w("| backend | workers | kiosks | check-off ÷ /healthz | check-off ÷ pgbench insert |")
    w("|---|---:|---:|---:|---:|")
    for backend in labels(meta["backends"], args):
        for wk in args.workers:
            for c in args.concurrency:
                co, h, pg = (find(phases, backend, "checkoff", c, wk), find(phases, backend, "health", c, wk),
                             find(phases, "postgresql", "pgbench", c, None))
                if co is None:
                    continue
                rh = f"{co.rate / h.rate:.2f}" if h else "–"
                rp = f"{co.rate / pg.rate:.2f}" if (pg and backend.split(":")[0] == "postgresql") else "–"
                w(f"| {backend} | {wk} | {c} | {rh} | {rp} |")
    w("")
    w("Server CPU per 1,000 requests (utime + stime of the server's processes over the phase, "
      "from /proc; less noisy than the rates on a shared machine):")
    w("")
    w("| backend | workers | kiosks | /healthz CPU s/1000 | check-off CPU s/1000 | check-off ÷ /healthz |")
    w("|---|---:|---:|---:|---:|---:|")
    for backend in labels(meta["backends"], args):
        for wk in args.workers:
            for c in args.concurrency:
                co, h = find(phases, backend, "checkoff", c, wk), find(phases, backend, "health", c, wk)
                if co is None or co.server_cpu_s_per_1000 is None:
                    continue
                hc = h.server_cpu_s_per_1000 if h else None
                w(f"| {backend} | {wk} | {c} | {'–' if hc is None else f'{hc:.3f}'} | "
                  f"{co.server_cpu_s_per_1000:.3f} | {'–' if not hc else f'{co.server_cpu_s_per_1000 / hc:.2f}'} |")
    w("")
    w("Goals:")
    for backend in labels(meta["backends"], args):
        for wk in args.workers:
            tag = f"{backend:10} w={wk}"
            co, h = find(phases, backend, "checkoff", GOAL_KIOSKS, wk), find(phases, backend, "health", GOAL_KIOSKS, wk)
            if co and h:
                r = co.rate / h.rate
                w(f"  {tag} check-off at {GOAL_KIOSKS} kiosks ≥ {GOAL_RATIO:.0%} of /healthz rate: "
                  f"{r:.0%} → {'met' if r >= GOAL_RATIO else 'MISSED'}")
                w(f"  {tag} check-off p99 at {GOAL_KIOSKS} kiosks < {GOAL_CHECKOFF_P99_MS:.0f} ms: "
                  f"{co.p99_ms:.2f} ms → {'met' if co.p99_ms < GOAL_CHECKOFF_P99_MS else 'MISSED'}")
            for c in args.lookup_concurrency:
                lk = find(phases, backend, "lookup", c, wk)
                if lk:
                    w(f"  {tag} lookup p99 at {c} kiosk(s), {meta['voters']:,} voters < {GOAL_LOOKUP_P99_MS:.0f} ms: "
                      f"{lk.p99_ms:.2f} ms → {'met' if lk.p99_ms < GOAL_LOOKUP_P99_MS else 'MISSED'}")
    w("")
    return "\n".join(lines)


def machine_info(args: argparse.Namespace, pg_url: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {}
    cpu = Path("/proc/cpuinfo").read_text()
    m = re.search(r"^model name\s*:\s*(.*)$", cpu, re.M)
    info["cpu"] = m.group(1).strip() if m else "?"
    info["cores"] = os.cpu_count()
    mem = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
    info["memory_gib"] = round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None
    info["kernel"] = os.uname().release
    info["group_commit"] = os.environ.get("VALGKIOSK_REGISTER_GROUP_COMMIT", "1") != "0"
    info["load_average"] = [round(x, 2) for x in os.getloadavg()]
    info["python"] = sys.version.split()[0]
    info["sqlite"] = sqlite3.sqlite_version
    try:
        import uvicorn

        info["uvicorn"] = uvicorn.__version__
        import importlib.util

        info["uvloop"] = importlib.util.find_spec("uvloop") is not None
        info["httptools"] = importlib.util.find_spec("httptools") is not None
    except ImportError:
        pass
    info["wrk"] = subprocess.run([find_tool("wrk"), "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    if pg_url:
        import psycopg

        with psycopg.connect(pg_url) as conn:
            info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
            info["pg_settings"] = {k: conn.execute(f"SHOW {k}").fetchone()[0] for k in
                                   ("synchronous_commit", "fsync", "shared_buffers", "wal_sync_method")}
    return info


# -- main ---------------------------------------------------------------------------------------------
def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small register, short phases (~2 minutes)")
    p.add_argument("--pg-dsn", default=os.environ.get(PG_ENV),
                   help=f"a PostgreSQL server on loopback where a database may be created (default ${PG_ENV})")
    p.add_argument("--backends", default="postgresql,sqlite", help="comma-separated: postgresql,sqlite")
    p.add_argument("--voters", type=int, help="register size (default 4,300,000; quick 100,000)")
    p.add_argument("--duration", type=float, help="seconds per phase (default 20; quick 4)")
    p.add_argument("--warmup", type=float, help="seconds of warm-up per server (default 3; quick 1)")
    p.add_argument("--concurrency", default="1,8,32", help="kiosks (connections) for health/check-off/pgbench")
    p.add_argument("--lookup-concurrency", default="1,8", help="kiosks for the lookup phases")
    p.add_argument("--workers", default="1", help="uvicorn workers (register serve --workers); "
                   "a comma-separated list serves and measures each in turn, e.g. 1,2")
    p.add_argument("--wrk-threads", type=int, default=2, help="at most this many wrk threads / pgbench jobs")
    p.add_argument("--no-group-commit", action="store_true",
                   help="serve with VALGKIOSK_REGISTER_GROUP_COMMIT=0: a transaction per check-off (for comparing)")
    p.add_argument("--profile", metavar="DIR",
                   help="sample the server with py-spy in every measured phase (pip install py-spy)")
    p.add_argument("--before", metavar="REF",
                   help="also serve the register/ of this commit, alternating with this tree's "
                        "(phases labelled backend:beforeN / backend:afterN): an A/B in one run")
    p.add_argument("--ab-rounds", type=int, default=1, help="with --before: before/after pairs per backend")
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--json", help="also write the figures as JSON here")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder and databases")
    p.add_argument("--fallback-load", nargs=2, metavar=("URL", "N"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.fallback_load:
        return a
    a.voters = a.voters or (100_000 if a.quick else 4_300_000)
    a.duration = a.duration or (4.0 if a.quick else 20.0)
    a.warmup = a.warmup or (1.0 if a.quick else 3.0)
    a.concurrency = [int(x) for x in a.concurrency.split(",")]
    a.lookup_concurrency = [int(x) for x in a.lookup_concurrency.split(",") if x]
    a.backends = [b.strip() for b in a.backends.split(",") if b.strip()]
    a.workers = [int(x) for x in a.workers.split(",")]
    if GOAL_KIOSKS not in a.concurrency:
        log(f"note: {GOAL_KIOSKS} kiosks not measured; the goals are not judged")
    for b in a.backends:
        if b not in ("postgresql", "sqlite"):
            p.error(f"unknown backend {b}")
    if "postgresql" in a.backends and not a.pg_dsn:
        p.error(f"PostgreSQL needs --pg-dsn or ${PG_ENV}")
    return a


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.fallback_load:
        fallback_load(args.fallback_load[0], int(args.fallback_load[1]))
        return 0
    if args.no_group_commit:  # the servers started below inherit it
        os.environ["VALGKIOSK_REGISTER_GROUP_COMMIT"] = "0"
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="vk-bench-"))
    pg_db = f"vkbench_{os.getpid()}_{random.randrange(10**6)}"
    pg_url = pg_url_for(args.pg_dsn, pg_db) if "postgresql" in args.backends else None
    created_pg = False
    failed = False
    urls: dict[str, str] = {}
    try:
        find_tool("wrk")
        if pg_url:
            find_tool("pgbench")
            pg_admin(args.pg_dsn, f'CREATE DATABASE "{pg_db}"')
            created_pg = True
            urls["postgresql"] = pg_url
        if "sqlite" in args.backends:
            urls["sqlite"] = f"sqlite:///{work / 'register.db'}"
        meta: dict[str, Any] = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "voters": args.voters,
                                "backends": list(urls), "command": " ".join([Path(sys.argv[0]).name, *argv]),
                                "machine": machine_info(args, pg_url)}
        log(f"work folder {work}; generating {args.voters:,} voters into {', '.join(urls)} (side by side)")
        t0 = time.monotonic()
        procs = {name: populate(url, args.voters, args.seed, work / f"generate-{name}.log")
                 for name, url in urls.items()}
        deadline = time.monotonic() + 1800
        for name, proc in procs.items():
            try:
                rc = proc.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                raise BenchFailure(f"generating the {name} register took over 30 minutes") from None
            if rc != 0:
                raise BenchFailure(f"generating the {name} register failed; see {work}/generate-{name}.log:\n"
                                   + (work / f"generate-{name}.log").read_text()[-2000:])
        meta["generate_seconds"] = round(time.monotonic() - t0, 1)
        log(f"generated in {meta['generate_seconds']} s")

        bench = Bench(args, work)
        n_tokens = max(1, args.wrk_threads)
        for name, url in urls.items():
            tokens = prepare_store(url, n_tokens)
            numbers = work / f"numbers-{name}.txt"
            n = export_numbers(url, numbers)
            if n != args.voters:
                raise BenchFailure(f"{name}: register holds {n} voters, not {args.voters}")
            # Lookups: a random sample of the whole register (run before any check-off).
            data = numbers.read_bytes()
            sample = random.Random(args.seed).sample(range(n), min(n, 200_000))
            lookups = work / f"lookups-{name}.txt"
            lookups.write_bytes(b"".join(data[i * LINE:(i + 1) * LINE] for i in sample))
            del data
            # Check-offs: the numbers in a shuffled-by-generator order (ids), disjoint slices.
            bench.backend(name, url, numbers, n, lookups, len(sample), tokens)
        if pg_url:
            bench.pgbench(pg_url, args.voters)
        meta["total_seconds"] = round(time.monotonic() - started, 1)
        text = report(bench.phases, args, meta)
        print(text)
        print(f"(total {meta['total_seconds']:.0f} s; machine: {meta['machine']})")
        if args.json:
            Path(args.json).write_text(json.dumps({"meta": meta, "phases": [asdict(p) for p in bench.phases]},
                                                  indent=2, ensure_ascii=False))
        return 0
    except BenchFailure as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        failed = True
        return 1
    finally:
        if created_pg and not args.keep:
            try:
                pg_admin(args.pg_dsn, f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')
            except Exception as exc:  # noqa: BLE001 - report, do not mask the result
                print(f"warning: could not drop database {pg_db}: {exc}", file=sys.stderr)
        if args.keep or failed:
            log(f"kept {work} (server logs)" + (f" and database {pg_db}" if created_pg and args.keep else ""))
            for f in work.glob("numbers-*.txt"):
                f.unlink()  # large; the logs are what matter
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
