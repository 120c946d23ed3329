"""Bounds on what one kiosk credential can read: rate limits, access records, scraper alerts.

A stolen credential must not be able to empty the register. Three parts:

- :class:`RateLimiter`: a token bucket per credential for lookups and for searches, sized
  for a real table (about a voter every ten seconds, with bursts for a queue at opening
  time). On PostgreSQL the buckets live in the database (:class:`SharedRateLimiter`), so
  every worker and API node draws from the same one; an SQLite register has one process,
  whose memory holds them.
- :class:`AccessLog`: one access record per lookup and search (kiosk, time, what was asked,
  what came of it) written to the database in small batches, never to a log file.
- :func:`alerts`: the reasons a credential looks like a scraper, from a summary of its
  records, for valgstyret's report (``GET /v1/access-report``,
  ``valgkiosk register access-report``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import anyio

from valgkiosk.register.model import AccessRecord, AccessSummary
from valgkiosk.register.store import SqlStore

log = logging.getLogger("valgkiosk.register")


@dataclass(frozen=True, slots=True)
class Limit:
    """``per_minute`` calls on average, ``burst`` at once; ``per_minute=0`` means no limit."""

    per_minute: float
    burst: int


LOOKUP_LIMIT = Limit(per_minute=6, burst=30)  # a voter every ten seconds, a queue of 30
SEARCH_LIMIT = Limit(per_minute=2, burst=10)  # a voter without a valgkort is the exception


class RateLimiter:
    """Token buckets per credential, in this process (the SQLite register's one process)."""

    def __init__(self, limit: Limit, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # kiosk -> (tokens, at)
        self._warned: set[str] = set()

    async def take(self, kiosk_id: str) -> float:
        """0 when the call may go ahead, else the seconds until it may."""
        return self.allow(kiosk_id)

    def _warn_once(self, kiosk_id: str) -> None:
        if kiosk_id not in self._warned:  # once per credential and process: no flood of lines
            self._warned.add(kiosk_id)
            log.warning("credential %s is over its rate limit (%g a minute, bursts of %d)",
                        kiosk_id, self.limit.per_minute, self.limit.burst)

    def allow(self, kiosk_id: str) -> float:
        """0 when the call may go ahead, else the seconds until it may."""
        if self.limit.per_minute <= 0:
            return 0.0
        now = self._clock()
        rate = self.limit.per_minute / 60.0
        tokens, at = self._buckets.get(kiosk_id, (float(self.limit.burst), now))
        tokens = min(float(self.limit.burst), tokens + (now - at) * rate)
        if tokens >= 1.0:
            self._buckets[kiosk_id] = (tokens - 1.0, now)
            return 0.0
        self._buckets[kiosk_id] = (tokens, now)
        self._warn_once(kiosk_id)
        return (1.0 - tokens) / rate


class SharedRateLimiter(RateLimiter):
    """Token buckets in the database, one per credential and ``kind``: every API node and
    worker draws from the same bucket, so N processes do not allow N times the rate.

    ``take_from`` is the store's ``rate_take_async`` (one statement on the async pool,
    into an unlogged table: no WAL flush). When the database cannot answer, the call is
    refused by the database error like the lookup it guards would be."""

    def __init__(self, limit: Limit, kind: str,
                 take_from: Callable[[str, str, float, int], Awaitable[float]]) -> None:
        super().__init__(limit)
        self.kind = kind
        self._take_from = take_from

    async def take(self, kiosk_id: str) -> float:
        if self.limit.per_minute <= 0:
            return 0.0
        wait = await self._take_from(kiosk_id, self.kind, self.limit.per_minute / 60.0, self.limit.burst)
        if wait > 0:
            self._warn_once(kiosk_id)
        return wait


class AccessLog:
    """Access records collected in memory and written in one transaction every ``interval``.

    Batching keeps a lookup a read; the price is that a crash can lose the records of
    the last ``interval`` seconds. ``flush`` writes what is pending now.
    """

    def __init__(self, store: SqlStore, *, interval: float = 0.5) -> None:
        self._store = store
        self._interval = interval
        self._pending: list[AccessRecord] = []
        self._task: asyncio.Task[None] | None = None
        self._writing: asyncio.Lock | None = None  # made on the server's loop

    def record(self, at: datetime, kiosk_id: str, kind: str, asked: str, outcome: str) -> None:
        self._pending.append(AccessRecord(at, kiosk_id, kind, asked, outcome))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._writer())

    async def _writer(self) -> None:
        while self._pending:
            await asyncio.sleep(self._interval)
            await self.flush()

    async def flush(self) -> None:
        """Write what is pending; when it returns, every record made before is stored
        (a write already under way is waited for)."""
        if self._writing is None:
            self._writing = asyncio.Lock()
        async with self._writing:
            batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                await anyio.to_thread.run_sync(self._store.record_access, batch)
            except Exception as exc:  # noqa: BLE001 - keep them for the next try
                log.error("could not write %d access records: %s", len(batch), type(exc).__name__)
                self._pending[:0] = batch


def alerts(s: AccessSummary, minutes: float) -> list[str]:
    """Why a credential's last ``minutes`` look like scraping (empty: nothing to see)."""
    reasons = []
    human = 6 * minutes + 30  # a voter every ten seconds plus a queue
    if s.rate_limited:
        reasons.append(f"{s.rate_limited} oppslag avvist for høy takt")
    if s.lookups + s.searches > human:
        reasons.append(f"{s.lookups + s.searches} oppslag på {minutes:g} minutter, mer enn et bord rekker")
    if s.lookups > 3 * s.checkoffs + 20:
        reasons.append(f"{s.lookups} oppslag, men bare {s.checkoffs} avkrysninger")
    if s.nobody_found > 20 and s.nobody_found * 2 > s.lookups + s.searches:
        reasons.append(f"{s.nobody_found} oppslag som ikke fant noen (gjetting?)")
    if s.searches > 30:
        reasons.append(f"{s.searches} søk uten valgkort")
    return reasons
