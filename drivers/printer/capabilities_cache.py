"""A lasting folder for python-escpos's printer-capabilities pickle, set before python-escpos
is first imported (valgkiosk.drivers.printer.escpos_printer imports this module first)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["keep_capabilities_pickle"]


def keep_capabilities_pickle() -> None:
    """Give python-escpos a lasting folder for its printer-capabilities pickle.

    Unless ``ESCPOS_CAPABILITIES_PICKLE_DIR`` names one, python-escpos makes a new temporary
    folder at every import, leaves it behind, and parses its capabilities file (YAML) again:
    ~130 ms of every start (docs/benchmarks.md). The folder is systemd's ``CacheDirectory=``
    (``$CACHE_DIRECTORY``) where a unit has one, else the user's cache (on the image the kiosk's
    HOME is its StateDirectory on the data partition); where neither can be written, nothing changes."""
    if os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR"):
        return
    os.environ.pop("ESCPOS_CAPABILITIES_PICKLE_DIR", None)  # an empty one would put the pickle in the cwd
    base = os.environ.get("CACHE_DIRECTORY", "").split(":")[0]
    if base:
        folder = Path(base) / "python-escpos"
    else:
        folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "valgkiosk" / "python-escpos"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return
    if os.access(folder, os.W_OK | os.X_OK):
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(folder)


keep_capabilities_pickle()
