"""How to reach the receipt printer: the settings the composition root passes in.

The keys follow the ``[printer]`` section of the station file (``kind``, ``vendor``,
``product``, ``device``, ``host``, ``profile``) and add what the driver also needs.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Literal

Kind = Literal["usb", "serial", "network", "file", "sim"]

#: Font A columns of the profiles we support when python-escpos is not asked.
PROFILE_COLUMNS = {"TM-T20II": 48, "TM-T88V": 42}


@dataclass(frozen=True, slots=True)
class PrinterSettings:
    """One printer. ``timeout`` (seconds) bounds every open, write and status read."""

    kind: Kind
    profile: str = "TM-T20II"
    columns: int | None = None  # None: the profile's font A columns
    # usb
    vendor: int | None = None
    product: int | None = None
    in_ep: int = 0x82
    out_ep: int = 0x01
    # serial (device path) and file (device path, e.g. /dev/usb/lp0)
    device: str | None = None
    baudrate: int = 9600
    # network
    host: str | None = None
    port: int = 9100
    # all
    timeout: float = 5.0
    check_status: bool = True  # False: the connection has no back-channel, print blind
    # sim: where the simulated printer writes the last receipt as text
    output: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("usb", "serial", "network", "file", "sim"):
            raise ValueError(f"unknown printer kind {self.kind!r}")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if self.kind == "usb" and (self.vendor is None or self.product is None):
            raise ValueError("a USB printer needs vendor and product")
        if self.kind in ("serial", "file") and not self.device:
            raise ValueError(f"a {self.kind} printer needs device")
        if self.kind == "network" and not self.host:
            raise ValueError("a network printer needs host")

    @property
    def readback(self) -> bool:
        """Whether status is asked of the printer (a back-channel is expected)."""
        return self.check_status and self.kind in ("usb", "serial", "network")

    @classmethod
    def from_config(cls, section: Any, **overrides: Any) -> PrinterSettings:
        """Build from any object (a pydantic section, a namespace) or mapping that has
        some of these attributes; missing or ``None`` ones take the defaults."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = section.get(f.name) if isinstance(section, dict) else getattr(section, f.name, None)
            if value is not None:
                values[f.name] = value
        values.update(overrides)
        return cls(**values)
