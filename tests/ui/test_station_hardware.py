"""The caretaker box and the modem as the composition root wires them: the pin factory
chosen there (a MockFactory stands in for lgpio), the POWER LED following mains and
battery, and the modem row on the caretaker screen against a fake modem on a pty."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from valgkiosk import bootstrap
from valgkiosk import config as cfg
from valgkiosk.drivers.gpio import GpioIndicators, GpioPowerSensors, SimulatedGpio
from valgkiosk.drivers.modem import Modem
from valgkiosk.ports.indicators import LedMode, Output
from valgkiosk.ports.power import PowerSource
from valgkiosk.ui.testing import SIZE, screen_text

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "drivers"))
from fake_modem import GOOD, SILENT, ok, plugged  # noqa: E402

pytestmark = pytest.mark.timeout(30)

BASE = """
[station]
kommune = "0301"
krets = "0101"
bord = 3

[election]
year = 2025

[register]
url = "memory:"

[scanner]
kind = "evdev"
name = "Skanner"
"""

GPIO = """
[gpio]
stable_seconds = 0.2

[gpio.mains]
pin = 17

[gpio.router]
pin = 27
pull = "down"
active_high = true

[gpio.power_led]
pin = 5

[gpio.buzzer]
pin = 19
active_high = false
"""


class Clock:
    """A manual monotonic clock for the sensors."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_a_real_kiosk_builds_the_configured_box_on_the_factory_it_is_given() -> None:
    config = cfg.parse(BASE + GPIO)
    factory = MockFactory()
    box = bootstrap.build_gpio(config, sim=False, clock=Clock(), pin_factory=factory)  # type: ignore[arg-type]
    assert isinstance(box.sensors, GpioPowerSensors) and isinstance(box.indicators, GpioIndicators)
    assert box.simulated is None and box.problem == ""
    assert box.sensors.timings.stable == 0.2
    assert box.indicators.fitted == (Output.POWER_LED, Output.BUZZER)
    factory.pin(27).drive_high()  # pull-down, present when high
    factory.pin(17).drive_low()  # pull-up, present when low
    assert box.sensors.raw() == {PowerSource.MAINS: True, PowerSource.ROUTER: True}
    assert factory.pin(19).state is True  # active-low buzzer: silent means high
    box.indicators.close()
    box.sensors.close()


def test_a_real_kiosk_without_a_gpio_section_has_no_box() -> None:
    box = bootstrap.build_gpio(cfg.parse(BASE), sim=False, clock=Clock(), pin_factory=MockFactory())  # type: ignore[arg-type]
    assert (box.sensors, box.indicators, box.simulated) == (None, None, None)


def test_a_box_that_cannot_be_opened_is_logged_and_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_chip() -> Any:
        raise OSError("can not open gpiochip")

    monkeypatch.setattr(bootstrap, "real_pin_factory", no_chip)
    box = bootstrap.build_gpio(cfg.parse(BASE + GPIO), sim=False, clock=Clock())  # type: ignore[arg-type]
    assert box.sensors is None and box.indicators is None and "gpiochip" in box.problem


def test_sim_mode_uses_the_configured_wiring_on_a_mock_factory() -> None:
    box = bootstrap.build_gpio(cfg.parse(BASE + GPIO), sim=True, clock=Clock())  # type: ignore[arg-type]
    assert isinstance(box.simulated, SimulatedGpio) and isinstance(box.simulated.factory, MockFactory)
    assert set(box.simulated.pins.inputs()) == {PowerSource.MAINS, PowerSource.ROUTER}
    assert box.sensors is box.simulated.sensors and box.indicators is box.simulated.indicators
    box.simulated.close()
    default = bootstrap.build_gpio(cfg.parse(BASE), sim=True, clock=Clock())  # type: ignore[arg-type]
    assert set(default.simulated.pins.inputs()) == set(PowerSource)  # the standard wiring
    default.simulated.close()


