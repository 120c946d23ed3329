"""The loggbok on the data partition: durable, append-only, hash-chained.

An entry is whole on disk before ``append`` returns, or ``append`` raises and the file
is as it was: every byte written (a short ``os.write`` is continued, never ignored),
then fsynced; a write that fails half-way (a full disk) is cut back to where the entry
began, so the next entry is never glued to a torn one. A line torn by a power cut (no
newline: its append never returned) is moved to ``<loggbok>.torn`` on open (kept for
an auditor, out of the chain) and the fact is logged.

Space: the journal keeps a **reserve** file of ``reserve_bytes`` next to the loggbok.
When the disk is full an append gives the reserve back and writes into the room it
made, so the kiosk goes on recording while :attr:`Journal.space_warning` tells the
chair and the IT team; only when that room is used up too is an entry refused. The
warning also shows once the free space falls below ``warn_bytes``.

Reading is per line as bytes: a damaged or undecodable line (a 0xFF byte) is skipped
with a log line and named by :meth:`Journal.verify`, never a crash.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from valgkiosk.core.loggbok import (
    BadLine,
    ChainProblem,
    Entry,
    Head,
    from_line,
    head_of,
    next_entry,
    split_lines,
    to_line,
    verify,
)

log = logging.getLogger("valgkiosk.journal")

#: Room kept free for the loggbok alone (~4000 entries).
RESERVE_BYTES = 1 << 20
#: Below this much free space on the data partition the kiosk warns.
WARN_BYTES = 32 << 20

SPACE_LOW = ("Lite ledig plass til loggboken på kiosken ({free}). Varsle IKT-ansvarlig nå: "
             "når plassen er brukt opp, kan ingenting mer registreres.")
RESERVE_IN_USE = ("Loggboken skriver nå i reserveplassen sin: disken er full. Varsle IKT-ansvarlig straks; "
                  "når reserven er brukt opp, må bordet føre beredskapsstemmer på papir.")


class JournalFull(OSError):
    """The entry was refused: there is no room left for it (nothing was written)."""

    def __init__(self, message: str = "ingen ledig plass til loggboken") -> None:
        super().__init__(errno.ENOSPC, message)


class Journal:
    """The loggbok file; safe to append from several threads of one process."""

    def __init__(
        self,
        path: str | Path,
        *,
        sign: Callable[[str], str] | None = None,
        reserve_bytes: int = RESERVE_BYTES,
        warn_bytes: int = WARN_BYTES,
    ) -> None:
        self.path = Path(path)
        self.reserve_path = self.path.with_name(self.path.name + ".reserve")
        self.reserve_bytes = reserve_bytes
        self.warn_bytes = warn_bytes
        self._sign = sign
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._last: Entry | None = None
        self._reserve_used = False
        self.head_path = self.path.with_name(self.path.name + ".head")
        self.torn_tail = self._recover()
        #: Norwegian, for the chair: the loggbok no longer reaches the head it last wrote
        self.head_problem = self._check_last_head()
        self._keep_reserve()

    # -- opening ---------------------------------------------------------------------------
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
            tail = data[cut:]
            torn = tail.decode("utf-8", "replace")
            try:
                self._set_aside(tail)
            except OSError as exc:  # a full disk: the line was never confirmed, so it may go
                log.error("a torn loggbok line of %d bytes could not be set aside (%s)", len(tail), exc)
            with open(self.path, "r+b") as f:
                f.truncate(cut)
                os.fsync(f.fileno())
            data = data[:cut]
        for entry in _readable(split_lines(data), self.path):
            self._last = entry  # new entries chain to the last readable one
        if torn:
            try:
                self.append("recovered", {"forkastet_ufullstendig_linje": len(torn),
                                          "lagt_til_side_i": self.torn_path.name})
            except OSError as exc:  # the kiosk still starts; its own appends will say why they fail
                log.error("the loggbok's recovery entry could not be written (%s)", exc)
        return torn

    @property
    def torn_path(self) -> Path:
        """Where torn tails are set aside (never deleted: an auditor may want them)."""
        return self.path.with_name(self.path.name + ".torn")

    def _set_aside(self, tail: bytes) -> None:
        with open(self.torn_path, "ab") as f:
            f.write(tail + b"\n")
            f.flush()
            os.fsync(f.fileno())

    def _keep_reserve(self) -> None:
        """Make sure the reserve file is there and whole (written with zeros, fsynced:
        a sparse or delayed-allocation file would keep no room)."""
        if self.reserve_bytes <= 0:
            return
        try:
            if self.reserve_path.exists() and self.reserve_path.stat().st_size >= self.reserve_bytes:
                return
            with open(self.reserve_path, "wb") as f:
                chunk = b"\0" * min(self.reserve_bytes, 1 << 16)
                left = self.reserve_bytes
                while left > 0:
                    left -= f.write(chunk[:left])
                f.flush()
                os.fsync(f.fileno())
            self._reserve_used = False
        except OSError as exc:
            log.error("the loggbok's reserve space cannot be kept (%s)", exc)
            try:
                self.reserve_path.unlink(missing_ok=True)
            except OSError:
                pass
            self._reserve_used = True

    def _release_reserve(self) -> bool:
        """Give the reserve back to the filesystem; True when there was one to give."""
        if not self.reserve_path.exists():
            return False
        self.reserve_path.unlink()
        _fsync_dir(self.path.parent)
        self._reserve_used = True
        log.error("the data partition is full: the loggbok is writing into its reserve")
        return True

    # -- writing ---------------------------------------------------------------------------
    def append(self, kind: str, data: Mapping[str, Any], *, at: datetime | None = None) -> Entry:
        """Write one entry durably (every byte written, then fsynced) and return it.
        Raises OSError (:class:`JournalFull` when the disk is full) with the file unchanged."""
        when = at or datetime.now().astimezone()
        with self._lock:
            entry = next_entry(self._last, kind, data, when, sign=self._sign)
            line = (to_line(entry) + "\n").encode("utf-8")
            try:
                self._write_whole(line)
            except OSError as exc:
                if exc.errno != errno.ENOSPC or not self._release_reserve():
                    raise _as_full(exc) from None
                try:
                    self._write_whole(line)  # into the room the reserve left
                except OSError as again:
                    raise _as_full(again) from None
            self._last = entry
            self._note_head(entry)
            if self._reserve_used:
                self._restore_reserve()
        return entry

    def _note_head(self, entry: Entry) -> None:
        """Remember the head beside the loggbok (not fsynced: an older head after a power
        cut is still reached; this only catches a loggbok cut or replaced while the kiosk
        was off, by someone who left this file alone)."""
        note = f"{entry.seq}:{entry.hash}".ljust(95).encode("ascii") + b"\n"  # fixed width: rewritten in place
        try:
            fd = os.open(self.head_path, os.O_WRONLY | os.O_CREAT, 0o640)
            try:
                os.pwrite(fd, note, 0)
            finally:
                os.close(fd)
        except OSError:
            pass

    def _check_last_head(self) -> str:
        try:
            head = Head.parse(self.head_path.read_text(encoding="ascii"))
        except (OSError, ValueError):
            return ""
        problems = verify(self.raw_lines(), expect=[head])
        if not any(head.short() in p.message for p in problems):
            return ""
        log.error("the loggbok does not reach the head it last wrote (%s)", head.text())
        return (f"Loggboken er ikke lenger den kiosken skrev: den når ikke sitt siste kjedehode ({head.short()}). "
                "Føringer kan være slettet. Varsle stemmestyrets leder og IKT-ansvarlig.")

    def _restore_reserve(self) -> None:
        """Once space has been freed again, keep the reserve again."""
        try:
            if self.free_bytes() > self.reserve_bytes + self.warn_bytes:
                self._keep_reserve()
        except OSError:
            pass

    def _write_whole(self, line: bytes) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            start = os.fstat(fd).st_size
            try:
                done = 0
                while done < len(line):
                    written = os.write(fd, line[done:])
                    if written <= 0:
                        raise OSError(errno.EIO, "write returned nothing")
                    done += written
                os.fsync(fd)
            except OSError:
                _cut_back(fd, start)
                raise
        finally:
            os.close(fd)

    # -- space -----------------------------------------------------------------------------
    def free_bytes(self) -> int:
        """Free space on the loggbok's filesystem for an ordinary user (bytes)."""
        st = os.statvfs(self.path.parent)
        return st.f_bavail * st.f_frsize

    @property
    def warning(self) -> str:
        """What every screen's banner says about the loggbok (Norwegian): it no longer
        reaches its last head, or space runs low; "" when all is well."""
        return self.head_problem or self.space_warning

    @property
    def space_warning(self) -> str:
        """A Norwegian warning for the chair and the IT team when space runs low; "" otherwise."""
        if self._reserve_used:
            return RESERVE_IN_USE
        try:
            free = self.free_bytes()
        except OSError:
            return ""
        if free < self.warn_bytes:
            return SPACE_LOW.format(free=_size_nb(free))
        return ""

    # -- reading ---------------------------------------------------------------------------
    def raw_lines(self) -> list[bytes]:
        """Every line as bytes, as on disk."""
        return split_lines(self.path.read_bytes())

    def lines(self) -> list[str]:
        """Every line as text (an undecodable byte shown as U+FFFD)."""
        return [line.decode("utf-8", "replace") for line in self.raw_lines()]

    def entries(self) -> Iterator[Entry]:
        """Every readable entry, oldest first (a damaged line is skipped and logged here;
        :meth:`verify` reports it, so it is never hidden from the chair)."""
        return _readable(self.raw_lines(), self.path)

    def head(self) -> Head:
        """The chain's head now: the last entry's number and hash."""
        with self._lock:
            last = self._last
        return Head(0) if last is None else Head(last.seq, last.hash, last.sig)

    def verify(self, **checks: Any) -> list[ChainProblem]:
        """Where the chain is broken; empty when the loggbok is intact (``expect``,
        ``check_signature``: see :func:`valgkiosk.core.loggbok.verify`)."""
        return verify(self.raw_lines(), **checks)


