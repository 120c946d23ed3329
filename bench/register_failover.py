#!/usr/bin/env python3
"""Failover of the register (issue 16): failover time, check-offs lost, cost of the second copy.

All on 127.0.0.1, started and stopped here (tests/register/cluster.py's harness):

1. A plain PostgreSQL (``--pg-dsn``, e.g. the one ``scripts/test`` starts) and a Patroni
   cluster (etcd, three PostgreSQL nodes, synchronous mode strict), each with the same
   small register, each served by one ``register serve`` (one worker).
2. ``--kiosks`` kiosks (asyncio, the kiosk's own HttpRegister/FailoverRegister) check off
   distinct voters for ``--duration`` seconds against each: rate and p99. The ratio is the
   cost of waiting for the synchronous standby's copy.
3. On the cluster, the primary's machine (Patroni and PostgreSQL) is SIGKILLed while the
   kiosks check off: failover time = kill to the first acknowledged check-off sent after
   it; check-offs lost = acknowledged but not in the new primary's table (must be 0).

    .venv/bin/python bench/register_failover.py --pg-dsn postgresql://postgres@127.0.0.1:PORT/postgres
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import psycopg  # noqa: E402

from tests.register.cluster import DATABASE, missing_tools, start_cluster  # noqa: E402
from tests.register.factory import fill, many_voters  # noqa: E402
from tests.register.server import ProcessServer  # noqa: E402
from valgkiosk.ports.register import RegisterError  # noqa: E402
from valgkiosk.register import credentials  # noqa: E402
from valgkiosk.register.model import Kiosk, Role  # noqa: E402
from valgkiosk.register.store import open_store  # noqa: E402
from valgkiosk.register_client import HttpRegister  # noqa: E402
from valgkiosk.register_failover import FailoverRegister  # noqa: E402


def prepare(dsn: str, admin_dsn: str, kiosks: int, voters: int) -> tuple[list[str], list[str]]:
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    people = many_voters(voters)
    store = open_store(dsn)
    store.migrate()
    fill(store, people)
    tokens = [credentials.issue(store, Kiosk(f"bench-bord{i}", Role.KIOSK, "0301", "0101", i + 1))
              for i in range(kiosks)]
    store.close()
    return tokens, [v.manntallsnummer for v in people]


async def load(regs: list[FailoverRegister], numbers: list[str], seconds: float,
               during: object = None) -> dict[str, object]:
    """Kiosks check off for ``seconds``; ``during`` (a coroutine function) runs meanwhile."""
    acks: list[tuple[str, str, float, float]] = []
    latencies: list[float] = []
    stop = time.monotonic() + seconds
    errors = 0

    async def kiosk(i: int) -> None:
        nonlocal errors
        for number in numbers[i::len(regs)]:
            if time.monotonic() > stop:
                return
            rid = str(uuid.uuid4())
            while True:
                sent = time.monotonic()
                try:
                    await regs[i].check_off(rid, number)
                except RegisterError:
                    errors += 1
                    await asyncio.sleep(0.2)
                    continue
                done = time.monotonic()
                acks.append((number, rid, sent, done))
                latencies.append(done - sent)
                break

    started = time.monotonic()
    extra = asyncio.create_task(during()) if during else None  # type: ignore[operator]
    await asyncio.gather(*(kiosk(i) for i in range(len(regs))))
    elapsed = time.monotonic() - started
    result = await extra if extra else None
    lat = sorted(latencies)
    return {"acks": acks, "rate": len(acks) / elapsed, "errors": errors, "extra": result,
            "p50_ms": 1000 * statistics.median(lat), "p99_ms": 1000 * lat[int(0.99 * (len(lat) - 1))]}


def clients(urls: list[str], tokens: list[str]) -> list[FailoverRegister]:
    return [FailoverRegister([HttpRegister(u, t, timeout=2.0) for u in urls]) for t in tokens]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pg-dsn", default=os.environ.get("VALGKIOSK_TEST_PG_DSN"), required=False,
                   help="a plain PostgreSQL server for the single-node reference")
    p.add_argument("--kiosks", type=int, default=8)
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--json")
    p.add_argument("--no-failover", action="store_true",
                   help="only the rates (single node, synchronous standby), no kill of the primary")
    a = p.parse_args(argv)
    if missing_tools():
        print(f"missing: {', '.join(missing_tools())}", file=sys.stderr)
        return 1
    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"vk-failover-bench-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    voters = a.kiosks * 4000
    figures: dict[str, object] = {"kiosks": a.kiosks, "duration": a.duration,
                                  "loadavg_before": os.getloadavg()}

    def measure(name: str, dsn: str, admin: str, during: object = None) -> dict[str, object]:
        tokens, numbers = prepare(dsn, admin, a.kiosks, voters)
        server = ProcessServer(dsn, work / f"{name}.log")
        server.start()
        try:
            async def run() -> dict[str, object]:
                regs = clients([server.url], tokens)
                try:
                    return await load(regs, numbers, a.duration, during)
                finally:
                    for r in regs:
                        await r.aclose()
            return asyncio.run(run())
        finally:
            server.stop()

    if a.pg_dsn:
        base = a.pg_dsn.rsplit("/", 1)[0]
        single = measure("single", f"{base}/{DATABASE}", a.pg_dsn)
        figures["single"] = {k: v for k, v in single.items() if k not in ("acks", "extra")}
    cluster = start_cluster(nodes=3, ttl=8)
    try:
        admin = cluster.dsn.replace(f"/{DATABASE}", "/postgres")
        synced = measure("synchronous", cluster.dsn, admin)
        figures["synchronous"] = {k: v for k, v in synced.items() if k not in ("acks", "extra")}

        async def kill_primary() -> float:
            await asyncio.sleep(a.duration / 3)
            primary = cluster.role_of("leader")
            assert primary is not None
            at = time.monotonic()
            await asyncio.to_thread(primary.kill)
            return at

        if not a.no_failover:
            failover = measure("failover", cluster.dsn, admin, kill_primary)
            killed_at = float(failover["extra"])  # type: ignore[arg-type]
            after = [done for _, _, sent, done in failover["acks"] if sent > killed_at]  # type: ignore[union-attr]
            with psycopg.connect(cluster.dsn) as conn:
                rows = set(conn.execute("SELECT v.manntallsnummer, c.request_id FROM checkoffs c "
                                        "JOIN voters v ON v.id = c.voter_id").fetchall())
            acked = {(n, r) for n, r, _, _ in failover["acks"]}  # type: ignore[union-attr]
            figures["failover"] = {"seconds": (min(after) - killed_at) if after else None,
                                   "acknowledged": len(acked), "lost": len(acked - rows),
                                   "recorded_without_answer": len(rows - acked), "errors": failover["errors"]}
    finally:
        cluster.stop()
    figures["loadavg_after"] = os.getloadavg()
    if a.pg_dsn:
        figures["synchronous_vs_single_rate"] = (figures["synchronous"]["rate"]  # type: ignore[index]
                                                 / figures["single"]["rate"])  # type: ignore[index]
    print(json.dumps(figures, indent=1, default=float))
    if a.json:
        Path(a.json).write_text(json.dumps(figures, indent=1, default=float))
    if a.no_failover:
        return 0
    return 0 if figures["failover"]["lost"] == 0 else 1  # type: ignore[index]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
