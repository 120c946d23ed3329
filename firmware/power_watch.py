"""The UPS as the kiosk app uses it (issue 17): a reader of the UPS's own reading, the
shutdown policy, the power-off request and the poll interval. Built by
:func:`valgkiosk.bootstrap.build_ups` from ``[ups]``; tests build one on MockFactory pins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from valgkiosk.core.ups import UpsPolicy, UpsReading


@dataclass
class Ups:
    """``read`` blocks (sysfs, upsc, a pin): the app calls it from a worker thread."""

    read: Callable[[], UpsReading | None]
    poweroff: Callable[[], bool]
    policy: UpsPolicy = field(default_factory=UpsPolicy)
    interval: float = 10.0
    kind: str = "sense"
