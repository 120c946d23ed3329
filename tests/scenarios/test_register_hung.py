"""Scenario: the register hangs. Its process is stopped (SIGSTOP) with its socket open, so
the kernel still accepts TCP connections but nothing answers. A ready voter was confirmed
just before: the table must not be trapped. Esc leaves the unanswered check-off, which goes
on in the background with the same request id while every screen says it is not confirmed;
the watchdog's real probes (TCP connect and /healthz on loopback) declare the outage; the
chair's F5 and the caretaker's F6 work; when the process runs again, the background retry
gets the answer, the clerk is told, and the voter is recorded once."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest
from textual.pilot import Pilot

from kiosk_servers import VOTERS, RegisterServer
from scenario import TIMINGS, lookup_verdict, register_counts, scan
from valgkiosk.core import outage
from valgkiosk.core.checkoff import Phase
from valgkiosk.drivers.network import NetworkProbes
from valgkiosk.register_client import HttpRegister
from valgkiosk.ui.emergency import EmergencyScreen, PinScreen
from valgkiosk.ui.screens import CaretakerScreen, IdleScreen
from valgkiosk.ui.testing import DEMO_PIN, Rig, advance, drive, make_rig, probe, seen, settle, type_text

pytestmark = pytest.mark.timeout(180)
DETECTOR = outage.Timings(tcp_timeout=1.0, health_timeout=1.0)


def test_a_hung_register_does_not_trap_the_table(register: RegisterServer) -> None:
    kari = VOTERS["kari"]
    probes = NetworkProbes(register.url, interface=None, check_gateway=False, timings=DETECTOR)
    rig = make_rig(register=HttpRegister(register.url, register.credential, timeout=TIMINGS.register_timeout),
                   timings=TIMINGS, connectivity=probes, outage_timings=DETECTOR)
    probes._now = rig.clock.now  # the rounds' times come from the rig's clock
    assert register.proc is not None
    pid = register.proc.pid

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await probe(rig, pilot, 2)
        await scan(rig, pilot, kari.number)
        assert "KARI PRØVESEN" in seen(rig)
        os.kill(pid, signal.SIGSTOP)  # hung: the socket stays open, nothing answers
        try:
            await pilot.press("enter")
            await settle(pilot)  # the check-off times out (the answer may still come)
            assert rig.app.shell.kiosk_state.phase is Phase.UNCERTAIN
            assert "AVKRYSNINGEN ER IKKE BEKREFTET" in seen(rig) and "Esc" in seen(rig)
            await pilot.press("escape")
            await settle(pilot)
            text = seen(rig)
            assert isinstance(rig.app.screen, IdleScreen) and "PRØVESEN" not in text.upper()
            assert "IKKE BEKREFTET" in text and "Ikke stemple" in text
            [left] = rig.app.shell.kiosk_state.unresolved
            assert left.request_id == rig.request_ids[0]
            await probe(rig, pilot, DETECTOR.fail_after)
            assert "MANNTALLET KAN IKKE NÅS" in seen(rig)
            assert "SKANN VALGKORT" not in seen(rig) and "F2" not in seen(rig)  # the alarm is the headline
            await pilot.press("f6")
            await settle(pilot)
            assert isinstance(rig.app.screen, CaretakerScreen)
            await pilot.press("f6")
            await settle(pilot)
            await pilot.press("f5")
            await settle(pilot)
            assert isinstance(rig.app.screen, PinScreen)
            await type_text(pilot, DEMO_PIN)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(rig.app.screen, EmergencyScreen) and "IKKE BEKREFTET" in seen(rig)
            await advance(rig, pilot, TIMINGS.retry_interval)  # asked again in the background: times out
            assert rig.app.shell.kiosk_state.unresolved and rig.app.shell.kiosk_state.unresolved[0].attempts >= 1
        finally:
            os.kill(pid, signal.SIGCONT)
        for _ in range(5):
            await advance(rig, pilot, TIMINGS.retry_interval)
            if not rig.app.shell.kiosk_state.unresolved:
                break
        assert rig.app.shell.kiosk_state.unresolved == ()
        assert "ER krysset av" in seen(rig) and "IKKE BEKREFTET" not in seen(rig)
        assert set(rig.request_ids) == {left.request_id}
        kinds = [e.kind for e in rig.app.shell.journal.entries()]
        assert kinds.count("checkoff_unresolved") == kinds.count("checkoff_resolved") == 1

    drive(script, rig)
    assert register_counts(register.url, register.credential) == 1
    assert lookup_verdict(register.url, register.credential, kari.number) == "already_voted"
