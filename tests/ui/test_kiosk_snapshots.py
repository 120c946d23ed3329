"""Snapshot tests: every screen of the kiosk, at the size of the Pi's console, with the
clock, the register's times and the request ids all fixed. Update deliberately with
``pytest tests/ui --snapshot-update`` and look at the SVGs before committing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from textual.pilot import Pilot

from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.core.outage import Layer
from valgkiosk.ports.register import RegisterRefused
from valgkiosk.ui import screens
from valgkiosk.ui.app import ConfigErrorApp
from valgkiosk.ui.status import NetworkLayers
from valgkiosk.ui.testing import SIZE, Rig, make_rig, settle, settle_power

Steps = Callable[[Rig, Pilot[Any]], Awaitable[None]]


def scanning(label: str, *keys: str) -> Steps:
    async def steps(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.scan(rig.card(label))
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)

    return steps


async def nothing(rig: Rig, pilot: Pilot[Any]) -> None:
    pass


async def unplugged(rig: Rig, pilot: Pilot[Any]) -> None:
    rig.scanner.unplug()
    await settle(pilot)


async def looking_up(rig: Rig, pilot: Pilot[Any]) -> None:
    rig.register.delay = 60.0
    rig.scanner.scan(rig.card("Klar til avkrysning"))
    await pilot.pause(screens.BUSY_GRACE + 0.05)  # the wait is shown once the grace is over
    for _ in range(3):
        await pilot.pause()


async def register_down(rig: Rig, pilot: Pilot[Any]) -> None:
    rig.register.down = True
    await scanning("Klar til avkrysning")(rig, pilot)


async def uncertain(rig: Rig, pilot: Pilot[Any]) -> None:
    await scanning("Klar til avkrysning")(rig, pilot)
    rig.register.down = True
    await pilot.press("enter")
    await settle(pilot)


async def refused(rig: Rig, pilot: Pilot[Any]) -> None:
    await scanning("Klar til avkrysning")(rig, pilot)
    rig.register.fail_next(RegisterRefused("Forespørsels-id er brukt for en annen velger.", status=409,
                                           code="request_id_conflict"))
    await pilot.press("enter")
    await settle(pilot)


async def search_form(rig: Rig, pilot: Pilot[Any]) -> None:
    await pilot.press("f2")
    await settle(pilot)


async def search_results(rig: Rig, pilot: Pilot[Any]) -> None:
    kari = rig.register.voters[rig.card("Klar til avkrysning")].voter
    rig.register.add(replace(kari, manntallsnummer=mnr.make(2000, 2025).digits, navn="Kari Prøvesen Olsen"))
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press("tab", *"Kari", "tab", *"1.4.1980", "enter")
    await settle(pilot)


async def misreg_confirm(rig: Rig, pilot: Pilot[Any]) -> None:
    await scanning("Klar til avkrysning", "enter", "f4")(rig, pilot)


async def misreg_reported(rig: Rig, pilot: Pilot[Any]) -> None:
    await scanning("Klar til avkrysning", "enter", "f4", "enter")(rig, pilot)


async def dev_dock(rig: Rig, pilot: Pilot[Any]) -> None:
    await pilot.press("f12", "1", "2", "3")
    await settle(pilot)


async def search_problem(rig: Rig, pilot: Pilot[Any]) -> None:
    rig.register.down = True
    await pilot.press("f2")
    await settle(pilot)
    await pilot.press(*"01018012345", "enter")
    await settle(pilot)


async def caretaker_all_good(rig: Rig, pilot: Pilot[Any]) -> None:
    await settle_power(rig, pilot)
    rig.app.shell.set_network_status(NetworkLayers.after_round(None))
    await pilot.press("f6")
    await settle(pilot)


async def caretaker_router_cut(rig: Rig, pilot: Pilot[Any]) -> None:
    assert rig.gpio is not None
    await settle_power(rig, pilot)
    rig.gpio.cut_router()
    await settle_power(rig, pilot)
    rig.app.shell.set_network_status(NetworkLayers.after_round(Layer.LINK))  # the cable to the router is dead too
    await pilot.press("f6")
    await settle(pilot)


async def caretaker_unknown(rig: Rig, pilot: Pilot[Any]) -> None:
    """Just started: no input has held for the stable time, no probe has reported."""
    await pilot.press("f6")
    await settle(pilot)


SCREENS: dict[str, Steps] = {
    "idle": nothing,
    "idle_scanner_unplugged": unplugged,
    "looking_up": looking_up,
    "confirm": scanning("Klar til avkrysning"),
    "confirm_sami": scanning("Samisk manntall"),
    "checked_off": scanning("Klar til avkrysning", "enter"),
    "checked_off_sami": scanning("Samisk manntall", "enter"),
    "already_voted": scanning("Har stemt før"),
    "already_voted_misregistered": scanning("Stemt før, feilregistrert"),
    "not_in_register": scanning("Ikke i manntallet"),
    "other_station": scanning("Annet valglokale"),
    "other_municipality": scanning("Annen kommune"),
    "other_election": scanning("Valgkort fra forrige valg"),
    "invalid_barcode": scanning("Feil kontrollsiffer"),
    "lookup_failed": register_down,
    "checkoff_uncertain": uncertain,
    "checkoff_refused": refused,
    "search_form": search_form,
    "search_results": search_results,
    "search_register_down": search_problem,
    "misregistration_confirm": misreg_confirm,
    "misregistration_reported": misreg_reported,
    "dev_dock": dev_dock,
    "caretaker_all_good": caretaker_all_good,
    "caretaker_router_cut": caretaker_router_cut,
    "caretaker_unknown": caretaker_unknown,
}


@pytest.mark.parametrize("name", list(SCREENS))
def test_screen(name: str, snap_compare: Any) -> None:
    rig = make_rig()
    steps = SCREENS[name]

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await steps(rig, pilot)

    assert snap_compare(rig.app, terminal_size=SIZE, run_before=run_before)


def test_config_error_screen(snap_compare: Any) -> None:
    app = ConfigErrorApp(
        "/etc/valgkiosk/station.toml",
        [
            "/etc/valgkiosk/station.toml: nøkkelen «station.bord» må være et heltall (uten anførselstegn).",
            "/etc/valgkiosk/station.toml: nøkkelen «register.url» mangler.",
        ],
    )
    assert snap_compare(app, terminal_size=SIZE)
