"""Driving the training kiosk under Textual's pilot: the production wiring
(valgkiosk.training.app.build_training_app), the drill panel's keys, and waits that let the
register's answers and the watchdog's probe rounds arrive."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from valgkiosk.training import drills as dr
from valgkiosk.training.app import PANEL_KEYS, TrainingKioskApp, build_training_app
from valgkiosk.ui.testing import screen_text, settle

SIZE = (110, 44)
ACTION_KEYS = {action: key for key, action in PANEL_KEYS.items()}


def app_for(drill_id: str, folder: Path, **kwargs: Any) -> TrainingKioskApp:
    catalogue = dr.load()
    first = [d.id for d in catalogue.drills].index(drill_id)
    return build_training_app(catalogue, folder=folder, first=first, **kwargs)


async def calm(pilot: Pilot[Any], seconds: float = 0.3) -> None:
    """Let workers finish and a little real time pass (the embedded register answers in process)."""
    await settle(pilot)
    await asyncio.sleep(seconds)
    await settle(pilot)


async def panel(pilot: Pilot[Any], *actions: str) -> None:
    """Do ``actions`` with the drill panel's keys (F12, then the action's letter)."""
    for action in actions:
        await pilot.press("f12", ACTION_KEYS[action])
        await calm(pilot, 0.1)


async def until(pilot: Pilot[Any], check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait (real time: the watchdog probes on its own) until ``check()`` holds."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not check():
        if loop.time() > end:
            raise AssertionError("timed out waiting")
        await pilot.pause(0.1)


def run(app: TrainingKioskApp, script: Callable[[TrainingKioskApp, Pilot[Any]], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await calm(pilot)
            await script(app, pilot)

    asyncio.run(main())


def shown(app: TrainingKioskApp) -> str:
    """The screen's text with runs of white space collapsed."""
    return " ".join(screen_text(app).split())
