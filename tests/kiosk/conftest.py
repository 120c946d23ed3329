"""Fixtures for the kiosk's adapter tests: the real register on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk_servers import RegisterServer, register_server


@pytest.fixture
def register(tmp_path: Path) -> Iterator[RegisterServer]:
    """The real register service, started on a free port with a temp SQLite database."""
    with register_server(tmp_path) as server:
        yield server
