"""What one loggbok entry costs: ``Journal.append`` (the entry made, every byte written,
fsynced, the head noted; signed when ``--signed``) against a reference measured in the
same run: the same bytes appended to a file with one ``os.write`` and one ``fsync``,
the two interleaved entry by entry (both see the same load).

    .venv/bin/python bench/journal_append.py [--entries 2000] [--state-dir /var/tmp] [--signed]

The loggbok is made in ``--state-dir`` (default ``/var/tmp``: a disk, as the data
partition is; on tmpfs fsync costs nothing). The ratio is journal ÷ reference: what the
checks (length, reserve, head note, signature) add to the fsync every entry needs anyway.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from valgkiosk import signing
from valgkiosk.core.loggbok import next_entry, to_line
from valgkiosk.journal import Journal

DATA = {"vote_id": "3f6c2b1e-0000-4000-8000-000000000000", "manntallsnummer": "000001234525",
        "manual_valgkort": False}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--state-dir", default="/var/tmp")
    parser.add_argument("--signed", action="store_true")
    args = parser.parse_args()
    at = datetime(2027, 9, 13, 10, 0, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory(dir=args.state_dir) as tmp:
        folder = Path(tmp)
        sign = None
        if args.signed:
            signing.generate(folder / "k.key")
            sign, _ = signing.load_signer(folder / "k.key")
        journal = Journal(folder / "loggbok.jsonl", sign=sign)
        # the reference: the same lines, one write and one fsync each
        lines, last = [], None
        for _ in range(args.entries):
            last = next_entry(last, "emergency_vote", DATA, at, sign=sign)
            lines.append((to_line(last) + "\n").encode("utf-8"))
        reference: list[float] = []
        kiosk: list[float] = []
        fd = os.open(folder / "reference.jsonl", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        try:
            for line in lines:  # interleaved, so both see the same load on a shared machine
                start = time.perf_counter()
                os.write(fd, line)
                os.fsync(fd)
                reference.append(time.perf_counter() - start)
                start = time.perf_counter()
                journal.append("emergency_vote", DATA, at=at)
                kiosk.append(time.perf_counter() - start)
        finally:
            os.close(fd)
    print(f"machine: {platform.machine()} {platform.processor() or ''} {os.cpu_count()} cores, "
          f"{platform.system()} {platform.release()}; state dir {args.state_dir}; signed: {args.signed}")
    for name, values in (("Journal.append", kiosk), ("write+fsync (reference)", reference)):
        print(f"{name:26} p50 {statistics.median(values) * 1000:7.3f} ms   p99 {percentile(values, 0.99) * 1000:7.3f} ms")
    print(f"ratio p50 {statistics.median(kiosk) / statistics.median(reference):.2f}   "
          f"p99 {percentile(kiosk, 0.99) / percentile(reference, 0.99):.2f}")


if __name__ == "__main__":
    main()
