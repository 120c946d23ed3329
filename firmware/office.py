"""The kiosk's line to the election office (issue 15): status reports while the register
can be reached, and text messages through the modem when it cannot.

- :class:`StatusReporter` sends the table's status (:func:`status_report`: mode, outage,
  power, printer, scanner, counts, loggbok head, clock offset, image version; never a
  voter) every ``interval`` seconds and at once on a change, while the watchdog says the
  register is reachable; the answer says whether the office has acknowledged the
  incident, which the banner then shows.
- :class:`SmsSender` is the shell around :mod:`valgkiosk.core.sms`: it listens to the
  station's loggbok entries (outage start and end), polls mains, ticks the policy, hands
  texts to the modem one at a time on a worker thread and writes each send and its
  result to the loggbok.

Both are wired by :func:`valgkiosk.bootstrap.attach_office` and run as workers of the app.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from valgkiosk.core import emergency as em
from valgkiosk.core import entries as ent
from valgkiosk.core import outage
from valgkiosk.core import peopletime, sms
from valgkiosk.core.loggbok import Entry, Head
from valgkiosk.ports.register import RegisterError, StatusReceipt

log = logging.getLogger("valgkiosk.office")


class StationLike(Protocol):
    """What this module reads of valgkiosk.station.Station."""

    state: em.StationState
    detector: outage.DetectorState
    journal: Any
    listeners: list[Callable[[Entry], None]]


def hhmm(at: datetime) -> str:
    """``09.03`` on the people's clock (valgkiosk.core.peopletime: the election's time zone)."""
    return peopletime.hhmm(at)


def station_mode(state: em.StationState) -> tuple[str, datetime | None]:
    """The mode the office sees, and since when."""
    if state.outage is not None:
        if state.emergency:
            return "routine", state.emergency_since
        if state.alarm is em.Alarm.SOUNDING:
            return "alarm", state.outage.started_at
        return "acknowledged", state.outage.started_at
    if state.emergency:
        return "register_back", state.emergency_since
    return "normal", None


def routine_text(state: em.StationState) -> str:
    """The routine's state in one sentence, for a text message."""
    if state.emergency and state.emergency_since is not None:
        return f"Beredskapsrutinen er startet kl. {hhmm(state.emergency_since)}."
    if state.alarm is em.Alarm.SOUNDING:
        return "Alarmen går ved bordet; beredskapsrutinen er ikke startet."
    if state.alarm is em.Alarm.ACKNOWLEDGED:
        return "Alarmen er kvittert ved bordet; beredskapsrutinen er ikke startet."
    return ""


class LoggbokTally:
    """The loggbok's head (hash of its last entry), its length and the manual valgkort it
    records, read again only when the file has grown (it is read a few times a second).
    ``chain_head`` is the head as the register keeps it (the last entry's number, hash and
    signature), None while the loggbok is empty."""

    def __init__(self, journal: Any) -> None:
        self.journal = journal
        self._key: object = None
        self.head, self.entries, self.manual_valgkort = "", 0, 0
        self.chain_head: Head | None = None

    def _size(self) -> object:
        path = getattr(self.journal, "path", None)
        if path is None:
            return None  # in memory: cheap to read every time
        try:
            return os.stat(path).st_size
        except OSError:
            return -1

    def read(self) -> "LoggbokTally":
        key = self._size()
        if key is not None and key == self._key:
            return self
        head, count, manual = "", 0, 0
        last: Entry | None = None
        for last in self.journal.entries():
            head, count = last.hash, count + 1
            # typed, as the chair's closing report counts them (valgkiosk.core.tally): an
            # unreadable manual_valgkort line is not a valgkort the office should count
            manual += last.kind == ent.ManualValgkortPrinted.KIND and isinstance(
                ent.read(last.kind, last.data), ent.ManualValgkortPrinted)
        self._key, self.head, self.entries, self.manual_valgkort = key, head, count, manual
        self.chain_head = None if last is None else Head(last.seq, last.hash, last.sig)
        return self


@dataclass(frozen=True, slots=True)
class Facts:
    """What the app knows besides the station: each ``None`` is "not known"."""

    mains: bool | None = None
    router_power: bool | None = None
    simula_power: bool | None = None
    printer_state: str = "unknown"
    printer_paper: str = "unknown"
    scanner_connected: bool | None = None
    checkoffs: int = 0
    clock_offset_s: float | None = None
    image_version: str = ""


