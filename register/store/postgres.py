"""PostgreSQL backend: one register shared by many kiosks and stations."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, ConnectionPool
from psycopg_pool.base import AttemptWithBackoff

from valgkiosk.register.model import Checkoff, Kiosk, RequestIdConflict, Verdict, VoterStatus
from valgkiosk.register.rules import verdict_for
from valgkiosk.register.store.base import _VOTER_SELECT, VOTER_COLUMNS, SqlStore
from valgkiosk.register.store import group_commit as _group_commit
from valgkiosk.register.store.group_commit import GroupCommit

Row = tuple[Any, ...] | None

# The voter's earlier check-off and misregistration, as both check-off statements read them.
_PRIOR_CTE = """prior AS (
    SELECT c.voter_id, c.checked_off_at, c.kiosk_id, c.kommune, c.krets, ck.navn, c.bord, c.request_id,
           m.reported_at, m.reported_by, m.kiosk_id AS m_kiosk_id, m.krets AS m_krets, m.bord AS m_bord, m.note
    FROM checkoffs c
    JOIN v ON c.voter_id = v.id
    LEFT JOIN kretser ck ON ck.kommune = c.kommune AND ck.krets = c.krets
    LEFT JOIN misregistrations m ON m.voter_id = c.voter_id
)"""

# The check-off in one statement, one round trip: find the voter (with their station,
# the kommune's rule and any earlier check-off), insert the check-off when the rules
# allow it, and say whether the request id was used before. Columns as in
# ``SqlStore._voter_row`` (0-26), then 27 inserted, 28 request id used before the
# statement, 29 the kiosk's own station's name. The rules in the INSERT's WHERE are
# ``rules.verdict_for`` for a voter without a check-off; Python decides the verdict
# from the same row again, so the two cannot disagree silently (see check_off).
CHECKOFF_SQL = f"""
WITH v AS (
    SELECT v.id, {_VOTER_SELECT}, k.navn AS krets_navn, ko.own_station_required AS strict
    FROM voters v
    JOIN kretser k ON k.kommune = v.kommune AND k.krets = v.krets
    JOIN kommuner ko ON ko.kommune = v.kommune
    WHERE v.manntallsnummer = %(mnr)s
), {_PRIOR_CTE}, ins AS (
    INSERT INTO checkoffs (voter_id, request_id, checked_off_at, kiosk_id, kommune, krets, bord)
    SELECT v.id, %(rid)s, %(now)s, %(kiosk_id)s, %(kommune)s, %(krets)s, %(bord)s FROM v
    WHERE NOT EXISTS (SELECT 1 FROM prior)
      AND v.kommune = %(kommune)s AND (NOT v.strict OR v.krets = %(krets)s)
    ON CONFLICT DO NOTHING
    RETURNING voter_id
)
SELECT v.*, p.checked_off_at, p.kiosk_id, p.kommune, p.krets, p.navn, p.bord, p.request_id,
       p.reported_at, p.reported_by, p.m_kiosk_id, p.m_krets, p.m_bord, p.note,
       EXISTS (SELECT 1 FROM ins),
       EXISTS (SELECT 1 FROM checkoffs WHERE request_id = %(rid)s),
       (SELECT navn FROM kretser WHERE kommune = %(kommune)s AND krets = %(krets)s)
