"""Contract suites: one per port, each run over every real and simulated adapter of it.

A twin that passes the same suite as the real adapter can stand in for it in sim mode and
in the UI tests; where they disagree, the suite says which one is wrong."""

from __future__ import annotations

import sys
from pathlib import Path

# the real register on loopback (tests/kiosk/kiosk_servers.py) and the drivers' test helpers
for helper in ("kiosk", "drivers"):
    path = str(Path(__file__).resolve().parent.parent / helper)
    if path not in sys.path:
        sys.path.insert(0, path)
