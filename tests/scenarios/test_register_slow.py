"""Scenario: the register answers after the kiosk's timeout. A slow lookup is reported
plainly; a slow check-off (recorded, but the answer comes too late) is asked again with
the same request id and shown as checked off, recorded once."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from kiosk_servers import VOTERS, Misbehaving, RegisterServer
from scenario import kiosk, register_counts, scan
from valgkiosk.core.checkoff import Outcome, Phase
from valgkiosk.ui.testing import Rig, advance, drive, seen


def test_slow_lookup_times_out_plainly(register: RegisterServer) -> None:
    with Misbehaving("ok", upstream=register.url, delay=5.0,
                     plan={"/v1/voters/lookup": ["slow"]}) as proxy:  # fmt: skip

        async def script(rig: Rig, pilot: Pilot[Any]) -> None:
            await scan(rig, pilot, VOTERS["kari"].number)
            text = seen(rig)
            assert "MANNTALLET SVARER IKKE" in text and "svarte ikke i tide" in text
            rig.clock.advance(2)
            await scan(rig, pilot, VOTERS["kari"].number)  # the proxy is fast again
            assert "KARI PRØVESEN" in seen(rig)

        drive(script, kiosk(proxy.url, register.credential))


def test_slow_checkoff_is_resolved_with_the_same_request_id(register: RegisterServer) -> None:
    with Misbehaving("ok", upstream=register.url, delay=5.0, plan={"/v1/checkoffs": ["slow"]}) as proxy:

        async def script(rig: Rig, pilot: Pilot[Any]) -> None:
            await scan(rig, pilot, VOTERS["kari"].number)
            await pilot.press("enter")
            await advance(rig, pilot, 0)
            assert rig.app.shell.kiosk_state.phase is Phase.UNCERTAIN
            assert "svarte ikke i tide" in seen(rig) and "Ikke stemple ennå" in seen(rig)
            await advance(rig, pilot, 2.0)
            assert rig.app.shell.kiosk_state.outcome is Outcome.CHECKED_OFF  # not "already voted"
            assert "✔ KRYSSET AV" in seen(rig)

        drive(script, kiosk(proxy.url, register.credential))
        sent = [body for path, body in proxy.requests if path == "/v1/checkoffs"]
        assert len(sent) == 2 and sent[0] == sent[1]  # the same request id both times
    assert register_counts(register.url, register.credential) == 1
