"""The station's watchdog and emergency routine: the shell around
:mod:`valgkiosk.core.outage` and :mod:`valgkiosk.core.emergency`.

Owns the outage detector, the station state (rebuilt from the loggbok at start), the
alarm outputs and the upload of emergency votes. Every change is written to the loggbok
first (durably) and only then applied to the state and shown: if the write fails, the
action is refused with a Norwegian message and nothing is half-done.

Used by the kiosk app (one instance, on the app's event loop) and, without a UI, by the
crash and network-namespace tests, which drive it from a separate process.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from valgkiosk.core import emergency as em
from valgkiosk.core.emergency import already_recorded_nb, checked_off_here_nb  # noqa: F401 - re-exported
from valgkiosk.core import entries as ent
from valgkiosk.core import outage
from valgkiosk.core import peopletime
from valgkiosk.core import sensing
from valgkiosk.core.loggbok import ChainProblem, Entry
from valgkiosk.journal import chain_head
from valgkiosk.pin import BadPinHash, verify_pin
from valgkiosk.ports.connectivity import Connectivity, ProbeResult
from valgkiosk.ports.indicators import Indicators
from valgkiosk.ports.register import Register, RegisterError

log = logging.getLogger("valgkiosk.station")

#: After this many wrong PINs in a row the PIN is refused for LOCKOUT_SECONDS.
MAX_PIN_ATTEMPTS = 5
LOCKOUT_SECONDS = 60.0
#: How often pending emergency votes are offered again while the register refuses them.
UPLOAD_RETRY_SECONDS = 10.0

JOURNAL_FAILED = ("Loggboken kan ikke skrives: handlingen er IKKE registrert på kiosken. "
                  "Si fra til stemmestyrets leder og varsle IKT-ansvarlig. Beredskapsstemmer føres på papir "
                  "etter rutinen (beredskapskonvolutt og telleliste) til kiosken kan skrive igjen.")


class Loggbok(Protocol):
    """The loggbok (valgkiosk.journal.Journal or MemoryJournal)."""

    def append(self, kind: str, data: Mapping[str, Any], *, at: datetime | None = None) -> Entry: ...
    def entries(self) -> Iterator[Entry]: ...
    def verify(self) -> list[ChainProblem]: ...


class StationRefused(Exception):
    """An action the station does not take now; the message is Norwegian, for the screen."""


@dataclass(frozen=True, slots=True)
class PinAnswer:
    """How a PIN attempt went: ``ok``, or why not (Norwegian)."""

    ok: bool
    message: str = ""


class Station:
    """The watchdog, the alarm and the emergency routine of one check-off table."""

    def __init__(
        self,
        *,
        journal: Loggbok,
        register: Register,
        now: Callable[[], datetime],
        monotonic: Callable[[], float],
        connectivity: Connectivity | None = None,
        timings: outage.Timings = outage.Timings(),
        indicators: Indicators | None = None,
        power_states: Callable[[], Mapping[str, bool | None]] = dict,
        chair_pin_hash: str | None = None,
        on_change: Callable[[], None] = lambda: None,
        new_vote_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self.journal = journal
        self.register = register
        self.now = now
        self.monotonic = monotonic
        self.connectivity = connectivity
        self.timings = timings
        self.indicators = indicators
        self.power_states = power_states
        self.chair_pin_hash = chair_pin_hash
        self.on_change = on_change
        self.new_vote_id = new_vote_id
        self.state = em.replay(journal.entries())
        self.detector = em.detector_after_restart(self.state)
        self.network = sensing.NetworkStatus.DOWN if self.state.outage else sensing.NetworkStatus.UNKNOWN
        self.last_probe: ProbeResult | None = None
        self.uploading = False
        self.upload_error = ""
        self._next_upload_at = 0.0
        self._upload_task: asyncio.Task[bool] | None = None
        self._wrong_pins = 0
        self._locked_until = 0.0
        #: Called with every entry once it is written and folded in (the office link listens).
        self.listeners: list[Callable[[Entry], None]] = []
        self._show_outputs()

    # -- the loggbok --------------------------------------------------------------------------
    def write(self, typed: ent.LoggbokEntry) -> Entry:
        """Write one entry durably, then fold it into the state. Raises StationRefused if
        the loggbok cannot be written (the state is unchanged)."""
        kind, data = ent.record(typed)
        try:
            entry = self.journal.append(kind, data, at=self.now())
        except OSError as exc:
            log.error("the loggbok could not be written (%s): %s not recorded", exc, kind)
            raise StationRefused(JOURNAL_FAILED) from None
        self.state = em.apply_entry(self.state, typed, datetime.fromisoformat(entry.at))
        for listener in self.listeners:
            listener(entry)
        return entry

    def _changed(self) -> None:
        self._show_outputs()
        self.on_change()

    def _show_outputs(self) -> None:
        if self.indicators is None:
            return
        self.indicators.set_network(sensing.network_led(self.network))
        self.indicators.set_alarm(em.alarm_output(self.state))

    # -- the watchdog -------------------------------------------------------------------------
    async def run_watchdog(self) -> None:
        """Probe every ``probe_interval`` for as long as the kiosk runs (one round at a time)."""
        assert self.connectivity is not None
        while True:
            started = self.monotonic()
            await self.probe_once()
            await asyncio.sleep(max(0.0, self.timings.probe_interval - (self.monotonic() - started)))

    async def probe_once(self) -> ProbeResult:
        """One probe round, fed to the detector."""
        assert self.connectivity is not None
        result = await self.connectivity.probe_round()
        self.feed(result)
        return result

    def feed(self, result: ProbeResult) -> None:
        """Step the detector with one round and carry out what it says."""
        self.last_probe = result
        before = self.network
        self.detector, effects = outage.step(self.detector, result.to_round(), self.timings)
        for effect in effects:
            match effect:
                case outage.OutageStarted(at=since, layer=layer):
                    self._write_quietly(ent.OutageStarted(layer.name, since.isoformat(), outage.DIAGNOSIS_NB[layer],
                                                          result.detail, dict(self.power_states())))  # fmt: skip
                    log.warning("register unreachable since %s: %s (%s)", since.isoformat(), layer.name, result.detail)
                case outage.OutageEnded(started_at=since, ended_at=until, layer=layer):
                    self._write_quietly(ent.OutageEnded(layer.name, since.isoformat(), until.isoformat(),
                                                        round((until - since).total_seconds(), 1)))  # fmt: skip
                    log.warning("register reachable again after %.1f s", (until - since).total_seconds())
        if self.detector.mode is outage.Mode.UNREACHABLE:
            self.network = sensing.NetworkStatus.DOWN
        elif result.ok:
            self.network = sensing.NetworkStatus.REACHABLE
        else:
            self.network = sensing.NetworkStatus.PROBING
        if effects or self.network is not before:
            self._changed()
        if result.ok and self.state.reachable and self.state.pending and not self.state.emergency:
            self._maybe_upload()

    def _write_quietly(self, typed: ent.LoggbokEntry) -> None:
        """Outage entries come from the watchdog, with nobody to refuse to: a failed write is
        logged and the state still changes (the alarm must sound even without a loggbok)."""
        try:
            self.write(typed)
        except StationRefused:
            self.state = em.apply_entry(self.state, typed, self.now())

    # -- the chair's and the clerk's actions ----------------------------------------------------
    def acknowledge_alarm(self) -> bool:
        """Silence the buzzer (the banner stays). False when no alarm sounds."""
        if self.state.alarm is not em.Alarm.SOUNDING:
            return False
        self.write(ent.AlarmAcknowledged())
        self._changed()
        return True

    def check_pin(self, pin: str) -> PinAnswer:
        """The chair's PIN, with a lock-out after repeated wrong ones (each one logged)."""
        if self.chair_pin_hash is None:
            return PinAnswer(False, "Ingen PIN-kode for stemmestyrets leder er satt opp på denne kiosken. "
                                    "Ring IKT-ansvarlig (valgtelefonen, tast 3).")
        wait = self._locked_until - self.monotonic()
        if wait > 0:
            return PinAnswer(False, f"For mange feil PIN-koder. Prøv igjen om {int(wait) + 1} sekunder.")
        try:
            right = verify_pin(pin, self.chair_pin_hash)
        except BadPinHash:  # refused at load; kept as a last guard, never a traceback
            log.error("the configured chair PIN hash cannot be used")
            return PinAnswer(False, "PIN-koden kan ikke kontrolleres: konfigurasjonen er feil. "
                                    "Ring IKT-ansvarlig (valgtelefonen, tast 3).")
        if right:
            self._wrong_pins = 0
            return PinAnswer(True)
        self._wrong_pins += 1
        self._write_quietly(ent.PinRefused(self._wrong_pins))
        if self._wrong_pins >= MAX_PIN_ATTEMPTS:
            self._wrong_pins = 0
            self._locked_until = self.monotonic() + LOCKOUT_SECONDS
            return PinAnswer(False, f"Feil PIN-kode. For mange forsøk: vent {int(LOCKOUT_SECONDS)} sekunder.")
        return PinAnswer(False, "Feil PIN-kode.")

    def start_emergency(self) -> None:
        """The chair has decided (PIN confirmed): the table runs the emergency routine."""
        if self.state.emergency:
            raise StationRefused("Beredskapsrutinen er allerede i gang.")
        self.write(ent.EmergencyStarted(self.state.reachable))
        self._changed()

    def end_emergency(self) -> None:
        """The chair ends the routine (PIN confirmed); the votes are then uploaded."""
        if not self.state.emergency:
            raise StationRefused("Beredskapsrutinen er ikke i gang.")
        self.write(ent.EmergencyEnded(self.state.vote_count, len(self.state.pending), self.state.reachable))
        self._next_upload_at = 0.0
        self._changed()

    def record_vote(self, manntallsnummer: str | None, *, manual_valgkort: bool,
                    checked_off_at: datetime | None = None,
                    unconfirmed_checkoff: str | None = None) -> em.EmergencyVote:
        """One orange envelope went into the «Beredskap» urn: count it (durably).
        ``checked_off_at``: this kiosk had checked the voter off electronically then;
        ``unconfirmed_checkoff``: the request id of its check-off of the voter that the
        register had not answered yet. The entry says so, and the closing report flags the
        envelope for valgstyret."""
        if not self.state.emergency:
            raise StationRefused("Beredskapsrutinen er ikke i gang.")
        if manntallsnummer is not None:
            earlier = self.state.recorded(manntallsnummer)
            if earlier is not None:
                raise StationRefused(already_recorded_nb(earlier))
        self.write(ent.EmergencyVoteRecorded(self.new_vote_id(), manntallsnummer, manual_valgkort,
                                             None if checked_off_at is None else checked_off_at.isoformat(),
                                             unconfirmed_checkoff))
        self._changed()
        return self.state.votes[-1]

    # -- the upload -----------------------------------------------------------------------------
    def _maybe_upload(self) -> None:
        if self.uploading or self.monotonic() < self._next_upload_at:
            return
        self.uploading = True
        self._upload_task = asyncio.get_running_loop().create_task(self.upload_pending())  # keep a reference

    async def upload_pending(self) -> bool:
        """Hand the pending emergency votes to the register; True when none are left.
        The register counts a vote once, so a repeat after a crash is harmless."""
        self.uploading = True
        try:
            pending = self.state.pending
            if not pending:
                return True
            try:
                result = await self.register.upload_emergency_votes(pending, head=chain_head(self.journal))
            except RegisterError as exc:
                self.upload_error = str(exc)
                self._next_upload_at = self.monotonic() + UPLOAD_RETRY_SECONDS
                log.warning("emergency vote upload failed (%s); %d pending", exc.kind, len(pending))
                self._changed()
                return False
            self.upload_error = ""
            try:
                self.write(ent.EmergencyVotesUploaded(tuple(v.vote_id for v in pending), result.accepted,
                                                      result.already_recorded))  # fmt: skip
            except StationRefused:
                self._next_upload_at = self.monotonic() + UPLOAD_RETRY_SECONDS
                self._changed()
                return False
            log.info("emergency votes uploaded: %d new, %d already recorded", result.accepted,
                     result.already_recorded)  # fmt: skip
            self._changed()
            return not self.state.pending
        finally:
            self.uploading = False