def status_report(state: em.StationState, facts: Facts, *, tally: LoggbokTally, now: datetime,
                  interval: float) -> dict[str, Any]:
    """The status report as the register's ``POST /v1/status`` takes it (no personal data)."""
    mode, since = station_mode(state)
    o = state.outage
    return {
        "sent_at": now.isoformat(), "mode": mode, "mode_since": None if since is None else since.isoformat(),
        "outage_started_at": None if o is None else o.started_at.isoformat(),
        "diagnosis_layer": None if o is None else o.layer.name.lower(),
        "mains": facts.mains, "router_power": facts.router_power, "simula_power": facts.simula_power,
        "printer_state": facts.printer_state[:40], "printer_paper": facts.printer_paper,
        "scanner_connected": facts.scanner_connected,
        "counts": {"checkoffs": facts.checkoffs, "emergency_votes": state.vote_count,
                   "manual_valgkort": tally.manual_valgkort + sum(1 for v in state.votes if v.manual_valgkort),
                   "pending_uploads": len(state.pending)},
        "loggbok_head": tally.head, "loggbok_entries": tally.entries,
        "clock_offset_s": facts.clock_offset_s, "image_version": facts.image_version[:64],
        "report_interval_s": interval,
        # the anchor the register keeps, as with emergency uploads (signed by the kiosk's key)
        "chain_head": None if tally.chain_head is None else {
            "entries": tally.chain_head.count, "hash": tally.chain_head.hash, "sig": tally.chain_head.sig},
    }


class StatusReporter:
    """Reports the table's status to the register while it is reachable."""

    def __init__(self, station: StationLike, register: Any, facts: Callable[[], Facts], *,
                 now: Callable[[], datetime], monotonic: Callable[[], float], interval: float = 5.0,
                 on_receipt: Callable[[StatusReceipt], None] = lambda r: None, poll: float = 0.25) -> None:
        self.station, self.register, self.facts = station, register, facts
        self.now, self.monotonic = now, monotonic
        self.interval, self.poll = interval, poll
        self.on_receipt = on_receipt
        self.last_sent: dict[str, Any] | None = None
        self.last_sent_at = float("-inf")
        self.last_error = ""
        self.sent = 0
        self.tally = LoggbokTally(station.journal)

    def due(self, report: Mapping[str, Any]) -> bool:
        """Whether to send now: the interval has passed, or something changed."""
        if self.monotonic() - self.last_sent_at >= self.interval:
            return True
        if self.last_sent is None:
            return True
        return {k: v for k, v in report.items() if k != "sent_at"} != \
            {k: v for k, v in self.last_sent.items() if k != "sent_at"}

    async def report_once(self) -> StatusReceipt | None:
        """Send one report if the register is reachable and one is due."""
        if self.station.detector.mode is not outage.Mode.REACHABLE:
            return None
        report = status_report(self.station.state, self.facts(), tally=self.tally.read(),
                               now=self.now(), interval=self.interval)
        if not self.due(report):
            return None
        self.last_sent, self.last_sent_at = report, self.monotonic()
        try:
            receipt: StatusReceipt = await self.register.report_status(report)
        except RegisterError as exc:
            if str(exc) != self.last_error:
                log.info("status report not delivered: %s", exc)
            self.last_error = str(exc)
            return None
        self.last_error = ""
        self.sent += 1
        self.on_receipt(receipt)
        return receipt

    async def run(self) -> None:
        """For as long as the kiosk runs."""
        while True:
            try:
                await self.report_once()
            except Exception:  # never let the reporter take the kiosk down
                log.exception("status reporter failed")
            await asyncio.sleep(self.poll)


class ModemLike(Protocol):
    async def send_sms_async(self, number: str, text: str, *, send_timeout: float = 30.0) -> Any: ...


