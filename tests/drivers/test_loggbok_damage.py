"""Loggbok files damaged byte by byte: reading skips the damaged line, verify names it,
the kiosk still opens the file and chains on with a line of its own, and the log command
never crashes."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from valgkiosk.cli import main
from valgkiosk.core.loggbok import verify
from valgkiosk.journal import Journal, read_lines

AT = datetime(2027, 9, 13, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("orig") / "loggbok.jsonl"
    j = Journal(path, reserve_bytes=0)
    j.append("emergency_start", {"reachable": False}, at=AT)
    j.append("emergency_vote", {"vote_id": "a", "manntallsnummer": "000001234525", "manual_valgkort": False}, at=AT)
    j.append("emergency_end", {"votes": 1, "pending": 1}, at=AT)
    return path.read_bytes()


@pytest.mark.parametrize("damage", ["0xff", "xor1"])
def test_every_damaged_byte_is_named_and_never_crashes(original: bytes, tmp_path: Path, damage: str) -> None:
    assert verify(original.split(b"\n")[:-1]) == []
    for position in range(len(original)):
        data = bytearray(original)
        data[position] = 0xFF if damage == "0xff" else data[position] ^ 1
        damaged = bytes(data)
        problems = verify(read_lines_of(damaged, tmp_path))
        assert problems, f"byte {position} changed and verify saw nothing"
        line = original[:position].count(b"\n") + 1
        assert any(p.line in (line, line + 1) for p in problems), f"byte {position}: wrong line named"
        # the kiosk opens the damaged file, reads what it can and chains on
        path = tmp_path / f"k{position}.jsonl"
        path.write_bytes(damaged)
        journal = Journal(path, reserve_bytes=0)
        list(journal.entries())
        added = journal.append("stop", {}, at=AT)
        last = path.read_bytes().split(b"\n")[-2]
        assert b'"kind":"stop"' in last and last.startswith(b"{") and f'"seq":{added.seq}'.encode() in last
        path.unlink()
        journal.torn_path.unlink(missing_ok=True)


def read_lines_of(data: bytes, folder: Path) -> list[bytes]:
    path = folder / "read.jsonl"
    path.write_bytes(data)
    return read_lines(path)


def test_log_verify_and_show_name_an_undecodable_byte(original: bytes, tmp_path: Path, capsys) -> None:
    path = tmp_path / "loggbok.jsonl"
    data = bytearray(original)
    data[original.index(b"emergency_vote") + 3] = 0xFF
    path.write_bytes(bytes(data))
    assert main(["log", "--file", str(path), "verify"]) == 1
    out = capsys.readouterr().out
    assert "Linje 2 er ødelagt (ikke gyldig UTF-8" in out and "IKKE intakt" in out
    assert main(["log", "--file", str(path), "show"]) == 0
    captured = capsys.readouterr()
    assert "linje 2 er ødelagt" in captured.err and "avsluttet stemmestyrets leder beredskapsrutinen" in captured.out


def test_a_tail_cut_while_the_kiosk_was_off_is_noticed_at_start(tmp_path: Path) -> None:
    path = tmp_path / "loggbok.jsonl"
    journal = Journal(path, reserve_bytes=0)
    for i in range(4):
        journal.append("emergency_vote", {"vote_id": str(i), "manntallsnummer": None, "manual_valgkort": True}, at=AT)
    assert Journal(path, reserve_bytes=0).head_problem == ""
    path.write_bytes(b"".join(line + b"\n" for line in read_lines(path)[:2]))
    cut = Journal(path, reserve_bytes=0)
    assert "når ikke sitt siste kjedehode (nr. 4" in cut.head_problem and cut.warning == cut.head_problem
    # every screen's banner says so
    from valgkiosk.station import Station
    from valgkiosk.ui.emergency import banner

    station = Station(journal=cut, register=None, now=lambda: AT, monotonic=lambda: 0.0)  # type: ignore[arg-type]
    shown = banner(station)
    assert shown is not None and cut.head_problem in shown[1]
