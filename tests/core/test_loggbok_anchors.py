"""The chain's anchors: heads (what verify --expect catches that the chain alone cannot:
a cut tail, an emptied file, an entry appended with a recomputed hash) and per-kiosk
Ed25519 signatures (an entry added without the key). Older loggbøker still verify."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from valgkiosk import signing
from valgkiosk.cli import main
from valgkiosk.core.loggbok import Head, from_line, head_of, next_entry, to_line, verify
from valgkiosk.journal import Journal, chain_head

AT = datetime(2027, 9, 13, 9, 0, tzinfo=timezone.utc)


def chain(n: int, sign=None) -> list[str]:  # type: ignore[no-untyped-def]
    lines, last = [], None
    for i in range(n):
        last = next_entry(last, "emergency_vote", {"nr": i}, AT, sign=sign)
        lines.append(to_line(last))
    return lines


def head_at(lines: list[str], count: int) -> Head:
    return head_of(from_line(line) for line in lines[:count])


def test_the_three_attacks_pass_the_chain_alone() -> None:
    lines = chain(5)
    forged = next_entry(from_line(lines[-1]), "emergency_vote", {"nr": 99}, AT)
    for attacked in (lines[:3], [], [*lines, to_line(forged)]):
        assert verify(attacked) == []  # this is why the anchors are needed


def test_a_cut_tail_and_an_emptied_file_are_shorter_than_the_head() -> None:
    lines = chain(5)
    head = head_at(lines, 5)
    assert verify(lines, expect=[head]) == []
    for cut in (lines[:3], []):
        problems = verify(cut, expect=[head])
        assert len(problems) == 1 and "kortere enn kjedehodet" in problems[0].message


def test_a_replaced_chain_diverges_from_the_head() -> None:
    lines = chain(5)
    head = head_at(lines, 3)
    other = chain(2) + [to_line(next_entry(from_line(chain(2)[-1]), "emergency_vote", {"nr": 42}, AT))] + lines[3:]
    problems = verify(other, expect=[head])
    assert any("avviker fra kjedehodet" in p.message for p in problems)


def test_a_longer_loggbok_still_reaches_every_earlier_head() -> None:
    lines = chain(8)
    assert verify(lines, expect=[head_at(lines, 2), head_at(lines, 5), head_at(lines, 8)]) == []


def test_head_text_round_trips_and_is_checked() -> None:
    head = head_at(chain(3), 3)
    assert Head.parse(head.text()) == Head(head.count, head.hash)
    for bad in ("3", "x:" + head.hash, f"3:{head.hash[:10]}", f"3:{head.hash.upper()}"):
        with pytest.raises(ValueError):
            Head.parse(bad)


def test_an_entry_added_without_the_key_is_detected(tmp_path: Path) -> None:
    public = signing.generate(tmp_path / "loggbok.key")
    sign, public_again = signing.load_signer(tmp_path / "loggbok.key")
    assert public == public_again and (tmp_path / "loggbok.key.pub").read_text().strip() == public
    check = signing.checker(public)
    lines = chain(4, sign)
    assert verify(lines, check_signature=check) == []
    # appended by someone who can write the file but has no key: unsigned, or signed by another key
    unsigned = to_line(next_entry(from_line(lines[-1]), "emergency_vote", {"nr": 99}, AT))
    other_sign, _ = signing.load_signer(_other_key(tmp_path))
    wrong = to_line(next_entry(from_line(lines[-1]), "emergency_vote", {"nr": 99}, AT, sign=other_sign))
    for forged, words in ((unsigned, "ikke signert"), (wrong, "ikke er kioskens")):
        problems = verify([*lines, forged], check_signature=check)
        assert len(problems) == 1 and problems[0].line == 5 and words in problems[0].message
    # an edited signature on an existing entry
    raw = json.loads(lines[1])
    raw["sig"] = ("0" if raw["sig"][0] != "0" else "1") + raw["sig"][1:]
    tampered = [lines[0], json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":")), *lines[2:]]
    assert [p.line for p in verify(tampered, check_signature=check)] == [2]


def _other_key(folder: Path) -> Path:
    signing.generate(folder / "other.key")
    return folder / "other.key"


def test_an_older_loggbok_without_signatures_still_verifies() -> None:
    """The format before signatures (no «sig» field), byte for byte as it was written."""
    old = ('{"at":"2027-09-13T09:00:00+00:00","data":{"nr":0},"hash":"%s","kind":"emergency_vote",'
           '"prev":"%s","seq":1}')
    entry = next_entry(None, "emergency_vote", {"nr": 0}, AT)
    line = old % (entry.hash, "0" * 64)
    assert "sig" not in line and to_line(entry) == line
    assert verify([line]) == [] and from_line(line).sig == ""


def test_the_journal_signs_and_the_log_command_checks_heads_and_keys(tmp_path: Path, capsys) -> None:
    public = signing.generate(tmp_path / "k.key")
    sign, _ = signing.load_signer(tmp_path / "k.key")
    path = tmp_path / "loggbok.jsonl"
    journal = Journal(path, sign=sign, reserve_bytes=0)
    for i in range(3):
        journal.append("emergency_vote", {"nr": i})
    head = chain_head(journal)
    assert head.count == 3 and head.sig
    file_ = str(path)
    assert main(["log", "--file", file_, "verify", "--expect", head.text(), "--public-key", public]) == 0
    assert "alle signert" in capsys.readouterr().out
    assert main(["log", "--file", file_, "verify", "--public-key", str(tmp_path / "k.key.pub")]) == 0
    capsys.readouterr()
    # cut the last entry: shorter than the printed head
    path.write_bytes(b"".join(line + b"\n" for line in path.read_bytes().split(b"\n")[:2]))
    assert main(["log", "--file", file_, "verify", "--expect", head.text()]) == 1
    assert "kortere enn kjedehodet" in capsys.readouterr().out
    assert main(["log", "--file", file_, "verify", "--expect", "nonsense"]) == 2
    assert "ANTALL:HASH" in capsys.readouterr().err
