"""Crash test: kill -9 at random points during the emergency routine. After every
restart the kiosk comes back with the same mode and count (from the loggbok), the chain
is intact, and the register ends up with every vote exactly once."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from kiosk_servers import RegisterServer
from valgkiosk.core import emergency as em
from valgkiosk.journal import Journal

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]
TARGET = 40
CHILD = Path(__file__).with_name("crash_station.py")


def table_counts(register: RegisterServer) -> dict[str, int]:
    answer = httpx.get(register.url + "/v1/counts", headers={"Authorization": f"Bearer {register.credential}"},
                       timeout=5).json()
    [table] = answer["tables"] or [{"emergency_votes": 0}]
    return table


def test_kill_9_at_random_points_loses_nothing_and_counts_once(register: RegisterServer, tmp_path: Path) -> None:
    loggbok = tmp_path / "loggbok.jsonl"
    rng = random.Random(2025)
    command = [sys.executable, str(CHILD), str(loggbok), register.url, register.credential, str(TARGET)]
    kills = 0
    previous_count = 0
    resumed_mid_routine = 0
    for attempt in range(40):
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines: list[str] = []
        if attempt < 8:  # kill the first runs at random points of their progress; let the last ones finish
            wanted = rng.randint(2, 12)
            assert child.stdout is not None
            while len(lines) < wanted:
                line = child.stdout.readline()
                if not line:
                    break
                lines.append(line)
            time.sleep(rng.uniform(0, 0.01))  # sometimes in the middle of the next write
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                kills += 1
        rest, err = child.communicate(timeout=60)
        out = "".join(lines) + rest
        first = out.splitlines()[0] if out else ""
        if '"emergency": true' in first and '"resumed": 0' not in first:
            resumed_mid_routine += 1  # came back in the routine with votes already counted
        if loggbok.exists():
            journal = Journal(loggbok)  # recovers a torn last line, as the kiosk does
            assert journal.verify() == [], f"broken chain after attempt {attempt}"
            state = em.replay(journal.entries())
            assert state.vote_count >= previous_count, "a recorded vote was lost"
            previous_count = state.vote_count
        if "DONE" in out:
            break
        assert child.returncode in (0, -signal.SIGKILL), err
    else:
        pytest.fail("the routine never finished")
    assert kills >= 3 and resumed_mid_routine >= 1, "the test must actually kill the kiosk mid-routine"
    state = em.replay(Journal(loggbok).entries())
    assert state.vote_count == TARGET and not state.emergency and state.pending == ()
    ids = [e.data["vote_id"] for e in Journal(loggbok).entries() if e.kind == "emergency_vote"]
    assert len(ids) == len(set(ids)) == TARGET
    numbers = [e.data["manntallsnummer"] for e in Journal(loggbok).entries() if e.kind == "emergency_vote"]
    assert len(set(numbers)) == TARGET  # each valgkort counted once
    assert table_counts(register)["emergency_votes"] == TARGET
