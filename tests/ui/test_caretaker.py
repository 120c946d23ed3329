"""Pilot tests of the caretaker's screen: F6 opens and closes it (never during a
check-off), power comes from the simulated caretaker box on the rig's clock, network
layers from ``set_network_status`` (unknown until a probe reports)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from valgkiosk.core.outage import Layer
from valgkiosk.ports.power import PowerSource
from valgkiosk.journal import MemoryJournal
from valgkiosk.ui import screens
from valgkiosk.ui.app import CARETAKER_REFUSED
from valgkiosk.ui.status import NetworkLayers
from valgkiosk.ui.testing import Rig, drive, make_rig, seen, settle, settle_power



def state(rig: Rig, key: str) -> tuple[str, set[str]]:
    """The words of one row and its tone classes."""
    widget = rig.app.screen.query_one(f"#status-{key}")
    return str(widget.render()).strip(), set(widget.classes)


async def open_caretaker(pilot: Pilot[Any]) -> None:
    await pilot.press("f6")
    await settle(pilot)


def test_f6_opens_the_caretaker_screen_and_f6_or_esc_closes_it() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        assert "F6 Vaktmester" in seen(rig)
        await open_caretaker(pilot)
        assert isinstance(rig.app.screen, screens.CaretakerScreen)
        text = seen(rig)
        for words in ("VAKTMESTER", "Strøm til kiosken", "Strøm til ruteren", "Strøm til SIMULA-boksen",
                      "Nettverkskabel", "Ruter", "Navneoppslag", "Manntallet", "NESTE"):
            assert words in text, words
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.IdleScreen)
        await open_caretaker(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.IdleScreen)
        assert "SKANN VALGKORT" in seen(rig)

    drive(script)


def test_f6_from_an_outcome_and_back_to_it() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.scan(rig.card("Har stemt før"))
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.OutcomeScreen)
        await open_caretaker(pilot)
        assert isinstance(rig.app.screen, screens.CaretakerScreen)
        assert "HAR STEMT FØR" not in seen(rig)  # the voter's outcome is not shown to the caretaker
        await pilot.press("escape")  # closes the caretaker's screen, does not end the outcome
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.OutcomeScreen)
        assert "HAR STEMT FØR" in seen(rig)

    drive(script)


def test_f6_is_refused_during_a_check_off() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        rig.scanner.scan(rig.card("Klar til avkrysning"))
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.ConfirmScreen)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.ConfirmScreen)
        assert CARETAKER_REFUSED in seen(rig)
        await pilot.press("enter")  # the check-off goes on as if nothing happened
        await settle(pilot)
        assert "KRYSSET AV" in seen(rig) and rig.register.checkoff_count == 1
        assert CARETAKER_REFUSED not in seen(rig)
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f6")  # the search form is a check-off under way too
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.SearchScreen)

    drive(script)


def test_a_scan_on_the_caretaker_screen_goes_back_to_the_check_off() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await open_caretaker(pilot)
        rig.scanner.scan(rig.card("Klar til avkrysning"))
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.ConfirmScreen)
        await pilot.press("enter", "escape")
        await settle(pilot)
        assert isinstance(rig.app.screen, screens.IdleScreen)  # not back to the caretaker's screen

    drive(script)


def test_power_is_unknown_until_stable_then_all_good() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await open_caretaker(pilot)
        assert state(rig, "router") == ("?  ukjent", {"status-state", "-unknown"})
        await settle_power(rig, pilot)
        for key in ("mains", "router", "simula"):
            words, classes = state(rig, key)
            assert words.startswith("✔") and "-ok" in classes, (key, words)
        assert state(rig, "mains")[0] == "✔  Strømnett"
        assert state(rig, "link") == ("?  ukjent", {"status-state", "-unknown"})  # no probe data yet
        assert "Ingen feil er målt" in seen(rig)

    drive(script)


def test_router_power_cut_points_the_caretaker_at_the_router_and_back() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        assert rig.gpio is not None
        await settle_power(rig, pilot)
        await open_caretaker(pilot)
        rig.gpio.cut_router()
        await settle(pilot)
        rig.clock.advance(0.2)  # shorter than the stable time: nothing changes yet
        rig.gpio.sensors.poll()
        await settle(pilot)
        assert state(rig, "router")[0] == "✔  Har strøm"
        await settle_power(rig, pilot)
        words, classes = state(rig, "router")
        assert words == "✖  Ingen strøm" and "-bad" in classes
        assert rig.app.shell.power_states[PowerSource.ROUTER] is False
        text = seen(rig)
        assert "NESTE: Sjekk strømmen til ruteren." in text and "Ruteren har ikke strøm." in text
        assert "-warn" in rig.app.screen.query_one("#next-check").classes
        rig.gpio.restore_router()
        await settle_power(rig, pilot)
        words, classes = state(rig, "router")
        assert words == "✔  Har strøm" and "-ok" in classes
        assert "Sjekk strømmen til ruteren" not in seen(rig)

    drive(script)


def test_power_changes_reach_the_loggbok() -> None:
    journal = MemoryJournal()
    rig = make_rig(journal=journal)

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        assert rig.gpio is not None
        await settle_power(rig, pilot)
        rig.gpio.cut_router()
        await settle_power(rig, pilot)

    drive(script, rig)
    power = [e.data for e in journal.entries() if e.kind == "power"]
    assert {"source": "router", "present": False, "previous": True} in power
    assert {"source": "mains", "present": True, "previous": None} in power


def test_network_layers_come_in_through_one_method() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await settle_power(rig, pilot)
        await open_caretaker(pilot)
        rig.app.shell.set_network_status(NetworkLayers.after_round(None))
        await settle(pilot)
        for key, words in (("link", "Tilkoblet"), ("gateway", "Svarer"), ("dns", "Virker"), ("register", "Svarer")):
            assert state(rig, key)[0] == f"✔  {words}"
        assert "Ingenting å sjekke nå" in seen(rig)
        rig.app.shell.set_network_status(NetworkLayers.after_round(Layer.DNS))
        await settle(pilot)
        assert state(rig, "gateway")[0] == "✔  Svarer"
        assert state(rig, "dns")[0] == "✖  Feiler"
        assert state(rig, "register")[0] == "?  ukjent"  # not tried above the failing layer
        assert "Ring valgtelefonen" in seen(rig)
        rig.app.shell.set_network_status(NetworkLayers.unknown())
        await settle(pilot)
        assert state(rig, "link")[0] == "?  ukjent"

    drive(script)


def test_without_sensors_everything_is_unknown_and_nothing_is_claimed() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await open_caretaker(pilot)
        for key in ("mains", "router", "simula", "link", "gateway", "dns", "register"):
            assert state(rig, key) == ("?  ukjent", {"status-state", "-unknown"}), key
        text = seen(rig)
        assert "Ingen feil er målt" in text and "i orden" not in text

    drive(script, make_rig(gpio=False))


def test_the_dev_dock_cuts_and_restores_the_simulated_supplies() -> None:
    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        assert rig.gpio is not None
        await settle_power(rig, pilot)
        await pilot.press("f12")
        await settle(pilot)
        assert "F7 Strøm til ruteren: på" in seen(rig)
        await pilot.press("f7", "f8", "f9")
        await settle(pilot)
        assert not any(rig.gpio.powered(s) for s in PowerSource)
        assert "F7 Strøm til ruteren: AV" in seen(rig)
        await settle_power(rig, pilot)
        assert rig.app.shell.power_states == {s: False for s in PowerSource}
        await pilot.press("f12", "f6")
        await settle(pilot)
        assert state(rig, "mains")[0] == "✖  Batteri: strømmen er borte"
        assert "NESTE: Sjekk sikringene." in seen(rig)  # mains first, as the routine says
        await pilot.press("f9", "f7", "f8")
        await settle_power(rig, pilot)
        assert rig.app.shell.power_states == {s: True for s in PowerSource}

    drive(script)
