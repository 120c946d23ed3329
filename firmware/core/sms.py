"""When the kiosk texts the election office, and what it says: the SMS policy.

Pure: ``step(state, event, settings) -> (state, effects)``, no I/O, no clock reads (the
events carry their times). The shell feeds it the station's outage and mains changes and
a :class:`Tick` now and then, hands :class:`SendSms` to the modem one at a time, and feeds
the result back as :class:`Sent`; :class:`Record` effects go to the loggbok.

The rules:
- Only the station's messenger table sends (the station config names it), so a station
  sends one message per incident, not one per table.
- Register unreachable: one message once the outage has lasted ``unreachable_after_s``
  (from its first failed probe). Back: one message when it ends, if the first one went.
  An outage that ends before its message could leave sends nothing more (the dashboard
  has the story by then): the waiting message is dropped and the drop recorded.
- Mains failure: one message at once; again only after mains has come back and
  ``mains_repeat_s`` has passed since the last one (a flickering supply sends one).
- At most ``max_per_hour`` messages in any hour; what would exceed it is dropped and
  recorded. A failed send is retried after ``retry_delays_s`` until ``max_attempts``.
- The text names the station, the table, the times, the diagnosis and the routine's
  state: never a voter.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from valgkiosk.core.outage import Layer

#: The diagnosis in a few words, from the routine's sentences (core.outage.DIAGNOSIS_NB).
SHORT_DIAGNOSIS_NB: dict[Layer, str] = {
    Layer.LINK: "ingen nettverkskobling (kabel eller strøm til ruteren)",
    Layer.GATEWAY: "ruteren svarer ikke (strøm til ruteren, sikringer, SIMULA-boksen)",
    Layer.DNS: "navneoppslag feiler: ruteren har trolig mistet internett",
    Layer.TCP: "manntallet kan ikke nås over nettet",
    Layer.HEALTH: "manntallet svarer ikke riktig",
}


class Reason(enum.Enum):
    """Why a message is sent."""

    UNREACHABLE = "unreachable"
    BACK = "back"
    MAINS = "mains"


@dataclass(frozen=True, slots=True)
class Settings:
    """The office's numbers and every limit (seconds)."""

    numbers: tuple[str, ...]
    station_name: str
    krets: str
    bord: int
    messenger: bool = True  # this table is the station's messenger
    unreachable_after_s: float = 30.0
    mains_repeat_s: float = 600.0
    max_per_hour: int = 6
    retry_delays_s: tuple[float, ...] = (10.0, 30.0, 60.0, 120.0, 300.0)
    max_attempts: int = 8
    timezone: str = "Europe/Oslo"


# -- events ----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Unreachable:
    """The station declared the register unreachable (its first failed probe at ``since``)."""

    at: datetime
    since: datetime
    layer: Layer


@dataclass(frozen=True, slots=True)
class Reachable:
    """The register is reachable again."""

    at: datetime


@dataclass(frozen=True, slots=True)
class Mains:
    """Mains power is on (``on``) or gone (the kiosk runs on battery)."""

    at: datetime
    on: bool


@dataclass(frozen=True, slots=True)
class Tick:
    """Time has passed; ``routine`` is the routine's state now, in Norwegian."""

    at: datetime
    routine: str = ""


@dataclass(frozen=True, slots=True)
class Sent:
    """How the modem's send of message ``message_id`` went."""

    at: datetime
    message_id: int
    ok: bool
    detail: str = ""
    retry: bool = True


Event = Unreachable | Reachable | Mains | Tick | Sent


# -- effects ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SendSms:
    """Hand this text to the modem for one number."""

    message_id: int
    number: str
    text: str
    reason: Reason
    attempt: int


@dataclass(frozen=True, slots=True)
class Record:
    """Write this to the loggbok (``sms_sent``, ``sms_failed``, ``sms_dropped``...)."""

    kind: str
    data: dict[str, Any]


Effect = SendSms | Record


