"""Hand scanner drivers: evdev (keyboard mode), pyserial (USB-serial mode) and the simulator.

The evdev-based names are imported on first use, so sim mode works where python-evdev
is not installed (it is Linux-only).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .serial_scanner import LineDecoder, SerialScanner
from .simulated import SimulatedScanner

if TYPE_CHECKING:
    from .evdev_scanner import EvdevScanner
    from .keymap import KeyboardLayout, ScanDecoder, layout_named

__all__ = [
    "EvdevScanner",
    "KeyboardLayout",
    "LineDecoder",
    "ScanDecoder",
    "SerialScanner",
    "SimulatedScanner",
    "layout_named",
]

_LAZY = {
    "EvdevScanner": ".evdev_scanner",
    "KeyboardLayout": ".keymap",
    "ScanDecoder": ".keymap",
    "layout_named": ".keymap",
}


def __getattr__(name: str) -> Any:
    """Import the evdev-based drivers on first use."""
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
