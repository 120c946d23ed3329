"""Scenario tests: the whole kiosk (app, core, HTTP client) against the real register on
loopback, with one failure per file. The clock is manual; the network is real."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "kiosk"))

from kiosk_servers import RegisterServer, register_server  # noqa: E402


@pytest.fixture
def register(tmp_path: Path) -> Iterator[RegisterServer]:
    """The real register service on a free loopback port (temp SQLite database)."""
    with register_server(tmp_path) as server:
        yield server
