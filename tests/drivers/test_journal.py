"""The loggbok file: durable appends, torn-tail recovery, kill -9, and the log command."""

from __future__ import annotations

import json

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from valgkiosk.cli import main
from valgkiosk.journal import Journal


def test_appends_survive_reopening_and_chain(tmp_path: Path) -> None:
    path = tmp_path / "loggbok.jsonl"
    j = Journal(path)
    j.append("start", {"versjon": "0.1"})
    j.append("emergency_vote", {"manntallsnummer": "000001234525"})
    again = Journal(path)
    third = again.append("stop", {})
    assert third.seq == 3 and again.verify() == []
    assert [e.kind for e in again.entries()] == ["start", "emergency_vote", "stop"]


def test_a_torn_last_line_is_set_aside_and_logged(tmp_path: Path) -> None:
    path = tmp_path / "loggbok.jsonl"
    j = Journal(path)
    j.append("start", {})
    j.append("emergency_vote", {"nr": 1})
    with open(path, "ab") as f:  # a power cut in the middle of the third write
        f.write(b'{"at":"2027-09-13T10:00:00+02:00","data":{"nr"')
    recovered = Journal(path)
    assert recovered.torn_tail.startswith('{"at"')
    kinds = [e.kind for e in recovered.entries()]
    assert kinds == ["start", "emergency_vote", "recovered"]
    assert recovered.verify() == []


WRITER = """
import sys
from valgkiosk.journal import Journal
j = Journal(sys.argv[1])
for i in range(100000):
    j.append("emergency_vote", {"nr": i})
    print(i, flush=True)   # acknowledged only after the fsync inside append
"""


def test_kill_9_mid_append_keeps_every_acknowledged_entry(tmp_path: Path) -> None:
    path = tmp_path / "loggbok.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    acknowledged = -1
    deadline = time.monotonic() + 30
    while acknowledged < 50 and time.monotonic() < deadline:
        acknowledged = int(proc.stdout.readline())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    j = Journal(path)
    assert j.verify() == []
    numbers = [e.data["nr"] for e in j.entries() if e.kind == "emergency_vote"]
    assert numbers == list(range(len(numbers)))
    assert len(numbers) >= acknowledged + 1


def test_log_command_verifies_shows_and_exports(tmp_path: Path, capsys) -> None:
    path = tmp_path / "loggbok.jsonl"
    j = Journal(path)
    j.append("outage_start", {"lag": "ruter", "ruterstrøm": False})
    j.append("outage_end", {"varighet_s": 95})
    assert main(["log", "--file", str(path), "verify"]) == 0
    assert "intakt" in capsys.readouterr().out
    assert main(["log", "--file", str(path), "show"]) == 0
    shown = capsys.readouterr().out
    assert "mistet kiosken kontakt med manntallet: ruter." in shown and "ruterstrøm" not in shown
    assert "fikk kiosken kontakt med manntallet igjen." in shown
    assert main(["log", "--file", str(path), "show", "--json"]) == 0
    machine = json.loads(capsys.readouterr().out)
    assert [e["type"] for e in machine] == ["outage_start", "outage_end"] and machine[0]["data"]["ruterstrøm"] is False
    assert main(["log", "--file", str(path), "export", "--format", "csv"]) == 0
    csv_text = capsys.readouterr().out
    assert csv_text.splitlines()[0] == "nr;tid;type;hendelse;detaljer;hash" and len(csv_text.splitlines()) == 3
    text = path.read_text(encoding="utf-8").replace('"varighet_s":95', '"varighet_s":5')
    path.write_text(text, encoding="utf-8")
    assert main(["log", "--file", str(path), "verify"]) == 1
    assert "IKKE intakt" in capsys.readouterr().out


def test_a_damaged_line_in_the_middle_does_not_stop_the_kiosk(tmp_path: Path) -> None:
    """A line damaged on disk: the kiosk still starts (the state comes from the readable
    entries), new entries are appended, and verify names the damaged line."""
    from valgkiosk.core import emergency as em

    path = tmp_path / "loggbok.jsonl"
    journal = Journal(path)
    journal.append("emergency_start", {})
    journal.append("emergency_vote", {"vote_id": "a", "manntallsnummer": None, "manual_valgkort": True})
    journal.append("emergency_vote", {"vote_id": "b", "manntallsnummer": None, "manual_valgkort": True})
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1][:20] + "\x00garbage"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reopened = Journal(path)
    state = em.replay(reopened.entries())
    assert state.emergency and [v.vote_id for v in state.votes] == ["b"]
    reopened.append("emergency_end", {})
    assert [p.line for p in reopened.verify()][:1] == [2]
    assert [e.kind for e in reopened.entries()] == ["emergency_start", "emergency_vote", "emergency_end"]
