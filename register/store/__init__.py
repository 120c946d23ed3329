"""Storage for the register behind one interface, on SQLite or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from valgkiosk.register.store.base import SqlStore, StoreError

__all__ = ["SqlStore", "StoreError", "open_store"]


def open_store(url: str) -> SqlStore:
    """Open the store named by ``url``: ``sqlite:///file.db``, ``sqlite:////abs/file.db`` or ``postgresql://…``."""
    if url.startswith("sqlite:///"):
        from valgkiosk.register.store.sqlite import SqliteStore

        # sqlite:///relative/file.db, sqlite:////absolute/file.db (as in SQLAlchemy)
        path = url.removeprefix("sqlite:///")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return SqliteStore(path)
    if url.startswith(("postgresql://", "postgres://")):
        from valgkiosk.register.store.postgres import PostgresStore

        return PostgresStore(url)
    raise StoreError(
        f"Ukjent databaseadresse {url!r}: bruk sqlite:///sti/til/fil.db eller postgresql://…"
    )
