"""The voter in progress, kept on the data partition so a restart can say so.

When the kiosk stops (killed, power cut, restarted by systemd) while a voter is at the
table, the loggbok alone cannot tell: check-offs are the register's, not the loggbok's.
So the kiosk keeps one small file beside the loggbok that says *which stage* a voter is
at — never who: ``bekreft`` (found, not yet checked off), ``avkrysning`` (the check-off
was sent and not yet confirmed) or ``beredskap`` (a voter part-way through the emergency
routine). It is written (atomically, fsynced) only when the stage changes, and removed
when the table is free again. At start, a file left behind becomes one
``voter_interrupted`` loggbok entry (valgkiosk.core.sentences words it for the chair; an
unconfirmed check-off is listed on the closing report).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from valgkiosk.core import checkoff as co

log = logging.getLogger("valgkiosk.inprogress")

#: The stages a voter can be interrupted in, by the check-off flow's phase.
STAGE_BY_PHASE: dict[co.Phase, str] = {
    co.Phase.LOOKING_UP: "bekreft",
    co.Phase.CONFIRMING: "bekreft",
    co.Phase.SEARCH: "bekreft",
    co.Phase.SEARCHING: "bekreft",
    co.Phase.CHOOSING_VALGKORT: "bekreft",
    co.Phase.CHECKING_OFF: "avkrysning",
    co.Phase.UNCERTAIN: "avkrysning",
}

STAGES = frozenset({"bekreft", "avkrysning", "beredskap"})


def stage(phase: co.Phase, *, emergency_voter: bool) -> str | None:
    """The stage to keep for this phase (None: no voter at the table)."""
    if emergency_voter:
        return "beredskap"
    return STAGE_BY_PHASE.get(phase)


class VoterInProgress:
    """The marker file; ``path`` None keeps nothing (a sim-mode kiosk without a loggbok file)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._current: str | None = None

    @classmethod
    def beside(cls, journal: object) -> VoterInProgress:
        """The marker next to a file loggbok (``loggbok.jsonl`` → ``loggbok.voter``)."""
        path = getattr(journal, "path", None)
        return cls(Path(path).with_suffix(".voter") if path is not None else None)

    def take(self) -> str | None:
        """At start: the stage left behind by the last run (and forget it)."""
        if self.path is None or not self.path.exists():
            return None
        try:
            left = self.path.read_text(encoding="utf-8").strip()
            self.path.unlink()
        except OSError as exc:
            log.error("the voter-in-progress marker %s could not be read: %s", self.path, exc)
            return None
        return left if left in STAGES else "bekreft"

    def set(self, current: str | None) -> None:
        """Keep ``current`` (None: the table is free); a no-op when it has not changed."""
        if current == self._current or self.path is None:
            return
        try:
            if current is None:
                self.path.unlink(missing_ok=True)
            else:
                tmp = self.path.with_suffix(".voter.tmp")
                with open(tmp, "w", encoding="utf-8") as f:
                    f.write(current)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, self.path)
            fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:  # the check-off goes on; only the restart's note is at risk
            log.error("the voter-in-progress marker %s could not be written: %s", self.path, exc)
            return
        self._current = current