# -- state -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Message:
    """One text for one number, waiting or being sent."""

    message_id: int
    number: str
    text: str
    reason: Reason
    attempts: int = 0
    next_try_at: datetime | None = None  # None: as soon as the modem is free


@dataclass(frozen=True, slots=True)
class SmsState:
    """The policy's memory."""

    outage_since: datetime | None = None
    outage_layer: Layer | None = None
    outage_notified: bool = False  # the "unreachable" message was queued
    outage_delivered: bool = False  # ... and reached the modem's network for some number
    mains_off: bool = False
    last_mains_message_at: datetime | None = None
    routine: str = ""
    outbox: tuple[Message, ...] = ()
    in_flight: int | None = None
    queued_at: tuple[datetime, ...] = field(default=())  # each queued text (for the hourly limit)
    next_id: int = 1
    #: An outage that ended while its message was with the modem: (since, until).
    ended_in_flight: tuple[datetime, datetime] | None = None


def _clock(at: datetime, settings: Settings) -> str:
    return at.astimezone(ZoneInfo(settings.timezone)).strftime("%H.%M")


def _place(settings: Settings) -> str:
    return f"Valgkiosk {settings.station_name} (krets {settings.krets}) bord {settings.bord}"


def text_for(reason: Reason, state: SmsState, settings: Settings, at: datetime) -> str:
    """The message, free of personal data."""
    routine = f" {state.routine}" if state.routine else ""
    if reason is Reason.UNREACHABLE:
        assert state.outage_since is not None and state.outage_layer is not None
        return (f"{_place(settings)}: manntallet kan ikke nås siden kl. {_clock(state.outage_since, settings)}. "
                f"Feil: {SHORT_DIAGNOSIS_NB[state.outage_layer]}.{routine}")
    if reason is Reason.BACK:
        since = state.outage_since or at
        minutes = max(1, round((at - since).total_seconds() / 60))
        return (f"{_place(settings)}: manntallet er tilbake kl. {_clock(at, settings)} "
                f"(brudd fra kl. {_clock(since, settings)}, {minutes} min).{routine}")
    return (f"{_place(settings)}: strømbrudd kl. {_clock(at, settings)}, kiosken går på batteri. "
            "Vaktmester sjekker sikringene.")


def _queue(state: SmsState, reason: Reason, settings: Settings, at: datetime) -> tuple[SmsState, list[Effect]]:
    """Queue one text to every number, unless the hourly limit is reached."""
    recent = tuple(t for t in state.queued_at if at - t < timedelta(hours=1))
    if len(recent) >= settings.max_per_hour:
        return replace(state, queued_at=recent), [Record("sms_dropped", {
            "reason": reason.value, "why": f"høyst {settings.max_per_hour} meldinger i timen"})]
    text = text_for(reason, state, settings, at)
    messages = tuple(Message(state.next_id + i, n, text, reason) for i, n in enumerate(settings.numbers))
    return replace(state, outbox=state.outbox + messages, queued_at=recent + (at,),
                   next_id=state.next_id + len(messages)), []


def _dispatch(state: SmsState, at: datetime) -> tuple[SmsState, list[Effect]]:
    """Hand the next due message to the modem if it is free."""
    if state.in_flight is not None:
        return state, []
    for m in state.outbox:
        if m.next_try_at is None or m.next_try_at <= at:
            return replace(state, in_flight=m.message_id), [
                SendSms(m.message_id, m.number, m.text, m.reason, m.attempts + 1)]
    return state, []


