"""The loggbok's entries, typed: one frozen dataclass per kind, a registry, exhaustive matching.

Pure. The on-disk format is the one :mod:`valgkiosk.core.loggbok` has always written
(``kind`` plus a JSON object ``data``, keys as they are, some Norwegian), so every
existing loggbok still reads and verifies: :func:`record` gives the ``(kind, data)`` pair
to append, :func:`parse` reads one back. ``parse(*record(e)) == e`` for every entry, and
``record(parse(kind, data)) == (kind, data)`` for every entry today's kiosk writes (a
test reads a loggbok written before these classes existed).

A kind this build does not know (a newer kiosk's loggbok, or a damaged one) parses as
:class:`UnknownEntry`, which keeps its data, so nothing read is ever dropped. Code that
reads entries matches on :data:`LoggbokEntry` with ``assert_never`` in the last arm, so
mypy names every place that must learn a new kind.

Entries hold personal data only where the routine needs it (an emergency vote's
manntallsnummer), never names.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, Union

__all__ = [
    "KINDS", "KINDS_NB", "REGISTRY", "KnownEntry", "LoggbokEntry", "UnknownEntry", "Unreadable", "parse", "read",
    "record", "kind_of", "of",
    "KioskStarted", "KioskStopped", "Recovered", "OutageStarted", "OutageEnded", "AlarmAcknowledged",
    "PinRefused", "EmergencyStarted", "EmergencyEnded", "EmergencyVoteRecorded", "EmergencyVotesUploaded",
    "ManualValgkortPrinted", "MisregistrationReported", "ScannerFault", "PrinterFault", "PowerChanged",
    "SelftestRun", "CheckoffUnresolved", "CheckoffResolved", "ScannerConnected", "VoterInterrupted", "PowerShutdown",
    "SmsSent", "SmsFailed", "SmsGivenUp", "SmsDropped",
]  # fmt: skip


def _key(name: str, *, optional: bool = False) -> dict[str, Any]:
    """Field metadata: the key in the entry's JSON data; ``optional`` keys are left out when None."""
    return {"key": name, "optional": optional}


# -- the kinds ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KioskStarted:
    """The kiosk started at table ``bord``."""

    KIND: ClassVar[str] = "start"
    bord: int | None = field(default=None, metadata=_key("bord"))


@dataclass(frozen=True, slots=True)
class KioskStopped:
    """The kiosk stopped in order (not a crash)."""

    KIND: ClassVar[str] = "stop"
    bord: int | None = field(default=None, metadata=_key("bord"))


@dataclass(frozen=True, slots=True)
class Recovered:
    """A line torn by a power cut (its append never returned) was set aside at start."""

    KIND: ClassVar[str] = "recovered"
    torn_bytes: int = field(default=0, metadata=_key("forkastet_ufullstendig_linje"))


@dataclass(frozen=True, slots=True)
class OutageStarted:
    """The register became unreachable; ``layer`` is the outage layer's name (``TCP`` …)."""

    KIND: ClassVar[str] = "outage_start"
    layer: str = field(default="HEALTH", metadata=_key("layer"))
    since: str = field(default="", metadata=_key("since"))  # ISO 8601
    diagnosis: str = field(default="", metadata=_key("diagnosis"))
    detail: str = field(default="", metadata=_key("detail"))
    power: Mapping[str, bool | None] = field(default_factory=dict, metadata=_key("power"))


@dataclass(frozen=True, slots=True)
class OutageEnded:
    """The register is reachable again."""

    KIND: ClassVar[str] = "outage_end"
    layer: str = field(default="HEALTH", metadata=_key("layer"))
    since: str = field(default="", metadata=_key("since"))
    until: str = field(default="", metadata=_key("until"))
    duration_s: float = field(default=0.0, metadata=_key("duration_s"))


@dataclass(frozen=True, slots=True)
class AlarmAcknowledged:
    """Someone silenced the buzzer (the banner stays)."""

    KIND: ClassVar[str] = "alarm_acknowledged"


