"""Scenario: a real outage. The register process is stopped while the kiosk's real
network probes (TCP connect and /healthz on loopback) watch it; the kiosk sounds the
alarm, the chair starts the routine, a vote is counted, the register is started again,
the chair ends the routine and the vote reaches the register once. The rounds are paced
by the manual clock (one probe interval each); every probe is real network traffic."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from textual.pilot import Pilot

from kiosk_servers import VOTERS, RegisterServer
from scenario import TIMINGS
from valgkiosk.core import outage
from valgkiosk.drivers.network import NetworkProbes
from valgkiosk.ports.indicators import AlarmMode
from valgkiosk.register_client import HttpRegister
from valgkiosk.ui.emergency import EmergencyScreen
from valgkiosk.ui.screens import IdleScreen
from valgkiosk.ui.testing import Rig, drive, make_rig, probe, seen, settle

pytestmark = pytest.mark.timeout(120)
DETECTOR = outage.Timings(tcp_timeout=1.0, health_timeout=2.0)  # generous: CI machines are slow


def emergency_votes(register: RegisterServer) -> int:
    answer = httpx.get(register.url + "/v1/counts", headers={"Authorization": f"Bearer {register.credential}"},
                       timeout=5).json()
    return sum(t["emergency_votes"] for t in answer["tables"])


def test_register_stopped_and_started_again(register: RegisterServer) -> None:
    from tests.ui.test_emergency import enter_pin, one_voter

    probes = NetworkProbes(register.url, interface=None, check_gateway=False, timings=DETECTOR)
    rig = make_rig(register=HttpRegister(register.url, register.credential, timeout=TIMINGS.register_timeout),
                   timings=TIMINGS, connectivity=probes, outage_timings=DETECTOR)
    probes._now = rig.clock.now  # the rounds' times come from the rig's clock

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await probe(rig, pilot, 3)
        assert rig.app.shell.station.state.reachable and "ALARM" not in seen(rig)
        register.stop()
        await probe(rig, pilot, DETECTOR.fail_after)
        assert "ALARM: MANNTALLET KAN IKKE NÅS" in seen(rig)
        assert rig.gpio is not None and rig.gpio.indicators.modes[2] is AlarmMode.ALARM
        [start] = [e.data for e in rig.app.shell.journal.entries() if e.kind == "outage_start"]
        assert start["layer"] == "TCP" and "Manntallet kan ikke nås over nettet" in start["diagnosis"]
        await pilot.press("f3")
        await enter_pin(pilot)
        assert isinstance(rig.app.screen, EmergencyScreen)
        await one_voter(rig, pilot, VOTERS["kari"].number)
        assert rig.app.shell.station.state.vote_count == 1
        register.start()
        await probe(rig, pilot, DETECTOR.recover_after)
        assert "MANNTALLET ER TILBAKE" in seen(rig)
        await enter_pin(pilot)
        await settle(pilot, 6)
        assert isinstance(rig.app.screen, IdleScreen) and emergency_votes(register) == 1
        assert rig.app.shell.station.state.pending == ()
        kinds = [e.kind for e in rig.app.shell.journal.entries()]
        assert kinds.count("outage_start") == kinds.count("outage_end") == 1
        assert [k for k in kinds if k.startswith("emergency")] == [
            "emergency_start", "emergency_vote", "emergency_end", "emergency_upload"]
        assert rig.app.shell.journal.verify() == []

    drive(script, rig)
