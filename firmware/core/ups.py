"""Power with a UPS, as pure rules: whether the kiosk is on mains or battery, what the
clerk is told, and when the kiosk closes its loggbok and shuts down.

The routine: when the power fails the table goes on, in emergency envelopes if the
register is gone too. With a UPS the kiosk keeps running on battery, but the receipt
printer (on the wall socket) has no power: the clerk writes manual valgkort by hand.
When the battery is nearly empty the kiosk writes a last loggbok entry and shuts down
cleanly instead of dying mid-write; when power returns it starts again and the loggbok
brings it back to the same state (valgkiosk.core.emergency.replay).

Inputs: the mains sense line (``[gpio.mains]``: a UPS HAT's power-good or on-battery
line, or an optocoupler on the supply before the UPS) and, where the UPS reports it, its
own reading (charge, remaining time, low-battery signal). The sense line wins when both
say something; the UPS's own on-battery flag counts only without one.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "ON_BATTERY_NOTICE",
    "SHUTDOWN_NOTICE",
    "Supply",
    "UpsPolicy",
    "UpsReading",
    "battery_words",
    "shutdown_reason",
    "supply",
]

#: What the clerk is told while the kiosk runs on battery: the printer has no power.
ON_BATTERY_NOTICE = ("Strømbrudd: kiosken går på batteri, skriveren har ikke strøm. "
                     "Skriv manuelle valgkort for hånd.")
#: What the clerk reads as the kiosk shuts down on an empty battery.
SHUTDOWN_NOTICE = ("Batteriet er nesten tomt: kiosken lagrer loggboken og slår seg av. "
                   "Fortsett etter beredskapsrutinen med manuelle valgkort for hånd.")


class Supply(enum.Enum):
    """Where the kiosk's power comes from now."""

    MAINS = "mains"
    BATTERY = "battery"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class UpsReading:
    """What the UPS itself says; ``None`` where it does not report it."""

    on_battery: bool | None = None
    charge_percent: float | None = None
    runtime_seconds: float | None = None
    low_battery: bool | None = None  # the UPS's own low-battery signal (a line, NUT's LB)


@dataclass(frozen=True, slots=True)
class UpsPolicy:
    """When to shut down on battery: at or below ``shutdown_percent`` charge or
    ``shutdown_runtime_seconds`` remaining, or on the UPS's low-battery signal."""

    shutdown_percent: float = 15.0
    shutdown_runtime_seconds: float = 300.0


def supply(mains_present: bool | None, reading: UpsReading | None) -> Supply:
    """Mains or battery: the sense line when it is known, else the UPS's own flag."""
    if mains_present is not None:
        return Supply.MAINS if mains_present else Supply.BATTERY
    if reading is not None and reading.on_battery is not None:
        return Supply.BATTERY if reading.on_battery else Supply.MAINS
    return Supply.UNKNOWN


def shutdown_reason(now: Supply, reading: UpsReading | None, policy: UpsPolicy) -> str | None:
    """Why the kiosk must shut down now (``None``: it need not). Only on battery: a UPS
    that reports low charge while charging on mains is recovering, not failing."""
    if now is not Supply.BATTERY or reading is None:
        return None
    if reading.low_battery:
        return "low_battery_signal"
    if reading.charge_percent is not None and reading.charge_percent <= policy.shutdown_percent:
        return "charge"
    if reading.runtime_seconds is not None and reading.runtime_seconds <= policy.shutdown_runtime_seconds:
        return "runtime"
    return None


def battery_words(reading: UpsReading | None) -> str:
    """The battery in the caretaker's words: charge and remaining time where reported."""
    if reading is None or (reading.charge_percent is None and reading.runtime_seconds is None):
        return "ukjent (UPS-en melder ikke lading)"
    parts = []
    if reading.charge_percent is not None:
        parts.append(f"{reading.charge_percent:.0f} %")
    if reading.runtime_seconds is not None:
        minutes = int(reading.runtime_seconds // 60)
        parts.append(f"ca. {minutes} min igjen" if minutes < 120 else f"ca. {minutes // 60} t igjen")
    return ", ".join(parts)
