"""The print queue: every job is on disk before it is sent, a failed job stays until the
clerk prints it again or discards it, and nothing is printed twice unasked.

One JSON file per job in ``directory``, written atomically (temporary file, fsync,
rename, fsync of the directory). A job is marked ``printing`` on disk before its bytes
go out and removed once the printer has taken it. After a restart, pending and failed
jobs are listed again but never printed on their own; a job that was ``printing`` when
the kiosk stopped becomes ``interrupted`` (it may be on paper: the clerk checks).

Personal data: a job whose receipt holds it (a manual valgkort: name, date of birth,
address, manntallsnummer) **expires** at the end of the day it was made (``expires``,
local time, default 23:59, the station file's ``printer.personal_data_until``) and is
then destroyed, printed or not, at the next start or look at the queue. Every job file
that goes (printed, discarded, expired, unreadable), and every earlier version an
atomic rewrite replaces, is overwritten with zeros and fsynced, so the bytes do not linger in a free block of the file
system; on flash an overwrite may land in other cells, which is why the data partition
is meant to be encrypted as well (docs/personal-data.md).
"""

from __future__ import annotations

import enum
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from valgkiosk.ports.printer import PrinterError, Receipt, ReceiptPrinter

__all__ = ["JobBusy", "JobState", "PrintJob", "PrintOutcome", "PrintQueue", "destroy"]

log = logging.getLogger(__name__)

SUFFIX = ".job.json"
#: Receipt kinds that carry personal data, and so expire.
PERSONAL_KINDS = frozenset({"manual_valgkort"})
#: The end of the day a job holding personal data is kept to (local time).
END_OF_DAY = time(23, 59)


class JobState(str, enum.Enum):
    """Where a kept job stands."""

    PENDING = "pending"  # stored, not yet sent
    PRINTING = "printing"  # being sent (on disk only while it is)
    FAILED = "failed"  # the printer refused or broke off; see ``error``
    INTERRUPTED = "interrupted"  # the kiosk stopped while it was printing


@dataclass(frozen=True, slots=True)
class PrintJob:
    """A receipt waiting in the queue."""

    id: str
    receipt: Receipt
    created_at: str  # ISO 8601
    state: JobState = JobState.PENDING
    attempts: int = 0
    error_kind: str = ""
    error: str = ""  # Norwegian, for the clerk
    may_have_printed: bool = False
    # the loggbok entry to write once the printer has taken the job ("" for none)
    journal_kind: str = ""
    journal_data: Mapping[str, Any] | None = None
    expires_at: str = ""  # ISO 8601; "" never (no personal data)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "receipt": self.receipt.to_json(), "created_at": self.created_at,
                "state": self.state.value, "attempts": self.attempts,
                "error_kind": self.error_kind, "error": self.error,
                "may_have_printed": self.may_have_printed,
                "journal_kind": self.journal_kind, "journal_data": dict(self.journal_data or {}),
                "expires_at": self.expires_at}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PrintJob:
        return cls(str(data["id"]), Receipt.from_json(data["receipt"]), str(data["created_at"]),
                   JobState(data["state"]), int(data["attempts"]), str(data["error_kind"]),
                   str(data["error"]), bool(data["may_have_printed"]),
                   str(data.get("journal_kind", "")), dict(data.get("journal_data") or {}),
                   str(data.get("expires_at", "")))

    def expired(self, now: datetime) -> bool:
        """Whether the job's personal data is past its time (a job from before expiry
        existed, with personal data, expires at the end of the day it was made)."""
        if self.expires_at:
            return now >= datetime.fromisoformat(self.expires_at)
        if self.receipt.kind in PERSONAL_KINDS:
            return now >= end_of_day(datetime.fromisoformat(self.created_at), END_OF_DAY)
        return False


def end_of_day(made: datetime, until: time) -> datetime:
    """The moment on the day ``made`` (in local time) that ``until`` names."""
    local = made.astimezone()
    end = local.replace(hour=until.hour, minute=until.minute, second=0, microsecond=0)
    return end if end > local else end + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PrintOutcome:
    """What one attempt did: printed, or the fault that stopped it (the job is kept)."""

    job: PrintJob
    error: PrinterError | None = None

    @property
    def printed(self) -> bool:
        return self.error is None


class JobBusy(RuntimeError):
    """The job is being printed right now."""