FROM v LEFT JOIN prior p ON true
"""


# The group commit's statement: ``CHECKOFF_SQL`` for many check-offs at once (one
# execution, one plan), the rows in the order given, each laid out as CHECKOFF_SQL's
# (``n`` first, then its columns 0-29; the voter's columns NULL when not in the register).
# The rows of one statement are independent only when no two share a voter or a request
# id: ``_independent`` puts such a pair in different statements, in arrival order.
CHECKOFF_MANY_SQL = f"""
WITH r AS (
    SELECT * FROM unnest(%(mnr)s::text[], %(rid)s::text[], %(now)s::timestamptz[], %(kiosk_id)s::text[],
                         %(kommune)s::text[], %(krets)s::text[], %(bord)s::integer[])
           WITH ORDINALITY AS r(mnr, rid, now, kiosk_id, kommune, krets, bord, n)
), v AS (
    SELECT r.n, v.id, {_VOTER_SELECT}, k.navn AS krets_navn, ko.own_station_required AS strict
    FROM r
    JOIN voters v ON v.manntallsnummer = r.mnr
    JOIN kretser k ON k.kommune = v.kommune AND k.krets = v.krets
    JOIN kommuner ko ON ko.kommune = v.kommune
), {_PRIOR_CTE}, ins AS (
    INSERT INTO checkoffs (voter_id, request_id, checked_off_at, kiosk_id, kommune, krets, bord)
    SELECT v.id, r.rid, r.now, r.kiosk_id, r.kommune, r.krets, r.bord FROM v JOIN r ON r.n = v.n
    WHERE NOT EXISTS (SELECT 1 FROM prior WHERE prior.voter_id = v.id)
      AND v.kommune = r.kommune AND (NOT v.strict OR v.krets = r.krets)
    ON CONFLICT DO NOTHING
    RETURNING voter_id
)
SELECT r.n, v.id, {", ".join(f"v.{c}" for c in VOTER_COLUMNS)}, v.krets_navn, v.strict,
       p.checked_off_at, p.kiosk_id, p.kommune, p.krets, p.navn, p.bord, p.request_id,
       p.reported_at, p.reported_by, p.m_kiosk_id, p.m_krets, p.m_bord, p.note,
       EXISTS (SELECT 1 FROM ins WHERE ins.voter_id = v.id),
       EXISTS (SELECT 1 FROM checkoffs WHERE request_id = r.rid),
       (SELECT navn FROM kretser WHERE kommune = r.kommune AND krets = r.krets)
FROM r LEFT JOIN v ON v.n = r.n LEFT JOIN prior p ON p.voter_id = v.id
ORDER BY r.n
"""


def _independent(batch: Sequence[dict[str, Any]]) -> list[list[int]]:
    """The batch's positions in runs for ``CHECKOFF_MANY_SQL``: in arrival order, a new run
    wherever a check-off shares its voter or request id with one already in the run."""
    runs: list[list[int]] = []
    voters: set[str] = set()
    rids: set[str] = set()
    for i, params in enumerate(batch):
        if not runs or params["mnr"] in voters or params["rid"] in rids:
            runs.append([])
            voters, rids = set(), set()
        runs[-1].append(i)
        voters.add(params["mnr"])
        rids.add(params["rid"])
    return runs


# One call's draw from a credential's token bucket, shared by every API node: refill by
# the time since the last call on the database's clock, take a token when there is one.
# The SET expressions all see the row as it was, so the three agree.
RATE_TAKE_SQL = """
INSERT INTO rate_buckets AS b (kiosk_id, kind, tokens, at, allowed)
VALUES (%(kiosk)s, %(kind)s, %(burst)s - 1.0, extract(epoch FROM clock_timestamp()), true)
ON CONFLICT (kiosk_id, kind) DO UPDATE SET
    tokens = least(%(burst)s, b.tokens + greatest(0, excluded.at - b.at) * %(rate)s)
             - CASE WHEN least(%(burst)s, b.tokens + greatest(0, excluded.at - b.at) * %(rate)s) >= 1
                    THEN 1 ELSE 0 END,
    allowed = least(%(burst)s, b.tokens + greatest(0, excluded.at - b.at) * %(rate)s) >= 1,
    at = excluded.at
