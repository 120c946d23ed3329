"""The loggbok on a real small filesystem that fills up (a tmpfs with ``size=``).

What the screen confirms must be on disk: an append either returns with the whole entry
fsynced, or raises with the file unchanged; the reserve lets the kiosk go on (and warn)
when the partition fills; after space is freed the next entry is a line of its own.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from valgkiosk.journal import RESERVE_IN_USE, Journal, JournalFull
from valgkiosk.station import JOURNAL_FAILED, Station, StationRefused

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root: run the tests as root"),
    pytest.mark.skipif(shutil.which("mount") is None, reason="the «mount» command (util-linux) is not installed"),
]

SIZE = 256 * 1024


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs of its own, unmounted afterwards."""
    where = tmp_path / "data"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0755", "tmpfs", str(where)], check=True,
                   timeout=10)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, timeout=10)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the filesystem with one file, leaving about ``leave`` bytes free."""
    filler = folder / "filler"
    with open(filler, "wb") as f:
        chunk = b"x" * 4096
        try:
            while True:
                st = os.statvfs(folder)
                free = st.f_bavail * st.f_frsize
                if free <= leave:
                    break
                f.write(chunk[: max(1, min(len(chunk), free - leave))])
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


def vote(i: int) -> dict[str, object]:
    return {"vote_id": f"v{i:04d}", "manntallsnummer": None, "manual_valgkort": True, "pad": "p" * 200}


def test_every_acknowledged_vote_survives_a_full_disk_and_nothing_is_glued(small_fs: Path) -> None:
    path = small_fs / "loggbok.jsonl"
    journal = Journal(path, reserve_bytes=16 * 1024, warn_bytes=48 * 1024)
    assert journal.reserve_path.stat().st_size == 16 * 1024
    filler = fill(small_fs)
    acknowledged: list[str] = []
    refused = 0
    for i in range(400):
        size_before = path.stat().st_size
        try:
            journal.append("emergency_vote", vote(i))
        except JournalFull:
            refused += 1
            assert path.stat().st_size == size_before, "a refused entry left bytes behind"
            if refused >= 3:
                break
        else:
            acknowledged.append(f"v{i:04d}")
    assert acknowledged, "the reserve gave no room at all"
    assert refused == 3
    assert journal.space_warning == RESERVE_IN_USE
    assert not journal.reserve_path.exists()
    # a big entry on the last few bytes: a short write is cut back, never left torn
    with pytest.raises(JournalFull):
        journal.append("emergency_vote", {**vote(999), "pad": "q" * 100_000})
    assert path.read_bytes().endswith(b"\n")
    filler.unlink()
    journal.append("emergency_vote", vote(1000))
    acknowledged.append("v1000")
    assert journal.reserve_path.exists(), "the reserve is kept again once there is room"
    reopened = Journal(path, reserve_bytes=16 * 1024, warn_bytes=48 * 1024)
    assert reopened.torn_tail == ""
    assert reopened.verify() == []
    assert [e.data["vote_id"] for e in reopened.entries()] == acknowledged


def test_the_kiosk_warns_before_it_must_refuse(small_fs: Path) -> None:
    journal = Journal(small_fs / "loggbok.jsonl", reserve_bytes=16 * 1024, warn_bytes=64 * 1024)
    assert journal.space_warning == ""
    fill(small_fs, leave=32 * 1024)
    assert "Lite ledig plass" in journal.space_warning
    journal.append("emergency_vote", vote(1))  # still recorded: the warning comes first


def test_a_refused_emergency_vote_is_not_counted_and_says_what_to_do(small_fs: Path) -> None:
    journal = Journal(small_fs / "loggbok.jsonl", reserve_bytes=0)
    station = Station(journal=journal, register=None,  # type: ignore[arg-type]  # no upload here
                      now=lambda: datetime(2027, 9, 13, 10, 0, tzinfo=timezone.utc), monotonic=lambda: 0.0)
    station.start_emergency()
    station.record_vote(None, manual_valgkort=True)
    fill(small_fs)
    with pytest.raises(StationRefused) as refused:
        for _ in range(100):
            station.record_vote(None, manual_valgkort=True)
    assert str(refused.value) == JOURNAL_FAILED and "papir" in JOURNAL_FAILED
    counted = station.state.vote_count
    again = Journal(small_fs / "loggbok.jsonl", reserve_bytes=0)
    on_disk = [e for e in again.entries() if e.kind == "emergency_vote"]
    assert len(on_disk) == counted, "the screen's count and the loggbok disagree"


def test_the_clerk_never_sees_a_refused_vote_as_counted(small_fs: Path) -> None:
    """The whole app on a loggbok that fills up: the last step shows the refusal and the
    paper fallback, not «er talt», and the count stays what the loggbok holds."""
    from typing import Any

    from textual.pilot import Pilot

    from tests.ui.test_emergency import cut_router, enter_pin, one_voter
    from valgkiosk.ui.testing import Rig, drive, make_rig, seen

    journal = Journal(small_fs / "loggbok.jsonl", reserve_bytes=0)

    async def script(rig: Rig, pilot: Pilot[Any]) -> None:
        await cut_router(rig, pilot)
        await enter_pin(pilot)
        await one_voter(rig, pilot, rig.card("Klar til avkrysning"))
        assert "Beredskapsstemme nr. 1 er talt" in seen(rig)
        fill(small_fs)
        with pytest.raises(JournalFull):  # use up the slack in the loggbok's last page too
            for _ in range(1000):
                journal.append("selftest", {"fyll": "x"})
        await one_voter(rig, pilot, rig.card("Har stemt før"))
        text = seen(rig)
        assert "Beredskapsstemme nr. 2 er talt" not in text
        assert "IKKE registrert" in text and "papir" in text
        assert rig.app.shell.station.state.vote_count == 1

    drive(script, make_rig(journal=journal))
    votes = [e for e in Journal(small_fs / "loggbok.jsonl", reserve_bytes=0).entries() if e.kind == "emergency_vote"]
    assert len(votes) == 1