class PrintQueue:
    """Sends receipts to ``printer`` one at a time and keeps those that did not print.

    ``on_printed`` is called (in the printing thread) after each printed job, so the
    kiosk can log every printed valgkort.
    """

    def __init__(self, printer: ReceiptPrinter, directory: str | Path, *,
                 now: Callable[[], datetime] | None = None,
                 on_printed: Callable[[PrintJob], None] | None = None,
                 personal_data_until: time = END_OF_DAY) -> None:
        self.printer = printer
        self.personal_data_until = personal_data_until
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._now = now or (lambda: datetime.now(timezone.utc))
        self._on_printed = on_printed
        self._lock = threading.Lock()  # guards _jobs and the files
        self._print_lock = threading.Lock()  # one job at a time on the printer
        self._busy: set[str] = set()
        self._jobs: dict[str, PrintJob] = {}
        self._load()
        self.expire()

    # -- the clerk's operations ---------------------------------------------------

    def submit(self, receipt: Receipt, *, journal_kind: str = "",
               journal_data: Mapping[str, Any] | None = None) -> PrintOutcome:
        """Store a new job and print it once. ``journal_kind``/``journal_data`` is the
        loggbok entry the kiosk writes once the printer has taken it (kept with the job,
        so a job printed again after a restart is logged too)."""
        made = self._now()
        expires = end_of_day(made, self.personal_data_until).isoformat() if receipt.kind in PERSONAL_KINDS else ""
        job = PrintJob(uuid.uuid4().hex, receipt, made.isoformat(),
                       journal_kind=journal_kind, journal_data=dict(journal_data or {}), expires_at=expires)
        with self._lock:
            self._store(job)
            self._busy.add(job.id)
        return self._attempt(job)

    def retry(self, job_id: str) -> PrintOutcome:
        """Print a kept job again: only when the clerk asks."""
        with self._lock:
            if job_id in self._busy:
                raise JobBusy(job_id)
            job = self._jobs[job_id]
            self._busy.add(job_id)
        return self._attempt(job)

    def discard(self, job_id: str) -> PrintJob:
        """Forget a kept job (the clerk found it printed after all, or gives up)."""
        with self._lock:
            if job_id in self._busy:
                raise JobBusy(job_id)
            job = self._jobs.pop(job_id)
            self._remove(job_id)
        log.info("discarded print job %s (%s)", job_id, job.receipt.kind)
        return job

    def pending(self) -> list[PrintJob]:
        """The kept jobs, oldest first (expired ones destroyed first)."""
        self.expire()
        with self._lock:
            return sorted(self._jobs.values(), key=lambda j: (j.created_at, j.id))

    def expire(self) -> list[PrintJob]:
        """Destroy every kept job whose personal data is past its time; the ones destroyed."""
        now = self._now()
        gone = []
        with self._lock:
            for job in list(self._jobs.values()):
                if job.id not in self._busy and job.expired(now):
                    self._jobs.pop(job.id)
                    self._remove(job.id)
                    gone.append(job)
        for job in gone:
            log.warning("print job %s (%s) expired with its personal data and was destroyed", job.id,
                        job.receipt.kind)  # fmt: skip
        return gone

    # -- inside -------------------------------------------------------------------

    def _attempt(self, job: PrintJob) -> PrintOutcome:
        try:
            with self._print_lock:
                with self._lock:
                    job = replace(job, state=JobState.PRINTING, attempts=job.attempts + 1)
                    self._store(job)
                try:
                    self.printer.print(job.receipt)
                except PrinterError as exc:
                    with self._lock:
                        job = replace(job, state=JobState.FAILED, error_kind=exc.kind,
                                      error=exc.message,
                                      may_have_printed=job.may_have_printed or exc.may_have_printed)
                        self._store(job)
                    log.warning("print job %s (%s) failed: %s", job.id, job.receipt.kind, exc.kind)
                    return PrintOutcome(job, exc)
                except BaseException:
                    with self._lock:
                        job = replace(job, state=JobState.FAILED, error_kind="error",
                                      error="Feil i kiosken under utskrift.", may_have_printed=True)
                        self._store(job)
                    raise
                with self._lock:
                    self._jobs.pop(job.id, None)
                    self._remove(job.id)
        finally:
            with self._lock:
                self._busy.discard(job.id)
        log.info("printed job %s (%s)", job.id, job.receipt.kind)
        if self._on_printed is not None:
            self._on_printed(job)
        return PrintOutcome(job)

    def _path(self, job_id: str) -> Path:
        return self.directory / f"{job_id}{SUFFIX}"

    def _store(self, job: PrintJob) -> None:
        """Write the job's file atomically and remember it."""
        path = self._path(job.id)
        tmp = path.with_name(f".{job.id}.tmp")
        data = json.dumps(job.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            previous = os.open(path, os.O_WRONLY)  # the version being replaced, zeroed once it is
        except FileNotFoundError:
            previous = None
        try:
            os.replace(tmp, path)
            self._sync_dir()
            if previous is not None:
                _zero(previous)
        finally:
            if previous is not None:
                os.close(previous)
        self._jobs[job.id] = job

    def _remove(self, job_id: str) -> None:
        destroy(self._path(job_id))
        self._sync_dir()

    def _sync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _load(self) -> None:
        for tmp in self.directory.glob(".*.tmp"):
            destroy(tmp)
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                job = PrintJob.from_json(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError):
                log.error("unreadable print job %s destroyed (it may hold personal data)", path.name)
                destroy(path)
                continue
            if job.state is JobState.PRINTING:
                job = replace(job, state=JobState.INTERRUPTED, may_have_printed=True,
                              error_kind="interrupted",
                              error="Kiosken stoppet under utskriften. Sjekk om kvitteringen "
                                    "kom ut før du skriver ut på nytt.")
                self._store(job)
            self._jobs[job.id] = job


def destroy(path: Path) -> bool:
    """Overwrite a file with zeros (fsynced), then unlink it; False when it was not there."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return False
    try:
        _zero(fd)
    finally:
        os.close(fd)
    path.unlink(missing_ok=True)
    return True


def _zero(fd: int) -> None:
    """Overwrite the open file's bytes with zeros and fsync (its inode may be unlinked)."""
    size = os.fstat(fd).st_size
    zeros = b"\0" * min(size, 1 << 16)
    done = 0
    while done < size:
        done += os.pwrite(fd, zeros[: min(size - done, len(zeros))], done)
    os.fsync(fd)