def test_build_app_passes_sensors_indicators_and_modem_to_the_app() -> None:
    config = cfg.parse(BASE + GPIO + '\n[modem]\ndevice = "/dev/serial/by-id/usb-modem"\npoll_seconds = 3\n')
    factory = MockFactory()
    app = bootstrap.build_app(config, sim=False, pin_factory=factory, scanner=object())  # type: ignore[arg-type]
    assert isinstance(app.shell.power, GpioPowerSensors) and isinstance(app.shell.indicators, GpioIndicators)
    assert isinstance(app.shell.modem, Modem) and app.shell.modem.port == "/dev/serial/by-id/usb-modem"
    assert app.shell.modem_interval == 3
    app.shell.indicators.close()
    app.shell.power.close()


async def _settle(app: Any, box: SimulatedGpio, clock: Any, pilot: Any) -> None:
    clock.advance(box.sensors.timings.stable)
    box.sensors.poll()
    for _ in range(3):
        await pilot.pause()


def test_the_power_led_is_steady_on_mains_and_blinks_slowly_on_battery() -> None:
    from valgkiosk.ui.testing import make_rig

    rig = make_rig()
    assert rig.gpio is not None
    rig.app.shell.indicators = rig.gpio.indicators
    seen: list[tuple[LedMode, LedMode, Any]] = []

    async def main() -> None:
        async with rig.app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            assert rig.gpio is not None
            indicators = rig.gpio.indicators
            assert indicators.modes[0] is LedMode.ON  # unknown at start: steady (nothing says battery)
            await _settle(rig.app, rig.gpio, rig.clock, pilot)
            seen.append(indicators.modes)
            assert rig.gpio.lit(Output.POWER_LED)
            rig.gpio.cut_mains()
            await pilot.pause()
            assert indicators.modes[0] is LedMode.ON  # not stable yet
            await _settle(rig.app, rig.gpio, rig.clock, pilot)
            assert indicators.modes[0] is LedMode.SLOW_BLINK
            pin = rig.gpio.output_pin(Output.POWER_LED)
            await asyncio.sleep(2.2)  # gpiozero's blink thread: 1 s on, 1 s off
            states = [s for _, s in pin.states]
            assert states.count(True) >= 2 and states.count(False) >= 2
            rig.gpio.restore_mains()
            await _settle(rig.app, rig.gpio, rig.clock, pilot)
            assert indicators.modes[0] is LedMode.ON and rig.gpio.lit(Output.POWER_LED)
            assert indicators.modes[1:] == (LedMode.OFF, indicators.modes[2])  # NETWORK/ALARM left alone

    asyncio.run(main())
    assert seen == [(LedMode.ON, LedMode.OFF, seen[0][2])]


# -- the modem row ---------------------------------------------------------------------------


@pytest.fixture
def link(tmp_path: Path) -> Path:
    return tmp_path / "modem"


def _modem_text(app: Any) -> str:
    return " ".join(str(app.screen.query_one("#status-modem").render()).split())


async def _wait_for(app: Any, pilot: Any, predicate: Any, seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)
        await pilot.pause()


def _modem_rig(link: Path) -> Any:
    from valgkiosk.ui.testing import make_rig

    rig = make_rig()
    rig.app.shell.modem = Modem(str(link), timeout=0.3)
    rig.app.shell.modem_interval = 0.1
    return rig