@dataclass(frozen=True, slots=True)
class PinRefused:
    """A wrong chair's PIN (the PIN itself is never written)."""

    KIND: ClassVar[str] = "pin_refused"
    attempt: int = field(default=0, metadata=_key("attempt"))


@dataclass(frozen=True, slots=True)
class EmergencyStarted:
    """The chair started the emergency routine (PIN confirmed)."""

    KIND: ClassVar[str] = "emergency_start"
    reachable: bool | None = field(default=None, metadata=_key("reachable"))


@dataclass(frozen=True, slots=True)
class EmergencyEnded:
    """The chair ended the routine; ``pending`` votes are still to be uploaded."""

    KIND: ClassVar[str] = "emergency_end"
    votes: int = field(default=0, metadata=_key("votes"))
    pending: int = field(default=0, metadata=_key("pending"))
    reachable: bool | None = field(default=None, metadata=_key("reachable"))


@dataclass(frozen=True, slots=True)
class EmergencyVoteRecorded:
    """One orange envelope went into the «Beredskap» urn (None: the voter had no valgkort)."""

    KIND: ClassVar[str] = "emergency_vote"
    vote_id: str = field(default="", metadata=_key("vote_id"))
    manntallsnummer: str | None = field(default=None, metadata=_key("manntallsnummer"))
    manual_valgkort: bool = field(default=False, metadata=_key("manual_valgkort"))
    #: When this kiosk had checked the voter off electronically earlier (ISO 8601): the
    #: closing report flags the envelope for valgstyret (issue 14).
    checked_off_here: str | None = field(default=None, metadata=_key("krysset_av_her", optional=True))
    #: The request id of this kiosk's check-off of the voter that the register had not
    #: answered when the vote was counted: it may yet land, so the closing report flags the
    #: envelope and says what the check-off came to (a later ``checkoff_resolved``).
    unconfirmed_checkoff: str | None = field(default=None, metadata=_key("avkrysning_ubekreftet", optional=True))


@dataclass(frozen=True, slots=True)
class EmergencyVotesUploaded:
    """The register took these emergency votes (``repeated``: it had them already)."""

    KIND: ClassVar[str] = "emergency_upload"
    vote_ids: tuple[str, ...] = field(default=(), metadata=_key("vote_ids"))
    accepted: int = field(default=0, metadata=_key("accepted"))
    repeated: int = field(default=0, metadata=_key("repeated"))


@dataclass(frozen=True, slots=True)
class ManualValgkortPrinted:
    """A manual valgkort came out of the printer; ``reason`` is the ValgkortReason's name in
    lower case; ``has_number``: it carries a manntallsnummer (never the number itself)."""

    KIND: ClassVar[str] = "manual_valgkort"
    reason: str = field(default="", metadata=_key("reason"))
    has_number: bool = field(default=False, metadata=_key("manntallsnummer"))
    from_register: bool | None = field(default=None, metadata=_key("fra_manntallet", optional=True))
    confirmed_by_clerk: bool | None = field(default=None, metadata=_key("bekreftet_av_avkrysser", optional=True))


@dataclass(frozen=True, slots=True)
class MisregistrationReported:
    """The register took a misregistration report for check-off ``request_id``."""

    KIND: ClassVar[str] = "misregistration"
    request_id: str = field(default="", metadata=_key("forespørsel"))
    reported_at: str = field(default="", metadata=_key("meldt"))
    reported_by: str = field(default="", metadata=_key("meldt_av"))


@dataclass(frozen=True, slots=True)
class ScannerFault:
    """The scanner was pulled out (``connected`` False) or came back."""

    KIND: ClassVar[str] = "scanner_fault"
    connected: bool = field(default=False, metadata=_key("tilkoblet"))
    detail: str = field(default="", metadata=_key("detalj"))


@dataclass(frozen=True, slots=True)
class PrinterFault:
    """A print job failed (``fault`` is the PrinterError's kind)."""

    KIND: ClassVar[str] = "printer_fault"
    fault: str = field(default="error", metadata=_key("feil"))
    receipt: str | None = field(default=None, metadata=_key("utskrift", optional=True))
    may_have_printed: bool | None = field(default=None, metadata=_key("kan_være_skrevet_ut", optional=True))
    attempts: int | None = field(default=None, metadata=_key("forsøk", optional=True))


