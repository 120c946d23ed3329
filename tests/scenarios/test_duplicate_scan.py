"""Scenario: the scanner reads the same card twice within a second (a bounce, or the
clerk holding it under the beam). The second read is ignored: one lookup, and after the
check-off no "already voted" scare. After the window the same card is a new scan."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from kiosk_servers import VOTERS, Misbehaving, RegisterServer
from scenario import kiosk, register_counts, scan
from valgkiosk.core.checkoff import Outcome
from valgkiosk.ui.testing import Rig, drive, seen, settle


def test_duplicate_scan_within_a_second_is_ignored(register: RegisterServer) -> None:
    kari = VOTERS["kari"].number
    with Misbehaving("ok", upstream=register.url) as proxy:

        def lookups() -> int:
            return sum(1 for path, _ in proxy.requests if path == "/v1/voters/lookup")

        async def script(rig: Rig, pilot: Pilot[Any]) -> None:
            rig.scanner.scan(kari)
            rig.clock.advance(0.3)
            rig.scanner.scan(kari)  # the same card again, 0.3 s later
            await settle(pilot)
            assert lookups() == 1 and "KARI PRØVESEN" in seen(rig)
            rig.clock.advance(0.4)
            await scan(rig, pilot, kari)  # still within a second of the last read
            assert lookups() == 1
            await pilot.press("enter")
            await settle(pilot)
            assert rig.app.shell.kiosk_state.outcome is Outcome.CHECKED_OFF
            rig.clock.advance(1.5)
            await scan(rig, pilot, kari)  # a real second scan: the register says so
            assert lookups() == 2 and "HAR STEMT FØR" in seen(rig)

        drive(script, kiosk(proxy.url, register.credential))
    assert register_counts(register.url, register.credential) == 1