class MemoryJournal:
    """A loggbok held in memory, with the same chain: for tests and a sim-mode kiosk
    that is given no loggbok file (nothing survives a restart)."""

    space_warning = warning = ""

    def __init__(self, *, sign: Callable[[str], str] | None = None) -> None:
        self._lines: list[str] = []
        self._last: Entry | None = None
        self._lock = threading.Lock()
        self._sign = sign

    def append(self, kind: str, data: Mapping[str, Any], *, at: datetime | None = None) -> Entry:
        with self._lock:
            entry = next_entry(self._last, kind, data, at or datetime.now().astimezone(), sign=self._sign)
            self._lines.append(to_line(entry))
            self._last = entry
        return entry

    def head(self) -> Head:
        return head_of(self.entries())

    def lines(self) -> list[str]:
        return list(self._lines)

    def entries(self) -> Iterator[Entry]:
        return _readable(self.lines(), "memory")

    def verify(self, **checks: Any) -> list[ChainProblem]:
        return verify(self.lines(), **checks)


def _readable(lines: Iterable[str | bytes], where: object) -> Iterator[Entry]:
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


def chain_head(journal: Any) -> Head:
    """The chain head of any loggbok (Journal or MemoryJournal): for status reports,
    uploads, the F11 screen and the chair's printouts."""
    return journal.head() if hasattr(journal, "head") else head_of(journal.entries())


def read_lines(path: str | Path) -> list[bytes]:
    """A loggbok file's lines as bytes, without opening it as a Journal (which writes)."""
    return split_lines(Path(path).read_bytes())


def _cut_back(fd: int, size: int) -> None:
    """Undo a half-written entry: truncate to where it began (best effort, logged)."""
    try:
        os.ftruncate(fd, size)
        os.fsync(fd)
    except OSError as exc:
        log.error("a half-written loggbok entry could not be cut back (%s)", exc)


def _as_full(exc: OSError) -> OSError:
    return JournalFull() if exc.errno in (errno.ENOSPC, errno.EDQUOT) else exc


def _size_nb(size: int) -> str:
    if size >= 1 << 20:
        return f"{size / (1 << 20):.0f} MB"
    return f"{size // 1024} kB"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