@dataclass(frozen=True, slots=True)
class PowerChanged:
    """A stable change of a power sense line (``previous`` None: the first reading at start)."""

    KIND: ClassVar[str] = "power"
    source: str = field(default="", metadata=_key("source"))
    present: bool | None = field(default=None, metadata=_key("present"))
    previous: bool | None = field(default=None, metadata=_key("previous"))


@dataclass(frozen=True, slots=True)
class PowerShutdown:
    """On battery and nearly empty: the kiosk closed the loggbok and asked to power off
    (``reason`` from valgkiosk.core.ups.shutdown_reason)."""

    KIND: ClassVar[str] = "power_shutdown"
    reason: str = field(default="", metadata=_key("reason"))
    charge_percent: float | None = field(default=None, metadata=_key("charge_percent"))
    runtime_seconds: float | None = field(default=None, metadata=_key("runtime_seconds"))


@dataclass(frozen=True, slots=True)
class SmsAttempt:
    """What every attempt at a text to the election office records (no personal data): why
    it is sent, to whom, which attempt, and what the modem said. Not a kind of its own."""

    reason: str = field(default="", metadata=_key("reason"))
    to: str = field(default="", metadata=_key("to"))
    attempt: int = field(default=1, metadata=_key("attempt"))
    detail: str = field(default="", metadata=_key("detail"))


@dataclass(frozen=True, slots=True)
class SmsSent(SmsAttempt):
    """A text reached the election office's number (valgkiosk.core.sms)."""

    KIND: ClassVar[str] = "sms_sent"
    text: str = field(default="", metadata=_key("text"))


@dataclass(frozen=True, slots=True)
class SmsFailed(SmsAttempt):
    """A text did not go; it is tried again in ``retry_in_s``."""

    KIND: ClassVar[str] = "sms_failed"
    retry_in_s: float | None = field(default=None, metadata=_key("retry_in_s", optional=True))


@dataclass(frozen=True, slots=True)
class SmsGivenUp(SmsAttempt):
    """A text was given up (no SIM, too many attempts)."""

    KIND: ClassVar[str] = "sms_given_up"


@dataclass(frozen=True, slots=True)
class SmsDropped:
    """A text was not sent: ``why`` (the hourly limit, or the register came back first)."""

    KIND: ClassVar[str] = "sms_dropped"
    reason: str = field(default="", metadata=_key("reason"))
    why: str = field(default="", metadata=_key("why"))
    to: str | None = field(default=None, metadata=_key("to", optional=True))
    attempt: int | None = field(default=None, metadata=_key("attempt", optional=True))
    detail: str | None = field(default=None, metadata=_key("detail", optional=True))


@dataclass(frozen=True, slots=True)
class SelftestRun:
    """The IT team's self-test ran (valgkiosk.selftest)."""

    KIND: ClassVar[str] = "selftest"
    kommune: str = field(default="", metadata=_key("kommune"))
    krets: str = field(default="", metadata=_key("krets"))
    bord: int | None = field(default=None, metadata=_key("bord"))
    kiosk_id: str = field(default="", metadata=_key("kiosk_id"))
    image_version: str = field(default="", metadata=_key("image_version"))
    passed: bool = field(default=False, metadata=_key("passed"))
    checks: Mapping[str, str] = field(default_factory=dict, metadata=_key("checks"))
    failed: tuple[str, ...] = field(default=(), metadata=_key("failed"))


@dataclass(frozen=True, slots=True)
class CheckoffUnresolved:
    """The clerk left a check-off the register had not answered; it goes on in the
    background with the same request id (valgkiosk.core.checkoff.Unresolved)."""

    KIND: ClassVar[str] = "checkoff_unresolved"
    request_id: str = field(default="", metadata=_key("forespørsel"))
    attempts: int = field(default=0, metadata=_key("forsøk"))


