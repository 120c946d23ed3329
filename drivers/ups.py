"""What a UPS says about its battery, read three ways (``[ups] kind``), and the request
to power off.

- ``sense``: only lines on the GPIO header: mains from ``[gpio.mains]`` (read by the power
  sensors) and, if wired, a low-battery line (``low_battery_pin``) read here through the
  same gpiozero pin factory. No charge or time (the caretaker sees "ukjent").
- ``sysfs``: a fuel gauge with a kernel driver (e.g. a MAX17040/17043 on a UPS HAT, with
  its device-tree overlay) under ``/sys/class/power_supply/<name>``: ``capacity`` (%),
  ``time_to_empty_now`` (seconds, where the driver has it), ``status`` (Discharging: on
  battery), ``capacity_level`` (Critical: low battery).
- ``nut``: a USB UPS through Network UPS Tools: ``upsc <ups>`` gives ``battery.charge``,
  ``battery.runtime`` and ``ups.status`` (OL on line, OB on battery, LB low battery).

Every reader returns ``None`` when the UPS cannot be read (logged), never raises.
Powering off: the kiosk has no privilege to do it and should not; it writes a request
file that valgkiosk-poweroff.path (root) turns into ``systemctl poweroff``.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from valgkiosk.core.ups import UpsReading

__all__ = ["SenseLowBattery", "parse_upsc", "read_nut", "read_sysfs", "request_poweroff"]

log = logging.getLogger(__name__)

#: The standard wiring's low-battery line (BCM 26, header pin 37; docs/power.md).
STANDARD_LOW_BATTERY_PIN = 26

#: Where the kiosk asks for a power-off (watched by valgkiosk-poweroff.path).
POWEROFF_REQUEST = Path("/run/valgkiosk-power/poweroff")


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None


def read_sysfs(supply: Path) -> UpsReading | None:
    """A fuel gauge's power_supply folder (``None``: no such supply)."""

    def attr(name: str) -> str | None:
        try:
            return (supply / name).read_text(encoding="ascii").strip()
        except OSError:
            return None

    if not supply.is_dir():
        log.warning("UPS: no power supply at %s", supply)
        return None
    status = attr("status")
    level = attr("capacity_level")
    runtime = _number(attr("time_to_empty_now"))
    return UpsReading(
        on_battery=None if status is None else status == "Discharging",
        charge_percent=_number(attr("capacity")),
        runtime_seconds=runtime if runtime and runtime > 0 else None,
        low_battery=None if level is None else level in ("Critical", "Low"),
    )


def parse_upsc(text: str) -> UpsReading:
    """``upsc``'s ``key: value`` lines."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            values[key.strip()] = value.strip()
    status = values.get("ups.status", "").split()
    return UpsReading(
        on_battery=("OB" in status) if ("OB" in status or "OL" in status) else None,
        charge_percent=_number(values.get("battery.charge")),
        runtime_seconds=_number(values.get("battery.runtime")),
        low_battery=("LB" in status) if status else None,
    )


def read_nut(ups: str, run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run) -> UpsReading | None:
    """``upsc <ups>`` (``None``: NUT not installed, the UPS unknown, or no answer in 5 s)."""
    try:
        done = run(["upsc", ups], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("UPS: upsc %s failed: %s", ups, exc)
        return None
    if done.returncode != 0:
        log.warning("UPS: upsc %s: %s", ups, done.stderr.strip())
        return None
    return parse_upsc(done.stdout)


class SenseLowBattery:
    """A UPS's low-battery line on a GPIO pin, through the kiosk's pin factory."""

    def __init__(self, pin: int, *, active_high: bool, pin_factory: Any) -> None:
        from gpiozero import DigitalInputDevice

        # The line is driven by the UPS: no pull; "active" is the low-battery state.
        self._device = DigitalInputDevice(pin, pull_up=None, active_state=active_high, pin_factory=pin_factory)

    def read(self) -> UpsReading:
        return UpsReading(low_battery=bool(self._device.is_active))

    def close(self) -> None:
        self._device.close()


def request_poweroff(path: Path = POWEROFF_REQUEST) -> bool:
    """Ask for a clean power-off (``False`` if the request cannot be written)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("low battery\n", encoding="ascii")
    except OSError as exc:
        log.error("UPS: the power-off request %s cannot be written: %s", path, exc)
        return False
    log.warning("UPS: power-off requested (%s)", path)
    return True
