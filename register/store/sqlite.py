"""SQLite backend: the embedded default (one file, WAL, fully synchronous commits)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from valgkiosk.register.store.base import SqlStore


class SqliteStore(SqlStore):
    """Register storage in one SQLite file.

    Writes go through one lock in this process (SQLite has one writer at a time, and
    queueing here is fairer than SQLite's busy-wait); other processes on the same file
    are handled by the busy timeout. Readers use a connection per thread and never
    block the writer (WAL).
    """

    dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Cursor]:
        with self._write_lock:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn.cursor()
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Cursor]:
        conn = self._conn()
        conn.execute("BEGIN DEFERRED")
        try:
            yield conn.cursor()
        finally:
            conn.execute("COMMIT")

    def close(self) -> None:
        with self._all_lock:
            for conn in self._all:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()

    def _sql(self, sql: str) -> str:
        return sql

    def _ts(self, value: datetime) -> str:
        return value.astimezone(timezone.utc).isoformat()

    def _date(self, value: date) -> str:
        return value.isoformat()

    def _bulk_insert_voters(self, cur: Any, rows: list[tuple[Any, ...]]) -> None:
        cur.executemany(
            "INSERT INTO voters (manntallsnummer, fodselsnummer, fornavn, etternavn, fodselsdato, "
            "adresse, postnummer, poststed, kommune, krets, sami) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )

    def _table_exists(self, cur: Any, name: str) -> bool:
        return cur.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                           (name,)).fetchone() is not None