@dataclass(frozen=True, slots=True)
class CheckoffResolved:
    """A check-off left unresolved got its answer: ``outcome`` is the register's verdict
    (``checked_off`` …) or ``refused``."""

    KIND: ClassVar[str] = "checkoff_resolved"
    request_id: str = field(default="", metadata=_key("forespørsel"))
    outcome: str = field(default="", metadata=_key("utfall"))


@dataclass(frozen=True, slots=True)
class ScannerConnected:
    """The scanner was connected again after a fault (a replug is a reconnect, not a fault)."""

    KIND: ClassVar[str] = "scanner_connected"
    detail: str | None = field(default=None, metadata=_key("detalj", optional=True))


@dataclass(frozen=True, slots=True)
class VoterInterrupted:
    """At start: a voter was in progress when the kiosk stopped; ``phase`` is where
    (``avkrysning``: a check-off was sent but not confirmed; ``beredskap``: an emergency vote
    not yet counted; else the voter was not checked off)."""

    KIND: ClassVar[str] = "voter_interrupted"
    phase: str = field(default="", metadata=_key("fase"))
    request_id: str | None = field(default=None, metadata=_key("forespørsel", optional=True))


@dataclass(frozen=True, slots=True)
class UnknownEntry:
    """A kind this build does not know: kept as it was read."""

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)


KnownEntry = Union[
    KioskStarted, KioskStopped, Recovered, OutageStarted, OutageEnded, AlarmAcknowledged, PinRefused,
    EmergencyStarted, EmergencyEnded, EmergencyVoteRecorded, EmergencyVotesUploaded, ManualValgkortPrinted,
    MisregistrationReported, ScannerFault, PrinterFault, PowerChanged, SelftestRun, CheckoffUnresolved,
    CheckoffResolved, ScannerConnected, VoterInterrupted, PowerShutdown, SmsSent, SmsFailed, SmsGivenUp, SmsDropped,
]  # fmt: skip
#: Every entry :func:`parse` can return; match on it exhaustively.
LoggbokEntry = Union[KnownEntry, UnknownEntry]

_CLASSES: tuple[type[Any], ...] = KnownEntry.__args__  # type: ignore[attr-defined]
#: kind -> its dataclass.
REGISTRY: dict[str, type[Any]] = {cls.KIND: cls for cls in _CLASSES}
KINDS = frozenset(REGISTRY)

#: The kinds in words for the chair (the loggbok screen, exports, printouts).
KINDS_NB: dict[str, str] = {
    "start": "Kiosken startet",
    "stop": "Kiosken stoppet",
    "recovered": "Gjenopprettet etter strømbrudd",
    "outage_start": "Brudd i forbindelsen til manntallet",
    "outage_end": "Forbindelsen til manntallet er tilbake",
    "alarm_acknowledged": "Alarm kvittert",
    "pin_refused": "Feil PIN-kode for stemmestyrets leder",
    "emergency_start": "Beredskapsrutine startet",
    "emergency_end": "Beredskapsrutine avsluttet",
    "emergency_vote": "Beredskapsstemme",
    "emergency_upload": "Beredskapsstemmer lastet opp",
    "manual_valgkort": "Manuelt valgkort skrevet ut",
    "misregistration": "Feilregistrering meldt",
    "scanner_fault": "Feil på skanneren",
    "printer_fault": "Feil på skriveren",
    "power": "Endring i strømforsyning",
    "selftest": "Selvtest",
    "checkoff_unresolved": "Avkrysning ikke bekreftet",
    "checkoff_resolved": "Ubekreftet avkrysning besvart",
    "scanner_connected": "Skanneren er koblet til igjen",
    "voter_interrupted": "Velger i gang da kiosken stoppet",
    "power_shutdown": "Lavt batteri: kiosken slo seg av",
    "sms_sent": "SMS sendt til valgorganisasjonen",
    "sms_failed": "SMS til valgorganisasjonen gikk ikke",
    "sms_given_up": "SMS til valgorganisasjonen ble gitt opp",
    "sms_dropped": "SMS til valgorganisasjonen ble ikke sendt",
}
assert set(KINDS_NB) == KINDS, "every kind needs its words for the chair"


