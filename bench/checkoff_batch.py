#!/usr/bin/env python3
"""One group-commit batch on PostgreSQL: the one autocommit statement the register sends
(``PostgresStore._checkoff_rows``) against the same statement between BEGIN and COMMIT
(the round-3 form), alternating in one run; wall time and this process's CPU per batch.

    .venv/bin/python bench/checkoff_batch.py postgresql://postgres@127.0.0.1:PORT/postgres
"""
from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import psycopg  # noqa: E402
from tests.register.factory import fill, many_voters  # noqa: E402
from valgkiosk.register.store import open_store  # noqa: E402
from valgkiosk.register.store import postgres as pg  # noqa: E402
from valgkiosk.register.model import Kiosk, Role  # noqa: E402
ADMIN = sys.argv[1] if len(sys.argv) > 1 else os.environ["VALGKIOSK_TEST_PG_DSN"]
DSN = ADMIN.rsplit("/", 1)[0] + "/vk_checkoff_batch"
with psycopg.connect(ADMIN, autocommit=True) as c:
    c.execute("DROP DATABASE IF EXISTS vk_checkoff_batch WITH (FORCE)"); c.execute("CREATE DATABASE vk_checkoff_batch")
people = many_voters(20000)
store = open_store(DSN); store.migrate(); fill(store, people)
k = Kiosk("bench-bord1", Role.KIOSK, "0301", "0101", 1)
nums = iter(v.manntallsnummer for v in people)
now = datetime.now(timezone.utc)

async def txn_variant(batch):
    """The round-3 form: BEGIN, the statement, COMMIT (three round trips)."""
    pool = await store._apool()
    rows = [None]*len(batch)
    async with pool.connection() as conn:
        async with conn.transaction():
            cur = await conn.execute(pg.CHECKOFF_MANY_SQL, {key: [p[key] for p in batch] for key in ("mnr","rid","now","kiosk_id","kommune","krets","bord")})
            for row in await cur.fetchall(): rows[row[0]-1] = row[1:]
    return rows

async def main():
    res = {"one": [0.0, 0.0, 0], "txn": [0.0, 0.0, 0]}
    for i in range(300):
        for name in ("one", "txn"):
            batch = [store._checkoff_params(k, str(uuid.uuid4()), next(nums), now) for _ in range(8)]
            w, c = time.perf_counter(), time.process_time()
            rows = await (store._checkoff_rows(batch) if name == "one" else txn_variant(batch))
            res[name][0] += time.perf_counter() - w; res[name][1] += time.process_time() - c; res[name][2] += 1
            assert all(r is not None and r[27] for r in rows)
    for n, (w, c, cnt) in res.items():
        print(f"{n}: wall {1000*w/cnt:.2f} ms/batch, client CPU {1000*c/cnt:.3f} ms/batch")
    print(f"ratio one/txn wall {res['one'][0]/res['txn'][0]:.2f} cpu {res['one'][1]/res['txn'][1]:.2f}; load {os.getloadavg()}")
    await store.aclose()
asyncio.run(main()); store.close()
with psycopg.connect(ADMIN, autocommit=True) as c: c.execute("DROP DATABASE vk_checkoff_batch WITH (FORCE)")
