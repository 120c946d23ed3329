"""The wiring picture (docs/gpio-box.svg) is drawn from the same pin table the kiosk's
configuration uses: regenerated, it is byte for byte the committed file, and every pin of
the standard wiring is in it with its header pin."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from valgkiosk.drivers.gpio.pins import DEFAULT_PINS

TOOL = Path(__file__).parents[2] / "docs" / "tools" / "draw_gpio_box.py"


def load() -> object:
    spec = importlib.util.spec_from_file_location("draw_gpio_box", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_picture_is_the_pin_tables() -> None:
    tool = load()
    assert tool.main(["--check"]) == 0  # type: ignore[attr-defined]


def test_every_standard_pin_is_drawn_at_its_header_pin() -> None:
    tool = load()
    drawing = tool.svg()  # type: ignore[attr-defined]
    for role in ("mains", "router", "simula", "power_led", "network_led", "alarm_led", "buzzer"):
        bcm = getattr(DEFAULT_PINS, role).pin
        assert f"GPIO{bcm} (pin {tool.HEADER[bcm]}," in drawing, role  # type: ignore[attr-defined]
    assert "GPIO26 (pin 37, in): UPS low battery" in drawing
