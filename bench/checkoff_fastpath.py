#!/usr/bin/env python3
"""The check-off fast path's own Python (register/api.py, ``fast_check_off``), in process:
the CPU per call of a plainly valid check-off with the store's answer made in advance
(no database, no HTTP), so what it measures is the credential, body, number and answer.

    .venv/bin/python bench/checkoff_fastpath.py [--calls 3000] [--rounds 3]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.register.factory import KARI, TABLE_1, fill  # noqa: E402
from valgkiosk.register import credentials  # noqa: E402
from valgkiosk.register.api import create_app  # noqa: E402
from valgkiosk.register.store import open_store  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=3000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="vk-fastpath-") as tmp:
        store = open_store(f"sqlite:///{tmp}/r.db")
        store.migrate()
        fill(store)
        token = credentials.issue(store, TABLE_1)
        status = store.check_off(TABLE_1, str(uuid.uuid4()), KARI.manntallsnummer, datetime.now(timezone.utc))

        async def answered(*_: Any) -> Any:
            return status

        store.check_off_async = answered  # type: ignore[attr-defined]
        fast = create_app(store).fast_routes["/v1/checkoffs"]
        body = json.dumps({"request_id": str(uuid.uuid4()), "manntallsnummer": KARI.manntallsnummer}).encode()
        scope = {"type": "http", "method": "POST", "path": "/v1/checkoffs", "client": ("127.0.0.1", 1),
                 "headers": [(b"host", b"register"), (b"authorization", f"Bearer {token}".encode()),
                             (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]}

        async def run() -> None:
            for _ in range(200):  # warm-up
                await fast(scope, body)
            for r in range(args.rounds):
                c = time.process_time()
                for _ in range(args.calls):
                    answer = await fast(scope, body)
                    assert answer is not None and answer[0] == 200
                print(f"round {r + 1}: {(time.process_time() - c) / args.calls * 1e6:.1f} µs CPU per check-off "
                      f"(load {os.getloadavg()[0]:.1f})")

        asyncio.run(run())
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
