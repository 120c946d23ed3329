"""Shared driving code for the scenario tests."""

from __future__ import annotations

from typing import Any

import httpx
from textual.pilot import Pilot

from valgkiosk.core import checkoff as co
from valgkiosk.register_client import HttpRegister
from valgkiosk.ui.testing import Rig, make_rig, settle

TIMINGS = co.Timings(personal_data=15, confirm=60, duplicate_window=1.0, retry_interval=2.0,
                     register_timeout=2.0)  # fmt: skip  (generous: a loaded CI machine is slow)


def kiosk(url: str, credential: str) -> Rig:
    """The kiosk app talking HTTP to ``url`` (timeout 2 s), with the simulated scanner."""
    return make_rig(register=HttpRegister(url, credential, timeout=TIMINGS.register_timeout), timings=TIMINGS)


async def scan(rig: Rig, pilot: Pilot[Any], text: str) -> None:
    rig.scanner.scan(text)
    await settle(pilot)


def register_counts(url: str, credential: str) -> int:
    """This table's check-offs as the register itself counts them."""
    answer = httpx.get(url + "/v1/counts", headers={"Authorization": f"Bearer {credential}"}, timeout=5).json()
    return sum(t["checkoffs"] for t in answer["tables"])


def lookup_verdict(url: str, credential: str, number: str) -> str:
    answer = httpx.post(url + "/v1/voters/lookup", json={"manntallsnummer": number},
                        headers={"Authorization": f"Bearer {credential}"}, timeout=5).json()
    return str(answer["verdict"])
