"""Shared driving code for the scenario tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from textual.pilot import Pilot

from valgkiosk.core import checkoff as co
from valgkiosk.register_client import HttpRegister
from valgkiosk.ui.testing import SIZE, Rig, make_rig, screen_text, settle

TIMINGS = co.Timings(personal_data=15, confirm=60, duplicate_window=1.0, retry_interval=2.0,
                     register_timeout=2.0)  # fmt: skip  (generous: a loaded CI machine is slow)


def kiosk(url: str, credential: str) -> Rig:
    """The kiosk app talking HTTP to ``url`` (timeout 2 s), with the simulated scanner."""
    return make_rig(register=HttpRegister(url, credential, timeout=TIMINGS.register_timeout), timings=TIMINGS)


def drive(rig: Rig, script: Callable[[Rig, Pilot[Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with rig.app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await script(rig, pilot)

    asyncio.run(main())


def seen(rig: Rig) -> str:
    return " ".join(screen_text(rig.app).split())


async def scan(rig: Rig, pilot: Pilot[Any], text: str) -> None:
    rig.scanner.scan(text)
    await settle(pilot)


async def advance(rig: Rig, pilot: Pilot[Any], seconds: float) -> None:
    rig.clock.advance(seconds)
    rig.app.tick()
    await settle(pilot)


def register_counts(url: str, credential: str) -> int:
    """This table's check-offs as the register itself counts them."""
    answer = httpx.get(url + "/v1/counts", headers={"Authorization": f"Bearer {credential}"}, timeout=5).json()
    return sum(t["checkoffs"] for t in answer["tables"])


def lookup_verdict(url: str, credential: str, number: str) -> str:
    answer = httpx.post(url + "/v1/voters/lookup", json={"manntallsnummer": number},
                        headers={"Authorization": f"Bearer {credential}"}, timeout=5).json()
    return str(answer["verdict"])