@pytest.mark.parametrize(
    ("replies", "tone", "words"),
    [
        (GOOD, "-ok", "Registrert i mobilnettet, signal -71 dBm (godt)"),
        ({**GOOD, "AT+CREG?": ok("+CREG: 0,3"), "AT+CEREG?": ok("+CEREG: 0,3")}, "-bad", "avviser modemet"),
        ({k: "\r\nERROR\r\n" for k in GOOD}, "-bad", "svarer med feil (ERROR)"),
        ({k: SILENT for k in GOOD}, "-bad", "svarer ikke"),
    ],
    ids=["good", "denied", "error", "silence"],
)
def test_the_modem_row_says_what_the_modem_said(link: Path, replies: dict[str, object], tone: str, words: str) -> None:
    rig = _modem_rig(link)

    async def main() -> None:
        with plugged(link, replies):
            async with rig.app.run_test(size=SIZE) as pilot:
                await pilot.press("f6")
                await pilot.pause()
                row = rig.app.screen.query_one("#status-modem")
                await _wait_for(rig.app, pilot, lambda: rig.app.shell.modem_status is not None)
                await pilot.pause()
                assert words in _modem_text(rig.app) and row.has_class(tone)
                assert "Mobilt reservenett" in screen_text(rig.app)

    asyncio.run(main())


def test_the_modem_row_follows_an_unplug_and_a_replug(link: Path) -> None:
    rig = _modem_rig(link)

    async def main() -> None:
        async with rig.app.run_test(size=SIZE) as pilot:
            await pilot.press("f6")
            await pilot.pause()
            await _wait_for(rig.app, pilot, lambda: "koblet fra" in _modem_text(rig.app))
            assert rig.app.screen.query_one("#status-modem").has_class("-bad")
            with plugged(link, GOOD):
                await _wait_for(rig.app, pilot, lambda: "Registrert" in _modem_text(rig.app))
            await _wait_for(rig.app, pilot, lambda: "koblet fra" in _modem_text(rig.app))

    asyncio.run(main())


def test_the_modem_row_is_unknown_until_the_first_reading(link: Path) -> None:
    rig = _modem_rig(link)
    rig.app.shell.modem = Modem(str(link), timeout=1.0)

    async def main() -> None:
        with plugged(link, {k: SILENT for k in GOOD}):
            async with rig.app.run_test(size=SIZE) as pilot:
                await pilot.press("f6")
                await pilot.pause()
                assert rig.app.shell.modem_status is None
                assert "? ukjent (leses nå)" in _modem_text(rig.app)  # never pretend
                assert rig.app.screen.query_one("#status-modem").has_class("-unknown")

    asyncio.run(main())


def test_without_a_modem_there_is_no_modem_row() -> None:
    from valgkiosk.ui.testing import make_rig

    rig = make_rig()

    async def main() -> None:
        async with rig.app.run_test(size=SIZE) as pilot:
            await pilot.press("f6")
            await pilot.pause()
            assert not rig.app.screen.query("#status-modem") and "Mobilt" not in screen_text(rig.app)

    asyncio.run(main())


# -- snapshots of the caretaker screen with the modem row ------------------------------------


@pytest.mark.parametrize("case", ["modem_good", "modem_unplugged"])
def test_caretaker_screen_with_the_modem(tmp_path: Path, snap_compare: Any, case: str) -> None:
    from valgkiosk.core.outage import Layer
    from valgkiosk.ui.status import NetworkLayers
    from valgkiosk.ui.testing import make_rig, settle, settle_power

    link = tmp_path / "modem" if case == "modem_good" else Path("/dev/serial/by-id/usb-Quectel_EC25-if02-port0")
    rig = make_rig()
    rig.app.shell.modem = Modem(str(link), timeout=0.3)
    rig.app.shell.modem_interval = 60  # one reading is enough

    async def run_before(pilot: Any) -> None:
        await settle_power(rig, pilot)
        rig.app.shell.set_network_status(NetworkLayers.after_round(Layer.GATEWAY))
        await pilot.press("f6")
        await _wait_for(rig.app, pilot, lambda: rig.app.shell.modem_status is not None)
        await settle(pilot)

    if case == "modem_good":
        with plugged(link, GOOD):
            assert snap_compare(rig.app, terminal_size=SIZE, run_before=run_before)
    else:
        assert snap_compare(rig.app, terminal_size=SIZE, run_before=run_before)
