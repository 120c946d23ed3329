"""Group commit: concurrent check-offs gathered into one transaction and one disk flush.

Every check-off must be on disk (and, with Patroni's synchronous standby, on two
machines) before its kiosk hears "avkrysset", so each used to pay for a commit of its
own: a WAL flush, a transaction's bookkeeping in PostgreSQL, a round trip and a task
switch in the server. :class:`GroupCommit` is one writer task per store that takes
every check-off waiting when it is free, runs them in one transaction (in arrival
order, each seeing the ones before it, so the exactly-once rules are those of one
check-off at a time) and answers each caller only after that transaction's commit.

What it keeps:

- nothing is acknowledged before its commit: a caller's future is resolved after the
  batch's ``run`` returned, i.e. after COMMIT; if the commit fails or the process dies
  between gathering and commit, no caller of that batch has had an answer, and their
  kiosks retry with the same request id (exactly once by the request id, as before);
- a failure belongs to its own caller: ``run`` returns a result or an exception per
  item (a refused check-off does not stop its neighbours), and a batch that fails as a
  whole for any reason but a lost database is run again one item at a time (see the
  stores), so only the item at fault fails;
- no added wait: the writer starts a batch as soon as it is free (nothing like
  PostgreSQL's ``commit_delay``); one kiosk alone gets a batch of one.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

log = logging.getLogger("valgkiosk.register")

# ``VALGKIOSK_REGISTER_GROUP_COMMIT=0`` in the server's environment: every check-off in a
# transaction of its own, as before group commit (for comparing, bench/register_load.py
# --no-group-commit; docs/register-operations.md).
# A number above 0 is how many transactions of gathered check-offs PostgreSQL may have
# in flight at once (``GroupCommit.writers``; SQLite has one writer whatever it says).
# The default, 8 (half the async pool's 16 connections): with fewer writers than kiosks a
# check-off can wait for a commit it is not in while a connection stands idle (at 8 kiosks
# the same rate as 4 writers, but a p99 of 24-30 ms against 43-512); beyond 8 kiosks the
# check-offs batch up (docs/benchmarks.md, "Round 4, loaded machine").
_SETTING = os.environ.get("VALGKIOSK_REGISTER_GROUP_COMMIT", "").strip()
ENABLED = _SETTING != "0"
PG_WRITERS = int(_SETTING) if _SETTING.isdigit() and int(_SETTING) > 0 else 8

Item = TypeVar("Item")
Result = TypeVar("Result")

# run(items) -> one result or exception per item, in order; raising fails every item.
BatchRunner = Callable[[Sequence[Item]], Awaitable[Sequence[Result | BaseException]]]


class GroupCommit(Generic[Item, Result]):
    """One writer on the running event loop: ``submit`` waits for its item's batch to commit."""

    def __init__(self, run: BatchRunner[Item, Result], *, max_batch: int = 64, writers: int = 1) -> None:
        self._run = run
        self.max_batch = max_batch
        self.writers = writers  # batches in flight at once (each on its own connection)
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._running = 0  # writers started and not yet past their last look at the queue
        self._tasks: set[asyncio.Task[None]] = set()  # (held so that they are not collected)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0  # how many transactions the writer ran (for tests and the bench)
        self.items = 0

    async def submit(self, item: Item) -> Result:
        """The item's result, after the transaction that holds it committed."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new event loop (a test's): nothing of the old one carries over
            self._loop, self._queue, self._running, self._tasks = loop, [], 0, set()
        future: asyncio.Future[Result] = loop.create_future()
        self._queue.append((item, future))
        if self._running < self.writers:
            # (counted here and uncounted by the writer itself, in the same turn as its
            # last look at the queue: an item is never left with no writer to take it)
            self._running += 1
            writer = loop.create_task(self._write())
            self._tasks.add(writer)
            writer.add_done_callback(self._tasks.discard)
        return await future

    async def _write(self) -> None:
        # The first batch starts after the submitting task's next await: callers that
        # arrive in the same turn of the loop share it.
        try:
            await asyncio.sleep(0)
            await self._drain()
        finally:
            if asyncio.get_running_loop() is self._loop:
                self._running -= 1

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch:]
            self.batches += 1
            self.items += len(batch)
            try:
                results = await self._run([item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"a batch of {len(batch)} gave {len(results)} results")
            except Exception as exc:  # noqa: BLE001 - every caller of the batch hears it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled (shutdown): so are its callers
                for _, future in batch + self._queue:
                    future.cancel()
                self._queue = []
                raise
            for (_, future), result in zip(batch, results):
                if future.done():  # the caller went away (its request was cancelled)
                    continue
                if isinstance(result, BaseException):
                    future.set_exception(result)
                else:
                    future.set_result(result)
