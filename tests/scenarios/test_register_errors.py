"""Scenario: the register answers 500, or nonsense (a captive portal's HTML, JSON of the
wrong shape), or drops the connection. Lookups say so plainly; a check-off whose answer
was lost is asked again with the same request id and recorded once."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from kiosk_servers import VOTERS, Misbehaving, RegisterServer
from scenario import kiosk, register_counts, scan
from valgkiosk.core.checkoff import Outcome, Phase
from valgkiosk.ui.testing import Rig, advance, drive, seen

MESSAGES = {
    "500": "serverfeil 500",
    "html": "svar kiosken ikke forstår",
    "wrong_json": "svar kiosken ikke forstår",
    "drop": "Får ikke kontakt",
}


@pytest.mark.parametrize("mode", list(MESSAGES))
def test_lookup_answered_badly(register: RegisterServer, mode: str) -> None:
    with Misbehaving("ok", upstream=register.url, plan={"/v1/voters/lookup": [mode]}) as proxy:

        async def script(rig: Rig, pilot: Pilot[Any]) -> None:
            await scan(rig, pilot, VOTERS["kari"].number)
            text = seen(rig)
            assert "MANNTALLET SVARER IKKE" in text and MESSAGES[mode] in text
            assert "Ingen er krysset av" in text

        drive(script, kiosk(proxy.url, register.credential))


@pytest.mark.parametrize("mode", list(MESSAGES))
def test_checkoff_answer_lost_is_resolved_once(register: RegisterServer, mode: str) -> None:
    plan = {"/v1/checkoffs": [mode, mode]}  # two bad answers in a row, then the real one
    with Misbehaving("ok", upstream=register.url, plan=plan) as proxy:

        async def script(rig: Rig, pilot: Pilot[Any]) -> None:
            await scan(rig, pilot, VOTERS["kari"].number)
            await pilot.press("enter")
            await advance(rig, pilot, 0)
            assert rig.app.shell.kiosk_state.phase is Phase.UNCERTAIN
            assert MESSAGES[mode] in seen(rig) and "KRYSSET AV" not in seen(rig).replace("IKKE BEKREFTET", "")
            await advance(rig, pilot, 2.0)
            assert rig.app.shell.kiosk_state.phase is Phase.UNCERTAIN and rig.app.shell.kiosk_state.attempts == 2
            await advance(rig, pilot, 2.0)
            assert rig.app.shell.kiosk_state.outcome is Outcome.CHECKED_OFF

        drive(script, kiosk(proxy.url, register.credential))
        sent = [body for path, body in proxy.requests if path == "/v1/checkoffs"]
        assert len(sent) == 3 and all(b == sent[0] for b in sent)
    assert register_counts(register.url, register.credential) == 1
