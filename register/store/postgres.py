"""PostgreSQL backend: one register shared by many kiosks and stations."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date, datetime
from functools import lru_cache
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from valgkiosk.register.store.base import VOTER_COLUMNS, SqlStore


@lru_cache(maxsize=256)
def _translate(sql: str) -> str:
    return sql.replace("?", "%s")


class PostgresStore(SqlStore):
    """Register storage in PostgreSQL through a connection pool (READ COMMITTED).

    Exactly-once check-off relies on the primary key of ``checkoffs``: a concurrent
    insert of the same voter waits for the first transaction and then does nothing.
    """

    dialect = "postgres"

    def __init__(self, dsn: str, *, min_size: int = 2, max_size: int = 16) -> None:
        super().__init__()
        self.dsn = dsn
        self._pool = ConnectionPool(
            dsn, min_size=min_size, max_size=max_size, open=True,
            kwargs={"autocommit": True, "prepare_threshold": 2}, timeout=10,
        )

    @contextlib.contextmanager
    def write(self) -> Iterator[psycopg.Cursor[Any]]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    @contextlib.contextmanager
    def read(self) -> Iterator[psycopg.Cursor[Any]]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    def close(self) -> None:
        self._pool.close()

    def _sql(self, sql: str) -> str:
        return _translate(sql)

    def _ts(self, value: datetime) -> datetime:
        return value

    def _date(self, value: date) -> date:
        return value

    def _bulk_insert_voters(self, cur: Any, rows: list[tuple[Any, ...]]) -> None:
        with cur.copy(f"COPY voters ({', '.join(VOTER_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def _table_exists(self, cur: Any, name: str) -> bool:
        return cur.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]
