"""The kiosk's FailoverRegister against two real API nodes over one register."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from valgkiosk.ports.register import RegisterRefused, RegisterUnreachable, Verdict
from valgkiosk.register import credentials
from valgkiosk.register.store import SqlStore
from valgkiosk.register_client import HttpRegister
from valgkiosk.register_failover import FailoverRegister

from .factory import KARI, OLA, TABLE_1, fill
from .server import ThreadServer, free_port


def test_a_node_down_sends_the_same_check_off_to_the_next(store: SqlStore) -> None:
    fill(store)
    token = credentials.issue(store, TABLE_1)
    with ThreadServer(store) as a, ThreadServer(store) as b:
        async def run() -> None:
            reg = FailoverRegister([HttpRegister(a.url, token, timeout=2), HttpRegister(b.url, token, timeout=2)])
            try:
                rid = str(uuid.uuid4())
                first = await reg.check_off(rid, KARI.manntallsnummer)
                assert first.verdict is Verdict.CHECKED_OFF and reg.current == 0
                a.__exit__()  # node a stops answering
                again = await reg.check_off(rid, KARI.manntallsnummer)  # the retry reaches b
                assert again.verdict is Verdict.CHECKED_OFF and reg.current == 1
                assert again.checkoff == first.checkoff  # the same record: recorded once
                with pytest.raises(RegisterRefused):  # a refusal is not retried elsewhere
                    await reg.check_off(rid, OLA.manntallsnummer)
            finally:
                await reg.aclose()
        asyncio.run(run())
    assert sum(c.checkoffs for c in store.counts()) == 1


def test_every_node_down_raises_the_last_failure() -> None:
    async def run() -> None:
        reg = FailoverRegister([HttpRegister(f"http://127.0.0.1:{free_port()}", "vk1_" + "x" * 20, timeout=1)
                                for _ in range(2)])
        try:
            with pytest.raises(RegisterUnreachable):
                await reg.lookup(KARI.manntallsnummer)
        finally:
            await reg.aclose()
    asyncio.run(run())