def step(state: SmsState, event: Event, settings: Settings) -> tuple[SmsState, list[Effect]]:
    """Feed one event; return the new state and what to do."""
    if not settings.messenger or not settings.numbers:
        return state, []
    effects: list[Effect] = []
    match event:
        case Unreachable(at=at, since=since, layer=layer):
            if state.outage_since is None:
                state = replace(state, outage_since=since, outage_layer=layer, outage_notified=False,
                                outage_delivered=False)
            state, more = _after_due(state, settings, at)
            effects += more
        case Reachable(at=at):
            if (outage_since := state.outage_since) is not None:
                waiting = tuple(m for m in state.outbox
                                if m.reason is Reason.UNREACHABLE and m.message_id != state.in_flight)
                if state.outage_delivered:
                    state = replace(state, outbox=tuple(m for m in state.outbox if m not in waiting))
                    state, more = _queue(state, Reason.BACK, settings, at)
                    effects += more
                elif state.outage_notified:
                    flying = any(m.reason is Reason.UNREACHABLE and m.message_id == state.in_flight
                                 for m in state.outbox)
                    state = replace(state, outbox=tuple(m for m in state.outbox if m not in waiting),
                                    ended_in_flight=(outage_since, at) if flying else None)
                    if not flying:
                        effects.append(Record("sms_dropped", {
                            "reason": Reason.UNREACHABLE.value,
                            "why": "manntallet var tilbake før meldingen kom fram"}))
                state = replace(state, outage_since=None, outage_layer=None, outage_notified=False,
                                outage_delivered=False)
        case Mains(at=at, on=on):
            if on:
                state = replace(state, mains_off=False)
            elif not state.mains_off:
                state = replace(state, mains_off=True)
                last = state.last_mains_message_at
                if last is None or (at - last).total_seconds() >= settings.mains_repeat_s:
                    state = replace(state, last_mains_message_at=at)
                    state, more = _queue(state, Reason.MAINS, settings, at)
                    effects += more
        case Tick(at=at, routine=routine):
            state, more = _after_due(replace(state, routine=routine), settings, at)
            effects += more
        case Sent(at=at, message_id=message_id, ok=ok, detail=detail, retry=retry):
            sent = next((m for m in state.outbox if m.message_id == message_id), None)
            state = replace(state, in_flight=None if state.in_flight == message_id else state.in_flight)
            if sent is not None:
                attempts = sent.attempts + 1
                rest = tuple(m for m in state.outbox if m.message_id != message_id)
                data = {"reason": sent.reason.value, "to": sent.number, "attempt": attempts, "detail": detail}
                if ok:
                    effects.append(Record("sms_sent", {**data, "text": sent.text}))
                    state = replace(state, outbox=rest)
                    if sent.reason is Reason.UNREACHABLE and state.ended_in_flight is not None:
                        since, until = state.ended_in_flight
                        back = replace(state, outage_since=since, ended_in_flight=None)
                        back, more = _queue(back, Reason.BACK, settings, until)
                        state = replace(back, outage_since=None)
                        effects += more
                    elif sent.reason is Reason.UNREACHABLE:
                        state = replace(state, outage_delivered=True)
                elif sent.reason is Reason.UNREACHABLE and state.outage_since is None:
                    effects.append(Record("sms_dropped", {**data, "why": "manntallet var tilbake før meldingen kom fram"}))
                    state = replace(state, outbox=rest, ended_in_flight=None)
                elif not retry or attempts >= settings.max_attempts:
                    effects.append(Record("sms_given_up", data))
                    state = replace(state, outbox=rest)
                else:
                    delay = settings.retry_delays_s[min(attempts - 1, len(settings.retry_delays_s) - 1)]
                    effects.append(Record("sms_failed", {**data, "retry_in_s": delay}))
                    again = replace(sent, attempts=attempts, next_try_at=at + timedelta(seconds=delay))
                    state = replace(state, outbox=tuple(again if m.message_id == message_id else m
                                                        for m in state.outbox))
    state, more = _dispatch(state, event.at)
    return state, effects + more


def _after_due(state: SmsState, settings: Settings, at: datetime) -> tuple[SmsState, list[Effect]]:
    """Queue the outage message once the outage has lasted long enough."""
    if (state.outage_since is not None and not state.outage_notified
            and (at - state.outage_since).total_seconds() >= settings.unreachable_after_s):
        return _queue(replace(state, outage_notified=True), Reason.UNREACHABLE, settings, at)
    return state, []
