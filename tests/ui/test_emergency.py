"""The watchdog, the alarm and the emergency routine, driven through the real app with
Textual's pilot: simulated probes on the rig's clock, the simulated caretaker box's LEDs
and buzzer (gpiozero MockFactory pins), and the in-memory loggbok."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from valgkiosk.core import outage
from valgkiosk.core.outage import Layer
from valgkiosk.journal import MemoryJournal
from valgkiosk.ports.indicators import AlarmMode, LedMode
from valgkiosk.ui.emergency import EmergencyScreen, LogScreen, PinScreen
from valgkiosk.ui.screens import IdleScreen
from valgkiosk.ui.testing import DEMO_PIN, Rig, drive, make_rig, probe, seen, settle, settle_power, type_text

FAIL_AFTER, RECOVER_AFTER = outage.Timings().fail_after, outage.Timings().recover_after


def kinds(rig: Rig) -> list[str]:
    return [e.kind for e in rig.app.shell.journal.entries()]


def entries(rig: Rig, kind: str) -> list[dict[str, Any]]:
    return [dict(e.data) for e in rig.app.shell.journal.entries() if e.kind == kind]


def outputs(rig: Rig) -> tuple[LedMode, LedMode, AlarmMode]:
    assert rig.gpio is not None
    return rig.gpio.indicators.modes


async def cut_router(rig: Rig, pilot: Pilot[Any]) -> None:
    """The router loses power: its supply sense line drops and the uplink goes dark."""
    assert rig.gpio is not None and rig.network is not None
    await settle_power(rig, pilot)
    rig.gpio.cut_router()
    rig.network.cut_link()
    await settle_power(rig, pilot)
    await probe(rig, pilot, FAIL_AFTER)


async def enter_pin(pilot: Pilot[Any], pin: str = DEMO_PIN) -> None:
    await pilot.press("f5")
    await settle(pilot)
    await type_text(pilot, pin)
    await pilot.press("enter")
    await settle(pilot)


async def one_voter(rig: Rig, pilot: Pilot[Any], card: str) -> None:
    rig.scanner.scan(card)
    await settle(pilot)
    for _ in range(4):  # stamp, envelope, orange envelope, urn
        await pilot.press("enter")
        await settle(pilot)


def test_one_lost_round_is_no_alarm_but_the_network_led_blinks() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        assert rig.network is not None
        await probe(rig, pilot, 2)
        assert outputs(rig)[1] is LedMode.ON
        rig.network.cut_gateway()
        await probe(rig, pilot, FAIL_AFTER - 1)
        assert outputs(rig)[1] is LedMode.FAST_BLINK and outputs(rig)[2] is AlarmMode.QUIET
        assert "ALARM" not in seen(rig) and "outage_start" not in kinds(rig)
        rig.network.restore_gateway()
        await probe(rig, pilot)
        assert outputs(rig)[1] is LedMode.ON

    drive(script)


def test_router_power_cut_sounds_the_alarm_and_the_log_names_the_router() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await cut_router(rig, pilot)
        text = seen(rig)
        assert "ALARM: MANNTALLET KAN IKKE NÅS" in text and "Si fra til stemmestyrets leder" in text
        assert "nettkabelen" in text and "F3 Kvitter alarm" in text
        assert outputs(rig)[1:] == (LedMode.OFF, AlarmMode.ALARM)
        assert rig.gpio is not None and rig.gpio.indicators.is_on is not None
        [start] = entries(rig, "outage_start")
        assert start["layer"] == "LINK" and start["power"]["router"] is False and start["power"]["mains"] is True
        # the caretaker's screen points at the router too
        await pilot.press("f6")
        await settle(pilot)
        assert "Sjekk strømmen til ruteren" in seen(rig)
        assert "ALARM" in seen(rig)  # the banner is on every screen

    drive(script)


def test_acknowledge_silences_the_buzzer_not_the_banner() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await cut_router(rig, pilot)
        await pilot.press("f3")
        await settle(pilot)
        assert outputs(rig)[2] is AlarmMode.ACKNOWLEDGED
        assert "Alarmen er kvittert" in seen(rig) and "MANNTALLET KAN IKKE NÅS" in seen(rig)
        assert kinds(rig).count("alarm_acknowledged") == 1
        await pilot.press("f3")  # nothing left to acknowledge
        await settle(pilot)
        assert kinds(rig).count("alarm_acknowledged") == 1

    drive(script)


def test_a_wrong_pin_is_refused_and_logged_and_the_lockout_follows() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await enter_pin(pilot, "9999")
        assert isinstance(rig.app.screen, PinScreen) and "Feil PIN-kode" in seen(rig)
        assert not rig.app.shell.station.state.emergency
        for _ in range(4):
            await type_text(pilot, "0000")
            await pilot.press("enter")
            await settle(pilot)
        assert "vent 60 sekunder" in seen(rig)
        await type_text(pilot, DEMO_PIN)  # even the right PIN waits out the lock-out
        await pilot.press("enter")
        await settle(pilot)
        assert not rig.app.shell.station.state.emergency and "Prøv igjen om" in seen(rig)
        rig.clock.advance(61)
        await type_text(pilot, DEMO_PIN)
        await pilot.press("enter")
        await settle(pilot)
        assert rig.app.shell.station.state.emergency and isinstance(rig.app.screen, EmergencyScreen)
        assert kinds(rig).count("pin_refused") == 5
        assert DEMO_PIN not in str([e.data for e in rig.app.shell.journal.entries()])

    drive(script)


def test_the_whole_routine_from_alarm_to_upload() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        assert rig.network is not None
        await cut_router(rig, pilot)
        await enter_pin(pilot)
        assert isinstance(rig.app.screen, EmergencyScreen) and outputs(rig)[2] is AlarmMode.ACKNOWLEDGED
        assert "BEREDSKAPSRUTINE" in seen(rig) and "Beredskapsstemmer ved dette bordet: 0" in seen(rig)
        # a voter with a valgkort: scanned, four steps, counted
        card = rig.card("Klar til avkrysning")
        await one_voter(rig, pilot, card)
        assert "Beredskapsstemme nr. 1 er talt" in seen(rig)
        # the same card again is refused
        rig.scanner.scan(card)
        await settle(pilot)
        assert "allerede registrert som beredskapsstemme" in seen(rig)
        # a garbled barcode
        rig.scanner.scan("12345")
        await settle(pilot)
        assert "12 sifre" in seen(rig)
        # a voter without a valgkort: the manual valgkort, printed, then the steps
        await pilot.press("m")
        await settle(pilot)
        assert "Manuelt valgkort" in seen(rig)
        await type_text(pilot, "Kari Nordmann")
        await pilot.press("tab")
        await type_text(pilot, "01.02.1980")
        await pilot.press("tab")
        await type_text(pilot, "Storgata 1")
        await pilot.press("enter")
        await settle(pilot)
        assert rig.app.shell.walk.step == 3 and rig.printer is not None and len(rig.printer.printed) == 1
        assert "Kari Nordmann" in "\n".join(b.text for b in rig.printer.printed[0].blocks if hasattr(b, "text"))
        assert "sendt til skriveren" in seen(rig)
        for _ in range(4):
            await pilot.press("enter")
            await settle(pilot)
        assert rig.app.shell.station.state.vote_count == 2
        # the register comes back: the kiosk says so; the chair ends the routine; the votes go up once
        rig.network.restore_link()
        assert rig.gpio is not None
        rig.gpio.restore_router()
        await probe(rig, pilot, RECOVER_AFTER)
        assert "MANNTALLET ER TILBAKE" in seen(rig)
        await enter_pin(pilot)
        await settle(pilot)
        assert isinstance(rig.app.screen, IdleScreen)
        assert "2 beredskapsstemmer er overført" in seen(rig)
        assert len(rig.register.emergency_votes) == 2
        # the upload carried the loggbok's head as it was just before the upload's own entry
        sent = rig.register.chain_heads[-1]
        upload_entry = [e for e in rig.app.shell.journal.entries() if e.kind == "emergency_upload"][-1]
        assert (sent.count, sent.hash) == (upload_entry.seq - 1, upload_entry.prev)
        assert outputs(rig)[2] is AlarmMode.QUIET
        log = kinds(rig)
        for kind in ("outage_start", "emergency_start", "emergency_vote", "manual_valgkort", "outage_end",
                     "emergency_end", "emergency_upload"):
            assert kind in log, kind
        votes = entries(rig, "emergency_vote")
        assert votes[0]["manntallsnummer"] == card and votes[1] == {**votes[1], "manntallsnummer": None,
                                                                    "manual_valgkort": True}
        assert "Kari" not in str([e.data for e in rig.app.shell.journal.entries()])  # never names in the log
        assert rig.app.shell.journal.verify() == []

    drive(script, make_rig(printer=True))  # the manual valgkort is logged once the printer took it


def test_an_upload_that_fails_is_retried_once_the_register_answers() -> None:
    from valgkiosk.ports.register import RegisterUnreachable

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await enter_pin(pilot)
        await one_voter(rig, pilot, rig.card("Klar til avkrysning"))
        rig.register.fail_next(RegisterUnreachable("borte"))
        await enter_pin(pilot)
        await settle(pilot)
        assert "1 beredskapsstemmer er ikke overført" in seen(rig) and not rig.register.emergency_votes
        await probe(rig, pilot)  # too soon: the retry waits
        rig.clock.advance(10)
        await probe(rig, pilot)
        await settle(pilot)
        assert len(rig.register.emergency_votes) == 1 and "ikke overført" not in seen(rig)

    drive(script)


def test_restart_comes_back_in_the_routine_with_the_same_count() -> None:
    journal = MemoryJournal()

    async def before(rig: Rig, pilot: Pilot[Any]) -> None:
        await cut_router(rig, pilot)
        await enter_pin(pilot)
        await one_voter(rig, pilot, rig.card("Klar til avkrysning"))

    drive(before, make_rig(journal=journal))

    async def after(rig: Rig, pilot: Pilot[Any]) -> None:
        assert isinstance(rig.app.screen, EmergencyScreen)
        assert "Beredskapsstemmer ved dette bordet: 1" in seen(rig)
        assert "manntallet kan ikke nås" in seen(rig)  # the outage is still on, until probes say otherwise
        assert rig.network is not None
        await probe(rig, pilot, RECOVER_AFTER)
        [end] = entries(rig, "outage_end")
        assert end["layer"] == "LINK"

    drive(after, make_rig(journal=journal))
    assert journal.verify() == []


def test_the_log_screen_lists_the_outage_and_the_chain() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        assert rig.network is not None
        await cut_router(rig, pilot)
        rig.clock.advance(300)
        rig.network.restore_link()
        await probe(rig, pilot, RECOVER_AFTER)
        await pilot.press("f11")
        await settle(pilot)
        assert isinstance(rig.app.screen, LogScreen)
        text = seen(rig)
        assert "kjeden er intakt" in text and "5 min" in text and "█" in text
        assert "Brudd i forbindelsen til manntallet" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, IdleScreen)

    drive(script)


def test_the_chair_cannot_interrupt_a_check_off() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.scan(rig.card("Klar til avkrysning"))
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert not isinstance(rig.app.screen, PinScreen) and "Fullfør eller avbryt" in seen(rig)

    drive(script)


@pytest.mark.parametrize("layer", [Layer.GATEWAY, Layer.TCP])
def test_the_banner_names_the_failing_layer(layer: Layer) -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        assert rig.network is not None
        rig.network.fail_layer(layer)
        await probe(rig, pilot, FAIL_AFTER)
        assert outage.DIAGNOSIS_NB[layer][:40] in seen(rig)
        assert entries(rig, "outage_start")[0]["layer"] == layer.name

    drive(script)
