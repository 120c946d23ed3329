"""Child process for the crash test: the station's emergency routine against the real
register, picking up wherever the loggbok says it stopped. Killed with SIGKILL at random
points by tests/kiosk/test_station_crash.py and started again until it prints DONE.

Plan: start the routine, count TARGET emergency votes (one per valgkort), end the
routine, upload the votes. Each step is taken only if the replayed state says it is due."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import datetime

from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.journal import Journal
from valgkiosk.register_client import HttpRegister
from valgkiosk.station import Station


async def main(path: str, url: str, credential: str, target: int) -> None:
    journal = Journal(path)
    register = HttpRegister(url, credential, timeout=5.0)
    station = Station(journal=journal, register=register, now=lambda: datetime.now().astimezone(),
                      monotonic=time.monotonic)
    ended = any(e.kind == "emergency_end" for e in journal.entries())
    print(json.dumps({"resumed": station.state.vote_count, "emergency": station.state.emergency}), flush=True)
    if not ended:
        if not station.state.emergency:
            station.start_emergency()
        while station.state.vote_count < target:
            number = mnr.make(5000 + station.state.vote_count, 2025).digits
            station.record_vote(number, manual_valgkort=False)
            print(json.dumps({"votes": station.state.vote_count}), flush=True)  # the test kills on these
            time.sleep(0.005)
        station.end_emergency()
        print(json.dumps({"ended": True}), flush=True)
    while not await station.upload_pending():
        await asyncio.sleep(0.2)
    await register.aclose()
    print("DONE", flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
