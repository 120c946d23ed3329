"""SQLite backend: the embedded default (one file, WAL, fully synchronous commits)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import anyio

from valgkiosk.register.model import Kiosk, VoterStatus
from valgkiosk.register.store.base import SqlStore
from valgkiosk.register.store import group_commit as _group_commit
from valgkiosk.register.store.group_commit import GroupCommit

# One check-off's arguments, as ``SqlStore.check_off`` takes them.
CheckoffArgs = tuple[Kiosk, str, str, datetime]


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
        self.group_commit: GroupCommit[CheckoffArgs, VoterStatus] = GroupCommit(self._check_off_group)

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
            try:
                conn.execute("COMMIT")
            except sqlite3.Error:  # a COMMIT that fails leaves the transaction open
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise

    async def check_off_async(self, kiosk: Kiosk, request_id: str, manntallsnummer: str,
                              now: datetime) -> VoterStatus:
        """``check_off`` through the group commit: the check-offs waiting together share one
        transaction and one fsync (valgkiosk.register.store.group_commit)."""
        if not _group_commit.ENABLED:
            return await anyio.to_thread.run_sync(self.check_off, kiosk, request_id, manntallsnummer, now)
        return await self.group_commit.submit((kiosk, request_id, manntallsnummer, now))

    async def _check_off_group(self, items: Sequence[CheckoffArgs]) -> list[VoterStatus | BaseException]:
        return await anyio.to_thread.run_sync(self.check_off_many, items)

    def check_off_many(self, items: Sequence[CheckoffArgs]) -> list[VoterStatus | BaseException]:
        """Several check-offs in one transaction, in order, each seeing the ones before it;
        returned (answer or exception per item) only after the COMMIT.

        Each runs in a savepoint, so one that fails is undone alone. When the transaction
        as a whole fails (its COMMIT, say), nothing of it is kept and each check-off runs
        again in a transaction of its own, so only the one at fault fails."""
        if len(items) > 1:
            try:
                return self._check_off_together(items)
            except sqlite3.Error:
                pass  # nothing was kept: one at a time below
        results: list[VoterStatus | BaseException] = []
        for args in items:
            try:
                results.append(self.check_off(*args))
            except Exception as exc:  # noqa: BLE001 - the caller's own error
                results.append(exc)
        return results

    def _check_off_together(self, items: Sequence[CheckoffArgs]) -> list[VoterStatus | BaseException]:
        results: list[VoterStatus | BaseException] = []
        with self.write() as cur:
            for args in items:
                cur.execute("SAVEPOINT checkoff")
                try:
                    results.append(self._check_off_in(cur, *args))
                except sqlite3.Error:
                    cur.execute("ROLLBACK TO checkoff")
                    raise  # a database error: the whole group goes one at a time
                except Exception as exc:  # noqa: BLE001 - a refusal (RequestIdConflict): its caller's
                    cur.execute("ROLLBACK TO checkoff")
                    results.append(exc)
                cur.execute("RELEASE checkoff")
        return results

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
