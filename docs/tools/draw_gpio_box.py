"""Draws the caretaker box's wiring (docs/gpio-box.svg) from the pin table the kiosk's
configuration uses (valgkiosk.drivers.gpio.pins.DEFAULT_PINS and the UPS's standard
low-battery line), so that the picture cannot drift from the code. With ``--png`` it
also writes docs/gpio-box.png through rsvg-convert (Debian's librsvg2-bin), if present.

    python docs/tools/draw_gpio_box.py [--check] [--png]

``--check`` exits 1 if the committed SVG differs from what the table gives.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from html import escape
from pathlib import Path

from valgkiosk.drivers.gpio.pins import DEFAULT_PINS, InputPin, OutputPin
from valgkiosk.drivers.ups import STANDARD_LOW_BATTERY_PIN

DOCS = Path(__file__).resolve().parents[1]
SVG = DOCS / "gpio-box.svg"
PNG = DOCS / "gpio-box.png"

#: BCM number -> physical pin on the 40-pin header (every Pi since the B+).
HEADER: dict[int, int] = {2: 3, 3: 5, 4: 7, 14: 8, 15: 10, 17: 11, 18: 12, 27: 13, 22: 15, 23: 16, 24: 18,
                          10: 19, 9: 21, 25: 22, 11: 23, 8: 24, 7: 26, 0: 27, 1: 28, 5: 29, 6: 31, 12: 32,
                          13: 33, 19: 35, 16: 36, 26: 37, 20: 38, 21: 40}
GROUND = (6, 9, 14, 20, 25, 30, 34, 39)
POWER = {1: "3V3", 17: "3V3", 2: "5V", 4: "5V"}

#: What hangs on each role's pin, in the box (docs/gpio.md, docs/power.md).
PARTS: dict[str, tuple[str, str]] = {
    "mains": ("Mains (the kiosk's supply)", "PC817: LED via 680 Ω from the 5 V before the UPS; C to the pin, E to GND; internal pull-up"),
    "router": ("Router power", "PC817: LED via 2.2 kΩ from the router's 12 V; C to the pin, E to GND; internal pull-up"),
    "simula": ("SIMULA box power", "PC817: LED via 2.2 kΩ from the box's 12 V; C to the pin, E to GND; internal pull-up"),
    "power_led": ("POWER LED (green)", "330 Ω to the anode, cathode to GND"),
    "network_led": ("NETWORK LED (green)", "330 Ω to the anode, cathode to GND"),
    "alarm_led": ("ALARM LED (red)", "330 Ω to the anode, cathode to GND"),
    "buzzer": ("Buzzer (active)", "1 kΩ to the base of a 2N2222; the buzzer from 5 V to C, a flyback diode across it"),
    "low_battery": ("UPS low battery", "the HAT's open-collector line to the pin; 10 kΩ pull-up to 3V3 (pin 1)"),
}


def roles() -> list[tuple[str, int, str]]:
    """(role, BCM, direction) for every part of the standard wiring."""
    found: list[tuple[str, int, str]] = []
    for role in ("mains", "router", "simula", "power_led", "network_led", "alarm_led", "buzzer"):
        pin = getattr(DEFAULT_PINS, role)
        if pin is None:
            continue
        direction = "in" if isinstance(pin, InputPin) else "out"
        assert isinstance(pin, InputPin | OutputPin) and isinstance(pin.pin, int)
        found.append((role, pin.pin, direction))
    found.append(("low_battery", STANDARD_LOW_BATTERY_PIN, "in"))
    return found


def svg() -> str:
    """The drawing, deterministic (the same table gives the same bytes)."""
    used = {HEADER[bcm]: (role, bcm, d) for role, bcm, d in roles()}
    row_h, top, left = 22, 70, 40
    width, height = 1180, top + 20 * row_h + 120
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="13">',
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="40" y="30" font-size="18" font-weight="bold">The caretaker box on the Pi\'s '
           '40-pin header</text>',
           '<text x="40" y="50" fill="#444">Drawn from DEFAULT_PINS (drivers/gpio/pins.py) by '
           'docs/tools/draw_gpio_box.py: BCM number (GPIO) and physical pin.</text>',
           f'<rect x="{left}" y="{top - 12}" width="120" height="{20 * row_h + 8}" rx="6" fill="#1f5f2f"/>']
    parts_x, part_row = 420, 0
    for physical in range(1, 41):
        row, col = (physical - 1) // 2, (physical - 1) % 2
        cx, cy = left + 35 + col * 50, top + row * row_h
        label = POWER.get(physical) or ("GND" if physical in GROUND else "")
        fill = "#f2c12e" if physical in used else "#222" if physical in GROUND else "#ddd"
        out.append(f'<circle cx="{cx}" cy="{cy}" r="7" fill="{fill}" stroke="black"/>')
        ink = "white" if physical in GROUND else "black"
        out.append(f'<text x="{cx}" y="{cy + 3}" font-size="8" fill="{ink}" text-anchor="middle">{physical}</text>')
        if label:
            side_x = left - 6 if col == 0 else left + 126
            anchor = "end" if col == 0 else "start"
            out.append(f'<text x="{side_x}" y="{cy + 4}" font-size="10" text-anchor="{anchor}">{label}</text>')
        if physical in used:
            role, bcm, direction = used[physical]
            title, how = PARTS[role]
            py = top + part_row * 2 * row_h
            out.append(f'<line x1="{cx + 7}" y1="{cy}" x2="{parts_x - 10}" y2="{py + 4}" stroke="#b8860b"/>')
            out.append(f'<text x="{parts_x}" y="{py}" font-weight="bold">GPIO{bcm} (pin {physical}, {direction}): '
                       f'{escape(title)}</text>')
            out.append(f'<text x="{parts_x}" y="{py + 16}" fill="#333">{escape(how)}</text>')
            part_row += 1
    note_y = top + 20 * row_h + 40
    out.append(f'<text x="40" y="{note_y}" fill="#444">Inputs: the optocoupler isolates the sensed supply '
               'from the Pi (keep the grounds apart). Common ground for LEDs and buzzer: pin 9, 14, 20, 25, '
               '30, 34 or 39.</text>')
    out.append(f'<text x="40" y="{note_y + 20}" fill="#444">Every pin and polarity can be changed per kiosk in '
               '[gpio] and [ups] (docs/gpio.md, docs/power.md).</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--png", action="store_true")
    args = parser.parse_args(argv)
    drawing = svg()
    if args.check:
        same = SVG.is_file() and SVG.read_text(encoding="utf-8") == drawing
        print("docs/gpio-box.svg is " + ("up to date" if same else "out of date: run docs/tools/draw_gpio_box.py"))
        return 0 if same else 1
    SVG.write_text(drawing, encoding="utf-8")
    if args.png:
        tool = shutil.which("rsvg-convert")
        if tool is None:
            print("rsvg-convert not found (apt-get install librsvg2-bin): no PNG", file=sys.stderr)
            return 1
        subprocess.run([tool, "-o", str(PNG), str(SVG)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
