"""Shared fixtures: a register store on each backend, fresh for every test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from valgkiosk.register.store import SqlStore, open_store

PG_DSN = os.environ.get("VALGKIOSK_TEST_PG_DSN")


def pg_database_url(name: str) -> str:
    """The URL of database ``name`` on the test PostgreSQL server."""
    assert PG_DSN is not None
    return PG_DSN.rsplit("/", 1)[0] + "/" + name


def create_pg_database() -> str:
    """Create an empty database on the test server and return its URL."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:16]
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_database_url(name)


def drop_pg_database(url: str) -> None:
    """Drop a database made by create_pg_database (closing its other sessions)."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty register database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/register.db"
        return
    if PG_DSN is None:
        if os.environ.get("CI"):
            pytest.fail("VALGKIOSK_TEST_PG_DSN is not set in CI: scripts/test must start PostgreSQL")
        pytest.skip("VALGKIOSK_TEST_PG_DSN is not set: run the tests with scripts/test")
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    """A migrated register store on each backend."""
    s = open_store(store_url)
    s.migrate()
    try:
        yield s
    finally:
        s.close()
