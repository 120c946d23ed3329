"""Group commit of check-offs (valgkiosk.register.store.group_commit), on both backends.

Concurrent check-offs share one transaction; each caller is answered after its commit,
a refusal or a failed statement answers its own caller only, a commit that fails or a
database connection lost at the commit acknowledges nothing, and many kiosks on one
voter still give exactly one check-off. Faults are real: a deferred constraint (checked
at COMMIT) that a chosen request id violates, and on PostgreSQL a session that ends
itself at COMMIT.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone

import pytest

from valgkiosk.register.model import Kiosk, RequestIdConflict, Role, Verdict, VoterStatus
from valgkiosk.register.store import SqlStore
from valgkiosk.register.store.group_commit import GroupCommit

from .factory import KARI, OLA, TABLE_1, fill, many_voters

NOW = datetime(2025, 9, 8, 10, 0, tzinfo=timezone.utc)
VOTERS = many_voters(60)
KIOSKS = [Kiosk(f"prove-bord{n}", Role.KIOSK, "0301", "0101", n) for n in range(1, 17)]


def _rid() -> str:
    return str(uuid.uuid4())


def _once(store: SqlStore, calls: Sequence[tuple[Kiosk, str, str]]) -> list[VoterStatus | BaseException]:
    """``_together`` on a loop of its own."""
    results: list[VoterStatus | BaseException] = []

    async def scenario() -> None:
        results.extend(await _together(store, calls))
    _on_one_loop(store, scenario)
    return results


async def _together(store: SqlStore, calls: Sequence[tuple[Kiosk, str, str]]) -> list[VoterStatus | BaseException]:
    """Every (kiosk, request id, manntallsnummer) submitted in the same turn of the loop."""
    return list(await asyncio.gather(*(store.check_off_async(k, rid, mnr, NOW)  # type: ignore[attr-defined]
                                       for k, rid, mnr in calls), return_exceptions=True))


def _on_one_loop(store: SqlStore, scenario: Callable[[], Awaitable[None]]) -> None:
    """Run ``scenario`` on one event loop (PostgreSQL's async pool belongs to its loop)."""
    async def run() -> None:
        try:
            await scenario()
        finally:
            if hasattr(store, "aclose"):
                await store.aclose()
    asyncio.run(run())


def _rows(store: SqlStore) -> dict[str, str]:
    """request id -> manntallsnummer of every check-off in the database."""
    with store.read() as cur:
        cur.execute("SELECT c.request_id, v.manntallsnummer FROM checkoffs c JOIN voters v ON v.id = c.voter_id")
        return {str(r[0]): r[1] for r in cur.fetchall()}


def _poison_at_commit(store: SqlStore, request_id: str, *, end_session: bool = False) -> None:
    """Make any transaction that inserts a check-off with ``request_id`` fail at its COMMIT
    (a deferred constraint); ``end_session``: PostgreSQL's session ends itself there instead,
    as when the database is lost mid-commit."""
    with store.write() as cur:
        if store.dialect == "sqlite":
            assert not end_session
            cur.execute("CREATE TABLE poison (voter_id INTEGER REFERENCES voters (id) DEFERRABLE INITIALLY DEFERRED)")
            cur.execute(f"""CREATE TRIGGER poison AFTER INSERT ON checkoffs WHEN NEW.request_id = '{request_id}'
                            BEGIN INSERT INTO poison VALUES (-1); END""")
            return
        action = ("PERFORM pg_terminate_backend(pg_backend_pid())" if end_session
                  else "RAISE EXCEPTION 'poisoned check-off'")
        cur.execute(f"""CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN IF NEW.request_id = '{request_id}' THEN {action}; END IF; RETURN NULL; END $$""")
        cur.execute("""CREATE CONSTRAINT TRIGGER poison AFTER INSERT ON checkoffs
                       DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION poison()""")


@pytest.fixture
def filled(store: SqlStore) -> SqlStore:
    fill(store, VOTERS)
    return store


def test_concurrent_check_offs_share_transactions_and_each_gets_its_own_answer(filled: SqlStore) -> None:
    calls = [(KIOSKS[i % 16], _rid(), v.manntallsnummer) for i, v in enumerate(VOTERS[:40])]
    results = _once(filled, calls)
    for (kiosk, rid, mnr), result in zip(calls, results):
        assert isinstance(result, VoterStatus), result
        assert result.verdict is Verdict.CHECKED_OFF
        assert result.voter is not None and result.voter.manntallsnummer == mnr
        assert result.checkoff is not None and result.checkoff.request_id == rid
        assert result.checkoff.kiosk_id == kiosk.kiosk_id
    group = filled.group_commit  # type: ignore[attr-defined]
    assert group.items == 40
    assert group.batches < 40 / 4, f"{group.batches} transactions for 40 concurrent check-offs"
    assert _rows(filled) == {rid: mnr for _, rid, mnr in calls}


def test_sixteen_kiosks_on_one_voter_in_one_batch_give_exactly_one_check_off(filled: SqlStore) -> None:
    calls = [(k, _rid(), KARI.manntallsnummer) for k in KIOSKS]
    results = _once(filled, calls)
    verdicts = [r.verdict for r in results if isinstance(r, VoterStatus)]
    assert len(verdicts) == 16, results
    assert verdicts.count(Verdict.CHECKED_OFF) == 1
    assert verdicts.count(Verdict.ALREADY_VOTED) == 15
    winner = next(r for r in results if isinstance(r, VoterStatus) and r.verdict is Verdict.CHECKED_OFF)
    for r in results:
        assert isinstance(r, VoterStatus) and r.checkoff == winner.checkoff  # all name the one record
    assert list(_rows(filled).values()) == [KARI.manntallsnummer]
    assert filled.group_commit.batches < 16  # type: ignore[attr-defined]


def test_retries_of_one_request_in_one_batch_all_answer_the_same_check_off(filled: SqlStore) -> None:
    rid = _rid()
    results = _once(filled, [(TABLE_1, rid, OLA.manntallsnummer)] * 12)
    assert all(isinstance(r, VoterStatus) and r.verdict is Verdict.CHECKED_OFF for r in results), results
    assert len({r.checkoff for r in results if isinstance(r, VoterStatus)}) == 1
    assert _rows(filled) == {rid: OLA.manntallsnummer}


def test_a_refusal_in_a_batch_answers_its_own_caller_only(filled: SqlStore) -> None:
    reused = _rid()
    calls = [(KIOSKS[0], reused, VOTERS[0].manntallsnummer)]
    calls += [(KIOSKS[i], _rid(), VOTERS[i].manntallsnummer) for i in range(1, 8)]
    calls.insert(4, (KIOSKS[0], reused, VOTERS[20].manntallsnummer))  # the same request id, another voter
    results = _once(filled, calls)
    assert isinstance(results[4], RequestIdConflict), results[4]
    others = results[:4] + results[5:]
    assert all(isinstance(r, VoterStatus) and r.verdict is Verdict.CHECKED_OFF for r in others), others
    rows = _rows(filled)
    assert len(rows) == 8 and rows[reused] == VOTERS[0].manntallsnummer


def test_a_commit_that_fails_keeps_nothing_and_fails_only_its_own_check_off(filled: SqlStore) -> None:
    poisoned = _rid()
    _poison_at_commit(filled, poisoned)
    calls = [(KIOSKS[i], _rid(), VOTERS[i].manntallsnummer) for i in range(10)]
    calls[6] = (KIOSKS[6], poisoned, VOTERS[6].manntallsnummer)
    _on_one_loop(filled, lambda: _poisoned_commit(filled, calls))


async def _poisoned_commit(filled: SqlStore, calls: list[tuple[Kiosk, str, str]]) -> None:
    poisoned = calls[6][1]
    results = await _together(filled, calls)
    assert isinstance(results[6], Exception) and not isinstance(results[6], VoterStatus), results[6]
    for i, r in enumerate(results):
        if i != 6:
            assert isinstance(r, VoterStatus) and r.verdict is Verdict.CHECKED_OFF, (i, r)
    rows = _rows(filled)
    assert poisoned not in rows and VOTERS[6].manntallsnummer not in rows.values()
    assert len(rows) == 9
    # the failed one was never acknowledged: its kiosk's retry (the same request id, once
    # the fault is gone) checks the voter off, once
    with filled.write() as cur:
        cur.execute("DROP TRIGGER poison" + (" ON checkoffs" if filled.dialect == "postgres" else ""))
    again = (await _together(filled, [calls[6]]))[0]
    assert isinstance(again, VoterStatus) and again.verdict is Verdict.CHECKED_OFF
    assert len(_rows(filled)) == 10


@pytest.mark.postgres
def test_a_database_lost_at_commit_acknowledges_nothing_and_retries_land_once(filled: SqlStore) -> None:
    if filled.dialect != "postgres":
        pytest.skip("a lost database session is PostgreSQL's case (SQLite is in-process)")
    poisoned = _rid()
    _poison_at_commit(filled, poisoned, end_session=True)
    calls = [(KIOSKS[i], _rid(), VOTERS[i].manntallsnummer) for i in range(10)]
    calls[3] = (KIOSKS[3], poisoned, VOTERS[3].manntallsnummer)

    async def scenario() -> None:
        results = await _together(filled, calls)
        assert filled.group_commit.batches == 1, "the ten were not in one transaction"  # type: ignore[attr-defined]
        assert all(isinstance(r, Exception) for r in results), results  # nobody heard "avkrysset"
        assert _rows(filled) == {}
        with filled.write() as cur:
            cur.execute("DROP TRIGGER poison ON checkoffs")
        retried = await _together(filled, calls + calls)  # each kiosk retries, twice over
        assert all(isinstance(r, VoterStatus) and r.verdict is Verdict.CHECKED_OFF for r in retried), retried
        assert _rows(filled) == {rid: mnr for _, rid, mnr in calls}

    _on_one_loop(filled, scenario)


@pytest.mark.postgres
def test_a_deadlock_with_another_transaction_reruns_the_batch_one_at_a_time(filled: SqlStore) -> None:
    """Another transaction holds voter B and then waits for A, which the batch [A, B] holds
    while it waits for B: PostgreSQL aborts the batch (deadlock), and each of its check-offs
    runs again alone instead of failing."""
    if filled.dialect != "postgres":
        pytest.skip("row locks between transactions are PostgreSQL's case")
    import threading
    import time

    import psycopg

    a, b = VOTERS[0].manntallsnummer, VOTERS[1].manntallsnummer
    holds_b = threading.Event()
    other_got_a: list[bool] = []  # the other transaction was not the one aborted: the batch was
    insert = """INSERT INTO checkoffs VALUES ((SELECT id FROM voters WHERE manntallsnummer = %s), %s,
                now(), 'annen', '0301', '0101', 9)"""

    def other_transaction() -> None:
        with psycopg.connect(filled.dsn) as conn:  # type: ignore[attr-defined]
            conn.execute(insert, (b, "other-b"))
            holds_b.set()
            time.sleep(0.3)  # the batch has inserted A and waits for B
            conn.execute(insert, (a, "other-a"))  # waits for the batch: a deadlock, found in ~1 s
            other_got_a.append(True)
            time.sleep(0.3)
            conn.rollback()

    calls = [(KIOSKS[0], _rid(), a), (KIOSKS[1], _rid(), b)]

    async def scenario() -> None:
        other = threading.Thread(target=other_transaction)
        other.start()
        await asyncio.to_thread(holds_b.wait, 10)
        results = await _together(filled, calls)
        await asyncio.to_thread(other.join, 10)
        assert other_got_a == [True], "PostgreSQL aborted the other transaction: the test proves nothing"
        assert all(isinstance(r, VoterStatus) and r.verdict is Verdict.CHECKED_OFF for r in results), results
        assert _rows(filled) == {rid: mnr for _, rid, mnr in calls}

    _on_one_loop(filled, scenario)


# -- the writer on its own ---------------------------------------------------------------------
def test_the_writer_answers_each_caller_after_its_batch_and_fails_a_whole_batch_together() -> None:
    seen: list[list[int]] = []
    answered: list[int] = []

    async def run(items: Sequence[int]) -> list[int | BaseException]:
        seen.append(list(items))
        await asyncio.sleep(0.01)  # the "commit": nobody may have an answer before it ends
        assert not [i for i in items if i in answered]
        if 13 in items:
            raise OSError("the disk is gone")
        return [ValueError(i) if i == 7 else i * 10 for i in items]

    group: GroupCommit[int, int] = GroupCommit(run, max_batch=8)

    async def caller(i: int) -> int | str:
        try:
            result = await group.submit(i)
        except OSError:
            return "lost"
        except ValueError:
            return "refused"
        answered.append(i)
        return result

    async def main() -> list[int | str]:
        return list(await asyncio.gather(*(caller(i) for i in range(20))))

    results = asyncio.run(main())
    assert seen[0] == list(range(8)) and seen[1] == list(range(8, 16)) and seen[2] == list(range(16, 20))
    assert results[7] == "refused"
    assert results[8:16] == ["lost"] * 8  # 13's batch failed as a whole
    assert [r for i, r in enumerate(results) if i != 7 and not 8 <= i < 16] == \
        [i * 10 for i in range(20) if i != 7 and not 8 <= i < 16]


def test_two_writers_run_two_batches_at_once_and_leave_no_item_behind() -> None:
    in_flight = 0
    most = 0

    async def run(items: Sequence[int]) -> list[int | BaseException]:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1
        return [i + 1 for i in items]

    group: GroupCommit[int, int] = GroupCommit(run, max_batch=4, writers=2)

    async def kiosk(k: int) -> list[int]:
        # each kiosk sends its next item when the last one is answered, as a kiosk does
        return [await group.submit(k * 100 + n) for n in range(25)]

    async def main() -> list[list[int]]:
        return list(await asyncio.gather(*(kiosk(k) for k in range(8))))

    answers = asyncio.run(main())
    assert answers == [[k * 100 + n + 1 for n in range(25)] for k in range(8)]
    assert most == 2 and group.items == 200 and group.batches < 200
