"""Scenario: the register is down (a stopped server). The clerk is told plainly; bad
cards are still answered; a check-off sent into the outage is resolved with the same
request id once the register is back, and recorded once."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from kiosk_servers import VOTERS, RegisterServer
from scenario import kiosk, lookup_verdict, register_counts, scan
from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.core.checkoff import Outcome, Phase
from valgkiosk.ui.testing import Rig, advance, drive, seen


def test_lookup_while_down_then_back(register: RegisterServer) -> None:
    kari = VOTERS["kari"]

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        register.stop()
        await scan(rig, pilot, kari.number)
        text = seen(rig)
        assert "MANNTALLET SVARER IKKE" in text and "Får ikke kontakt med manntallet" in text
        assert "Ingen er krysset av" in text and "stemmestyrets leder" in text
        rig.clock.advance(2)
        await scan(rig, pilot, mnr.make(1001, 2021).digits)  # last election's card: answered on the kiosk
        assert "VALGKORT FRA ET ANNET VALG" in seen(rig)
        register.start()
        rig.clock.advance(2)
        await scan(rig, pilot, kari.number)
        assert "KARI PRØVESEN" in seen(rig)

    drive(script, kiosk(register.url, register.credential))


def test_checkoff_into_an_outage_is_resolved_with_the_same_request_id(register: RegisterServer) -> None:
    kari = VOTERS["kari"]

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await scan(rig, pilot, kari.number)
        register.stop()
        await pilot.press("enter")
        await pilot.pause()
        await advance(rig, pilot, 0)
        assert rig.app.shell.kiosk_state.phase is Phase.UNCERTAIN
        text = seen(rig)
        assert "AVKRYSNINGEN ER IKKE BEKREFTET" in text and "Ikke stemple ennå" in text
        for _ in range(3):  # the register stays down: it keeps asking, with the same id
            await advance(rig, pilot, 2.0)
            assert rig.app.shell.kiosk_state.phase is Phase.UNCERTAIN
            assert rig.app.shell.kiosk_state.request_id == rig.request_ids[0]
        assert rig.app.shell.kiosk_state.attempts == 4
        register.start()
        await advance(rig, pilot, 2.0)
        assert rig.app.shell.kiosk_state.outcome is Outcome.CHECKED_OFF
        assert "✔ KRYSSET AV" in seen(rig) and "Stemple stemmeseddelen" in seen(rig)
        assert len(rig.request_ids) == 1

    drive(script, kiosk(register.url, register.credential))
    assert register_counts(register.url, register.credential) == 1
    assert lookup_verdict(register.url, register.credential, kari.number) == "already_voted"