def kind_of(entry: LoggbokEntry) -> str:
    """The entry's kind as written in the loggbok."""
    return entry.kind if isinstance(entry, UnknownEntry) else entry.KIND


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def record(entry: LoggbokEntry) -> tuple[str, dict[str, Any]]:
    """The ``(kind, data)`` pair to append to the loggbok for ``entry``."""
    if isinstance(entry, UnknownEntry):
        return entry.kind, dict(entry.data)
    data: dict[str, Any] = {}
    for f in dataclasses.fields(entry):
        value = getattr(entry, f.name)
        if f.metadata.get("optional") and value is None:
            continue
        data[f.metadata["key"]] = _json_value(value)
    return entry.KIND, data


def _coerce(value: Any, default: Any) -> Any:
    """A JSON value in the shape of the field's default (lists become tuples, maps stay maps)."""
    if isinstance(default, tuple) and isinstance(value, list):
        return tuple(value)
    if isinstance(value, dict):
        return dict(value)
    return value


def parse(kind: str, data: Mapping[str, Any]) -> LoggbokEntry:
    """The typed entry for ``kind`` with ``data`` as read from the loggbok. A kind this build
    does not know, or data that does not fit its kind, comes back as :class:`UnknownEntry`."""
    cls = REGISTRY.get(kind)
    if cls is None:
        return UnknownEntry(kind, dict(data))
    known = {f.metadata["key"]: f for f in dataclasses.fields(cls)}
    if any(key not in known for key in data):
        return UnknownEntry(kind, dict(data))  # keys this build does not know: keep them all
    values: dict[str, Any] = {}
    for key, f in known.items():
        if key in data:
            default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[operator]
            values[f.name] = _coerce(data[key], default)
    return cls(**values)  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A loggbok line that does not read as any kind this build knows, and why (for the
    log, in English): counted apart by the chair's tally, never left out of it."""

    kind: str
    data: Mapping[str, Any]
    why: str


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value fits a field's type (the few shapes the kinds use)."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return any(_fits(value, arm) for arm in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is tuple:  # tuple[X, ...], stored as a JSON list
        [item, _] = typing.get_args(hint)
        return isinstance(value, (list, tuple)) and all(_fits(v, item) for v in value)
    if origin is Mapping:
        key, item = typing.get_args(hint)
        return isinstance(value, Mapping) and all(_fits(k, key) and _fits(v, item) for k, v in value.items())
    raise TypeError(f"no check for a field of type {hint!r}")  # a new kind's field: teach _fits


_HINTS: dict[type[Any], dict[str, Any]] = {}


def _hints(cls: type[Any]) -> dict[str, Any]:
    """A kind's field types, evaluated when first read (not at import: start-up cost)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def read(kind: str, data: Mapping[str, Any]) -> KnownEntry | Unreadable:
    """The typed entry for counting what the loggbok says (valgkiosk.core.tally).

    Stricter than :func:`parse` where it must be and more lenient where it may: a known kind
    with keys this build does not know (a newer kiosk's) reads as its kind, those keys left
    aside; a kind not known, a key its kind always writes missing, or a value of the wrong
    type is :class:`Unreadable`, so the chair is told instead of the entry being dropped."""
    cls = REGISTRY.get(kind)
    if cls is None:
        return Unreadable(kind, dict(data), f"unknown kind {kind!r}")
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        key = f.metadata["key"]
        if key not in data:
            if f.metadata.get("optional"):
                continue
            return Unreadable(kind, dict(data), f"missing {key!r}")
        if not _fits(data[key], _hints(cls)[f.name]):
            return Unreadable(kind, dict(data), f"{key!r} is not {_hints(cls)[f.name]}")
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[operator]
        values[f.name] = _coerce(data[key], default)
    return cls(**values)  # type: ignore[no-any-return]


class EntryLike(Protocol):
    """A loggbok line as read (valgkiosk.core.loggbok.Entry fits)."""

    @property
    def kind(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


def of(entry: EntryLike) -> LoggbokEntry:
    """The typed entry of a loggbok line."""
    return parse(entry.kind, entry.data)
