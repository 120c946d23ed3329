"""Snapshot tests of the alarm, the chair's PIN, the emergency routine and the loggbok
screen, on the rig's fixed clock. Update with ``--snapshot-update`` and look at the SVGs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.ui.test_emergency import cut_router, enter_pin, one_voter
from valgkiosk.core import outage
from valgkiosk.ui.testing import SIZE, Rig, make_rig, probe, settle, type_text

Steps = Callable[[Rig, Pilot[Any]], Awaitable[None]]


async def alarm(rig: Rig, pilot: Pilot[Any]) -> None:
    await cut_router(rig, pilot)


async def acknowledged(rig: Rig, pilot: Pilot[Any]) -> None:
    await cut_router(rig, pilot)
    await pilot.press("f3")
    await settle(pilot)


async def pin(rig: Rig, pilot: Pilot[Any]) -> None:
    await cut_router(rig, pilot)
    await pilot.press("f5")
    await settle(pilot)


async def wrong_pin(rig: Rig, pilot: Pilot[Any]) -> None:
    await enter_pin(pilot, "9999")


async def routine(rig: Rig, pilot: Pilot[Any]) -> None:
    await cut_router(rig, pilot)
    await enter_pin(pilot)


async def routine_scanned(rig: Rig, pilot: Pilot[Any]) -> None:
    await routine(rig, pilot)
    rig.scanner.scan(rig.card("Klar til avkrysning"))
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def routine_manual_form(rig: Rig, pilot: Pilot[Any]) -> None:
    await routine(rig, pilot)
    await pilot.press("m")
    await settle(pilot)
    await type_text(pilot, "Kari Nordmann")
    await pilot.press("tab")
    await type_text(pilot, "01.02.1980")


async def routine_counted(rig: Rig, pilot: Pilot[Any]) -> None:
    await routine(rig, pilot)
    await one_voter(rig, pilot, rig.card("Klar til avkrysning"))


async def routine_recovered(rig: Rig, pilot: Pilot[Any]) -> None:
    await routine_counted(rig, pilot)
    assert rig.network is not None
    rig.network.restore_link()
    await probe(rig, pilot, outage.Timings().recover_after)


async def log(rig: Rig, pilot: Pilot[Any]) -> None:
    await routine_counted(rig, pilot)
    assert rig.network is not None
    rig.clock.advance(600)
    rig.network.restore_link()
    await probe(rig, pilot, outage.Timings().recover_after)
    await pilot.press("f11")
    await settle(pilot)


SCREENS: dict[str, Steps] = {
    "alarm": alarm,
    "alarm_acknowledged": acknowledged,
    "chair_pin": pin,
    "chair_pin_wrong": wrong_pin,
    "routine_step1": routine,
    "routine_scanned": routine_scanned,
    "routine_manual_valgkort": routine_manual_form,
    "routine_counted": routine_counted,
    "routine_register_back": routine_recovered,
    "loggbok": log,
}


@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(name: str, snap_compare: Any) -> None:
    rig = make_rig()

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await SCREENS[name](rig, pilot)

    assert snap_compare(rig.app, terminal_size=SIZE, run_before=run_before)
