"""Snapshots of every drill's screen as the trainee first meets it (the voter's card in the
panel, with the ID asked for), at the training kiosk's size. Update deliberately with
``pytest tests/training --snapshot-update`` and look at the SVGs before committing."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.training.rig import SIZE, app_for, calm, panel, shown, until
from valgkiosk.training import drills as dr

DRILL_IDS = [d.id for d in dr.load().drills]


class StillWallClock:
    """Real monotonic time (the watchdog probes on its own) with the wall clock held still,
    so that the times on screen are the same every run."""

    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> datetime:
        return datetime(2029, 9, 10, 12, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("drill_id", DRILL_IDS)
def test_drill_screen(drill_id: str, snap_compare: Any, tmp_path: Path) -> None:
    app = app_for(drill_id, tmp_path, clock=StillWallClock())

    async def run_before(pilot: Pilot[Any]) -> None:
        await calm(pilot)
        if drill_id == "06-feilregistrering":
            await until(pilot, lambda: "KRYSSET AV" in shown(app))  # the drill's own (wrong) check-off
        if drill_id != "09-strombrudd-beredskap":  # (there, before the watchdog has declared the outage)
            await panel(pilot, "ask_id")
        await calm(pilot, 0.1)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