class SmsSender:
    """The shell around the SMS policy: station entries and mains in, texts out."""

    def __init__(self, station: StationLike, modem: ModemLike, settings: sms.Settings, *,
                 now: Callable[[], datetime], power_states: Callable[[], Mapping[str, bool | None]],
                 send_timeout: float = 30.0, tick: float = 1.0) -> None:
        self.station, self.modem, self.settings = station, modem, settings
        self.now, self.power_states = now, power_states
        self.send_timeout, self.tick = send_timeout, tick
        self.state = sms.SmsState()
        self.last_result = ""  # Norwegian, for the caretaker screen
        self.sent: list[tuple[datetime, str, str]] = []  # (when, number, text) of every text that left
        self.delivered_at: datetime | None = None  # the latest text of the ongoing incident
        self._mains: bool | None = None
        #: Told of every loggbok record the sender writes (kind, data): the testbed prints them.
        self.on_record: Callable[[str, Mapping[str, Any]], None] = lambda kind, data: None
        self._sending: asyncio.Task[None] | None = None
        station.listeners.append(self.on_entry)
        if station.state.outage is not None:  # a restart in the middle of an outage
            o = station.state.outage
            self.feed(sms.Unreachable(now(), o.started_at, o.layer))

    def on_entry(self, entry: Entry) -> None:
        """A loggbok entry of the station: outages start and end here."""
        at = datetime.fromisoformat(entry.at)
        if entry.kind == "outage_start":
            since = datetime.fromisoformat(str(entry.data.get("since", entry.at)))
            layer = outage.Layer[str(entry.data.get("layer", "HEALTH"))]
            self.feed(sms.Unreachable(at, since, layer))
        elif entry.kind == "outage_end":
            self.feed(sms.Reachable(at))

    def feed(self, event: sms.Event) -> None:
        """Step the policy and carry out what it says."""
        self.state, effects = sms.step(self.state, event, self.settings)
        for effect in effects:
            if isinstance(effect, sms.Record):
                self._record(effect.kind, effect.data)
            elif isinstance(effect, sms.SendSms):
                self._sending = asyncio.get_running_loop().create_task(self._send(effect))
        if isinstance(event, sms.Reachable) and not self.station.state.emergency:
            self.delivered_at = None

    def _record(self, kind: str, data: Mapping[str, Any]) -> None:
        try:
            self.station.journal.append(kind, dict(data), at=self.now())
        except OSError as exc:
            log.error("the loggbok could not be written (%s): %s not recorded", exc, kind)
        self.on_record(kind, data)

    async def _send(self, effect: sms.SendSms) -> None:
        log.info("sms %s to %s (attempt %d)", effect.reason.value, effect.number, effect.attempt)
        try:
            result = await self.modem.send_sms_async(effect.number, effect.text, send_timeout=self.send_timeout)
            ok, detail = bool(result.ok), str(result.detail)
            retry = getattr(getattr(result, "failure", None), "retry", True)
        except Exception as exc:  # the driver never raises; a twin or a bug might
            log.exception("sms send failed")
            ok, detail, retry = False, f"Uventet feil: {type(exc).__name__}.", True
        at = self.now()
        self.last_result = (f"SMS til valgorganisasjonen sendt kl. {hhmm(at)}." if ok
                            else f"SMS til valgorganisasjonen ikke sendt: {detail} Prøver igjen.")
        if ok:
            self.sent.append((at, effect.number, effect.text))
            if effect.reason is not sms.Reason.BACK:
                self.delivered_at = at
        self.feed(sms.Sent(at, effect.message_id, ok, detail, retry=retry))

    def step_once(self) -> None:
        """Mains and the clock: one policy tick."""
        mains = self.power_states().get("mains")
        if mains is not None and mains != self._mains:
            self._mains = mains
            self.feed(sms.Mains(self.now(), on=mains))
        self.feed(sms.Tick(self.now(), routine_text(self.station.state)))

    async def run(self) -> None:
        """For as long as the kiosk runs."""
        while True:
            try:
                self.step_once()
            except Exception:  # never let the sender take the kiosk down
                log.exception("sms sender failed")
            await asyncio.sleep(self.tick)


class SimModem:
    """The modem in sim mode: every text 'leaves' at once; the dev dock lists them."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.fail_with = ""  # set from a test or the dock: every send fails with this detail

    async def send_sms_async(self, number: str, text: str, *, send_timeout: float = 30.0) -> Any:
        from valgkiosk.drivers.modem import SmsFailure, SmsResult

        if self.fail_with:
            return SmsResult(False, 0, failure=SmsFailure.NO_NETWORK, detail=self.fail_with)
        self.sent.append((number, text))
        return SmsResult(True, 1, (len(self.sent),), detail=f"Sendt til {number} (simulert).")


def office_note(receipt: StatusReceipt | None, sender: SmsSender | None) -> str:
    """The banner's line about the office: acknowledged (from the register), or texted."""
    if receipt is not None and receipt.office_acknowledged_at is not None:
        return f"Valgorganisasjonen er varslet kl. {hhmm(receipt.office_acknowledged_at)}."
    if sender is not None and sender.delivered_at is not None:
        return f"SMS er sendt til valgorganisasjonen kl. {hhmm(sender.delivered_at)}."
    return ""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)
