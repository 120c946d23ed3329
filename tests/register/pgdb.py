"""Throw-away databases on scripts/test's PostgreSQL for tests that need a second one
(tests/conftest.py's helpers, importable from a test module: a plain ``conftest`` import
is ambiguous when the whole suite is collected)."""

from __future__ import annotations

import os
import uuid

PG_DSN = os.environ.get("VALGKIOSK_TEST_PG_DSN")


def create_database() -> str:
    """Create an empty database on the test server and return its URL."""
    import psycopg

    assert PG_DSN is not None, "VALGKIOSK_TEST_PG_DSN is not set (scripts/test sets it)"
    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_DSN.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    """Drop a database made by create_database (closing its other sessions)."""
    import psycopg

    assert PG_DSN is not None
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
