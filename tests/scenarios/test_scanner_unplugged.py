"""Scenario: the scanner is unplugged in the middle of serving a voter. The banner says
so on every screen, the voter in hand can still be checked off, a read while unplugged
is lost (never half a number), and scanning works again after replug."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from kiosk_servers import VOTERS, Misbehaving, RegisterServer
from scenario import kiosk, register_counts, scan
from valgkiosk.core.checkoff import Outcome, Phase
from valgkiosk.ui.testing import Rig, drive, seen, settle


def test_unplugged_mid_scan(register: RegisterServer) -> None:
    with Misbehaving("ok", upstream=register.url) as proxy:

        def lookups() -> int:
            return sum(1 for path, _ in proxy.requests if path == "/v1/voters/lookup")

        async def script(rig: Rig, pilot: Pilot[Any]) -> None:
            await scan(rig, pilot, VOTERS["kari"].number)
            rig.scanner.unplug()
            await settle(pilot)
            text = seen(rig)
            assert "SKANNEREN ER FRAKOBLET" in text and "KARI PRØVESEN" in text
            rig.clock.advance(2)
            rig.scanner.scan(VOTERS["nils"].number)  # the cable is out: this read is lost
            await settle(pilot)
            assert lookups() == 1 and rig.app.shell.kiosk_state.phase is Phase.CONFIRMING
            await pilot.press("enter")  # the voter in hand is still checked off
            await settle(pilot)
            assert rig.app.shell.kiosk_state.outcome is Outcome.CHECKED_OFF and "SKANNEREN ER FRAKOBLET" in seen(rig)
            rig.scanner.replug()
            await settle(pilot)
            assert "SKANNEREN ER FRAKOBLET" not in seen(rig)
            rig.clock.advance(2)
            await scan(rig, pilot, VOTERS["nils"].number)
            assert "NILS TESTESEN" in seen(rig) and lookups() == 2

        drive(script, kiosk(proxy.url, register.credential))
    assert register_counts(register.url, register.credential) == 1