RETURNING allowed, tokens
"""


# After a failover the pool must find the new primary soon: psycopg_pool's default
# doubles the wait between reconnection attempts (1, 2, 4, 8 s…), which could add
# seconds after the standby is promoted. A steady half-second retry costs nothing on
# a LAN and bounds that delay. (A class attribute of the pool library; this process
# holds only the register's pools.)
AttemptWithBackoff.INITIAL_DELAY = 0.5
AttemptWithBackoff.DELAY_BACKOFF = 1.0


class _Retry(Exception):
    """The one-statement check-off lost a race (or met a reused request id): ask again."""


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
        # The hot path (check-off, lookup) runs on the event loop through an async pool,
        # opened on first use inside the server's loop; everything else stays synchronous.
        self._async_pool: AsyncConnectionPool | None = None
        self._async_loop: asyncio.AbstractEventLoop | None = None
        self._async_size = (min_size, max_size)
        self._closed = False
        # Check-offs waiting together share one transaction (valgkiosk.register.store.group_commit).
        self.group_commit: GroupCommit[dict[str, Any], Row] = GroupCommit(self._checkoff_rows,
                                                                             writers=_group_commit.PG_WRITERS)

    # -- the hot path --------------------------------------------------------------------------
    def _checkoff_params(self, kiosk: Kiosk, request_id: str, manntallsnummer: str,
                         now: datetime) -> dict[str, Any]:
        return {"mnr": manntallsnummer, "rid": request_id, "now": now, "kiosk_id": kiosk.kiosk_id,
                "kommune": kiosk.kommune, "krets": kiosk.krets, "bord": kiosk.bord}

    def _checkoff_outcome(self, row: tuple[Any, ...] | None, kiosk: Kiosk, request_id: str,
                          now: datetime) -> VoterStatus:
        """The answer to one check-off from the one statement's row (raises _Retry on a race)."""
        if row is None:
            return VoterStatus(Verdict.NOT_IN_REGISTER)
        voter, krets_navn = self._voter(row[1:12]), row[12]
        existing = self._checkoff_in(row)
        inserted, request_id_used, own_station = row[27], row[28], row[29]
        if existing is None:
            verdict = verdict_for(voter, None, kiosk, own_station_required=bool(row[13]))
            if inserted:
                assert verdict is Verdict.READY, "the SQL and rules.verdict_for disagree"
                return VoterStatus(Verdict.CHECKED_OFF, voter, krets_navn, Checkoff(
                    checked_off_at=now.astimezone(timezone.utc), kiosk_id=kiosk.kiosk_id,
                    kommune=kiosk.kommune, krets=kiosk.krets, krets_navn=own_station or "",
                    bord=kiosk.bord, request_id=request_id))
            if verdict is not Verdict.READY:
                return VoterStatus(verdict, voter, krets_navn)
            raise _Retry  # another transaction won, or the request id belongs to another voter
        if existing.request_id == request_id:
            if existing.kiosk_id != kiosk.kiosk_id:
                raise RequestIdConflict("Forespørsels-id-en er brukt av en annen kiosk.")
            return VoterStatus(Verdict.CHECKED_OFF, voter, krets_navn, existing)
        if request_id_used:
            raise RequestIdConflict("Forespørsels-id-en er allerede brukt for en annen velger.")
        return VoterStatus(Verdict.ALREADY_VOTED, voter, krets_navn, existing)

    def check_off(self, kiosk: Kiosk, request_id: str, manntallsnummer: str, now: datetime) -> VoterStatus:
        """As ``SqlStore.check_off``, in one statement (one round trip) in the common case."""
        params = self._checkoff_params(kiosk, request_id, manntallsnummer, now)
        with self._pool.connection() as conn:
            row = conn.execute(CHECKOFF_SQL, params).fetchone()
        try:
            return self._checkoff_outcome(row, kiosk, request_id, now)
        except _Retry:
            return super().check_off(kiosk, request_id, manntallsnummer, now)

    async def _apool(self) -> AsyncConnectionPool:
        if self._closed:
            raise psycopg.OperationalError("the register's store is closed")
        if self._async_pool is None:
            pool = AsyncConnectionPool(
                self.dsn, min_size=self._async_size[0], max_size=self._async_size[1], open=False,
                kwargs={"autocommit": True, "prepare_threshold": 2}, timeout=10,
            )
            if self._async_pool is None:
                self._async_pool, self._async_loop = pool, asyncio.get_running_loop()
                await pool.open()
        return self._async_pool

    async def check_off_async(self, kiosk: Kiosk, request_id: str, manntallsnummer: str,
                              now: datetime) -> VoterStatus:
        """``check_off`` on the event loop (no thread hand-off)."""
        params = self._checkoff_params(kiosk, request_id, manntallsnummer, now)
        if _group_commit.ENABLED:
            row = await self.group_commit.submit(params)
        else:
            row = await self._checkoff_row_alone(params)
        try:
            return self._checkoff_outcome(row, kiosk, request_id, now)
        except _Retry:
            import anyio

            return await anyio.to_thread.run_sync(super().check_off, kiosk, request_id, manntallsnummer, now)

    async def _checkoff_rows(self, batch: Sequence[dict[str, Any]]) -> list[Row | BaseException]:
        """The group commit's writer: every check-off waiting, in one transaction (one WAL
        flush) and one ``CHECKOFF_MANY_SQL`` statement per run of independent ones, rows
        returned after its COMMIT. Runs go in arrival order, each statement seeing the rows
        of the ones before it (READ COMMITTED: a new snapshot per statement), so two of one
        voter in a batch give one check-off and one "already voted", as one at a time would.

        A lost database fails the whole batch (every caller answers "uncertain" and its
        kiosk retries with the same request id); any other error (a statement refused, a
        deadlock with another batch in flight) aborts the transaction, so nothing of it is
        kept, and each runs again alone so that only the one at fault fails."""
        if len(batch) == 1:
            return [await self._checkoff_row_alone(batch[0])]
        pool = await self._apool()
        runs = _independent(batch)
        rows: list[Row] = [None] * len(batch)

        async def one(conn: psycopg.AsyncConnection[Any], run: list[int]) -> None:
            cur = await conn.execute(CHECKOFF_MANY_SQL, {
                key: [batch[i][key] for i in run]
                for key in ("mnr", "rid", "now", "kiosk_id", "kommune", "krets", "bord")})
            for row in await cur.fetchall():
                rows[run[row[0] - 1]] = None if row[1] is None else row[1:]

        try:
            async with pool.connection() as conn:
                if len(runs) == 1:
                    # The common case: one autocommit statement is its own transaction
                    # (all of it or nothing, committed before execute returns), so no
                    # BEGIN and COMMIT round trips of their own: one round trip a batch.
                    await one(conn, runs[0])
                else:
                    async with conn.transaction():
                        for run in runs:
                            await one(conn, run)
            return list(rows)
        except psycopg.OperationalError as exc:
            # class 40, transaction rollback (a deadlock with another transaction holding two
            # of these voters in the other order, a serialisation failure): the transaction
            # was undone, the database is there; anything else is a lost database
            if not (exc.sqlstate or "").startswith("40"):
                raise
        except psycopg.Error:
            pass  # a statement refused: undone, one at a time below
        return list(await asyncio.gather(*(self._checkoff_row_alone(p) for p in batch),
                                         return_exceptions=True))

    async def _checkoff_row_alone(self, params: dict[str, Any]) -> Row:
        """One check-off, one autocommit statement."""
        pool = await self._apool()
        async with pool.connection() as conn:
            cur = await conn.execute(CHECKOFF_SQL, params)
            return await cur.fetchone()

    async def voter_status_async(self, kiosk: Kiosk, manntallsnummer: str) -> VoterStatus:
        """``voter_status`` on the event loop."""
        pool = await self._apool()
        async with pool.connection() as conn:
            cur = await conn.execute(self._sql(self._VOTER_ROW_SQL.format(where="v.manntallsnummer")),
                                     (manntallsnummer,))
            row = await cur.fetchone()
        return self._status_from_row(row, kiosk)

    async def rate_take_async(self, kiosk_id: str, kind: str, per_second: float, burst: int) -> float:
        """Take one call from the shared bucket (``RATE_TAKE_SQL``): 0 when it may go ahead,
        else the seconds until it may."""
        pool = await self._apool()
        async with pool.connection() as conn:
            cur = await conn.execute(RATE_TAKE_SQL, {"kiosk": kiosk_id, "kind": kind,
                                                     "rate": float(per_second), "burst": float(burst)})
            row = await cur.fetchone()
        assert row is not None
        allowed, tokens = row
        return 0.0 if allowed else (1.0 - float(tokens)) / per_second

    def ping(self) -> bool:
        """Whether the server takes writes (a standby answers, but read-only)."""
        with self._pool.connection() as conn:
            row = conn.execute("SELECT NOT pg_is_in_recovery()").fetchone()
        return bool(row and row[0])

    async def ping_async(self) -> bool:
        """``ping`` on the event loop."""
        pool = await self._apool()
        async with pool.connection() as conn:
            cur = await conn.execute("SELECT NOT pg_is_in_recovery()")
            row = await cur.fetchone()
        return bool(row and row[0])

    async def aclose(self) -> None:
        """Close the async pool (the server's shutdown)."""
        if self._async_pool is not None:
            await self._async_pool.close()
            self._async_pool = None

    @contextlib.contextmanager
    def write(self) -> Iterator[psycopg.Cursor[Any]]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    @contextlib.contextmanager
    def read(self) -> Iterator[psycopg.Cursor[Any]]:
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
            yield cur

    def close(self) -> None:
        self._closed = True
        pool, loop = self._async_pool, self._async_loop
        if pool is not None and loop is not None and loop.is_running():
            try:
                running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop:  # from another thread: close it on its own loop
                future = asyncio.run_coroutine_threadsafe(pool.close(), loop)
                with contextlib.suppress(Exception):
                    future.result(timeout=5)
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
        return bool(cur.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0])
