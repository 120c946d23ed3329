"""The loggbok on the data partition: durable, append-only, hash-chained.

Every append is written and fsynced before ``append`` returns, so whatever the screen
confirms afterwards survives a kill -9 or a power cut. A line torn by a power cut
(no newline: its append never returned) is set aside on open and the fact is logged.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from valgkiosk.core.loggbok import BadLine, ChainProblem, Entry, from_line, next_entry, to_line, verify

log = logging.getLogger("valgkiosk.journal")


class Journal:
    """The loggbok file; safe to append from several threads of one process."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._last: Entry | None = None
        self.torn_tail = self._recover()

    def _recover(self) -> str:
        """Drop a torn final line (from a power cut mid-write) and find the last entry."""
        if not self.path.exists():
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o640)
            os.fsync(fd)
            os.close(fd)
            _fsync_dir(self.path.parent)
            return ""
        data = self.path.read_bytes()
        torn = ""
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            torn = data[cut:].decode("utf-8", "replace")
            with open(self.path, "r+b") as f:
                f.truncate(cut)
                os.fsync(f.fileno())
            data = data[:cut]
        lines = data.decode("utf-8", "replace").splitlines()
        for entry in _readable(lines, self.path):
            self._last = entry  # new entries chain to the last readable one
        if torn:
            self.append("recovered", {"forkastet_ufullstendig_linje": len(torn)})
        return torn

    def append(self, kind: str, data: Mapping[str, Any], *, at: datetime | None = None) -> Entry:
        """Write one entry durably (written and fsynced) and return it."""
        when = at or datetime.now().astimezone()
        with self._lock:
            entry = next_entry(self._last, kind, data, when)
            line = (to_line(entry) + "\n").encode("utf-8")
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            self._last = entry
        return entry

    def lines(self) -> list[str]:
        """Every line as written."""
        return self.path.read_text(encoding="utf-8").splitlines()

    def entries(self) -> Iterator[Entry]:
        """Every readable entry, oldest first (a damaged line is skipped and logged here;
        :meth:`verify` reports it, so it is never hidden from the chair)."""
        return _readable(self.lines(), self.path)

    def verify(self) -> list[ChainProblem]:
        """Where the chain is broken; empty when the loggbok is intact."""
        return verify(self.lines())


class MemoryJournal:
    """A loggbok held in memory, with the same chain: for tests and a sim-mode kiosk
    that is given no loggbok file (nothing survives a restart)."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._last: Entry | None = None
        self._lock = threading.Lock()

    def append(self, kind: str, data: Mapping[str, Any], *, at: datetime | None = None) -> Entry:
        with self._lock:
            entry = next_entry(self._last, kind, data, at or datetime.now().astimezone())
            self._lines.append(to_line(entry))
            self._last = entry
        return entry

    def lines(self) -> list[str]:
        return list(self._lines)

    def entries(self) -> Iterator[Entry]:
        return _readable(self.lines(), "memory")

    def verify(self) -> list[ChainProblem]:
        return verify(self.lines())


def _readable(lines: list[str], where: object) -> Iterator[Entry]:
    for number, line in enumerate(lines, start=1):
        try:
            yield from_line(line)
        except BadLine:
            log.error("loggbok %s: line %d is damaged and was skipped", where, number)


def export(entries: list[Entry], fmt: str) -> str:
    """The entries as CSV or JSON, for the minutes (møteboka)."""
    if fmt == "json":
        return json.dumps([{"nr": e.seq, "tid": e.at, "type": e.kind, "hendelse": e.label(),
                            "data": e.data, "hash": e.hash} for e in entries],
                          ensure_ascii=False, indent=2)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\n")
        writer.writerow(["nr", "tid", "type", "hendelse", "detaljer", "hash"])
        for e in entries:
            details = ", ".join(f"{k}={v}" for k, v in e.data.items())
            writer.writerow([e.seq, e.at, e.kind, e.label(), details, e.hash])
        return out.getvalue()
    raise ValueError(f"ukjent format {fmt!r}: bruk csv eller json")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
