"""The clock's sources and the one place that sets the system clock.

- The mobile network's time through the modem: ``AT+CTZU=1`` lets the network's time
  (NITZ) set the modem's own clock, ``AT+CCLK?`` reads it (3GPP TS 27.007; Quectel,
  SIMCom, Huawei and Sierra modems answer both). Until the network sent its time the
  modem reports the time since power-on (1980, 2000 or 2004), which the clock rules
  refuse as implausible.
- A fitted RTC through sysfs (``/sys/class/rtc/rtc0/since_epoch``, readable without
  privileges; the Pi 5's own RTC with its battery, or an I²C RTC such as a DS3231 with
  ``dtoverlay=i2c-rtc,ds3231``).
- The newest loggbok entry.

:class:`ClockKeeper` reads them, asks :func:`valgkiosk.core.timekeeping.decide` and steps
the system clock when told, through ``clock_settime`` (needs ``CAP_SYS_TIME``; without it
the step is logged as impossible and the state still says the clock is not right).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Protocol

from valgkiosk.core.timekeeping import ClockDecision, ClockInputs, ClockSource, decide

__all__ = [
    "ClockKeeper",
    "ClockReport",
    "ClockState",
    "last_entry_time",
    "modem_network_time",
    "parse_cclk",
    "read_rtc",
    "read_state",
    "set_system_clock",
    "write_state",
]

log = logging.getLogger(__name__)

_CCLK = re.compile(r'\+CCLK:\s*"?(\d{2,4})/(\d{1,2})/(\d{1,2}),(\d{1,2}):(\d{2}):(\d{2})([+-]\d{1,2})?"?')


def parse_cclk(lines: Sequence[str]) -> datetime | None:
    """The time from ``+CCLK: "yy/MM/dd,hh:mm:ss±zz"`` (``zz``: the local offset in quarter
    hours; local time, so UTC is the time minus the offset). ``None`` if there is no such
    line or it is not a real date."""
    for line in lines:
        m = _CCLK.search(line)
        if not m:
            continue
        year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
        if year < 100:
            year += 2000 if year < 80 else 1900
        quarters = int(m.group(7) or 0)
        try:
            return datetime(year, month, day, hour, minute, second,
                            tzinfo=timezone(timedelta(minutes=15 * quarters)))
        except ValueError:
            return None
    return None


class _Asks(Protocol):
    def ask(self, commands: Sequence[str]) -> dict[str, list[str] | None] | None: ...


def modem_network_time(modem: _Asks, *, attempts: int = 3, pause: float = 0.5) -> datetime | None:
    """The modem's clock once the network may have set it (``None``: no modem, no answer,
    or no ``+CCLK`` line). ``AT+CTZU=1`` may be refused by modems that always take NITZ.
    A modem that is busy (the kiosk's own status poll holds the port for a moment) is
    asked again, ``attempts`` times in all."""
    import time

    for attempt in range(attempts):
        answers = modem.ask(["AT+CTZU=1", "AT+CCLK?"])
        if answers is not None:
            return parse_cclk(answers.get("AT+CCLK?") or [])
        if attempt + 1 < attempts:
            time.sleep(pause)
    return None


def read_rtc(rtc: Path = Path("/sys/class/rtc/rtc0")) -> datetime | None:
    """A fitted RTC's time (UTC), or ``None`` when there is none or it cannot be read
    (an RTC that lost its battery fails to read, or reads 1970/2000)."""
    try:
        seconds = int((rtc / "since_epoch").read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        log.debug("no RTC at %s: %s", rtc, exc)
        return None
    return datetime.fromtimestamp(seconds, timezone.utc)


def last_entry_time(entries: Iterable[Any]) -> datetime | None:
    """The newest ``at`` among loggbok entries (each with an ISO 8601 ``at``); ``None``
    for an empty loggbok. The newest, not the last: a clock that went backwards before
    this rule existed must not lower the floor."""
    newest: datetime | None = None
    for entry in entries:
        try:
            at = datetime.fromisoformat(entry.at)
        except (TypeError, ValueError):
            continue
        if at.tzinfo is None:
            continue
        if newest is None or at > newest:
            newest = at
    return newest


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


CLOCK_REALTIME = 0


def set_system_clock(when: datetime) -> bool:
    """Step the system clock to ``when``; ``False`` (and a log line) when not allowed
    (no ``CAP_SYS_TIME``) or not possible."""
    stamp = when.timestamp()
    spec = _Timespec(int(stamp), int((stamp % 1) * 1e9))
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        result = libc.clock_settime(CLOCK_REALTIME, ctypes.byref(spec))
    except (OSError, AttributeError) as exc:
        log.error("the clock cannot be set: %s", exc)
        return False
    if result != 0:
        log.error("the clock cannot be set to %s: errno %s", when.isoformat(), ctypes.get_errno())
        return False
    log.warning("the clock was set to %s", when.isoformat())
    return True


@dataclass(frozen=True, slots=True)
class ClockState:
    """The clock's state after a check: the rules' decision, whether a step it asked for
    was done, and when (on the system clock, after any step)."""

    decision: ClockDecision
    stepped: bool
    checked_at: datetime

    @property
    def source(self) -> ClockSource:
        return self.decision.source

    @property
    def synchronized(self) -> bool:
        """Whether receipts may carry the time without a warning. A step the rules asked
        for but that failed leaves the clock unsynchronised whatever the source."""
        return self.decision.synchronized and (self.decision.set_to is None or self.stepped)

    def describe(self) -> str:
        """The caretaker's line, in Norwegian."""
        text = self.decision.describe()
        if self.decision.set_to is not None and not self.stepped:
            text = "IKKE synkronisert: klokken kunne ikke stilles (" + text + ")"
        return text


class ClockKeeper:
    """Reads the sources, applies the clock rules, steps the clock when they say so.

    Every source is a callable (the seams tests replace): ``system`` the wall clock,
    ``ntp`` NTP's answer (``True``/``False``/``None``), ``modem`` and ``rtc`` their times,
    ``last_entry`` the newest loggbok time, ``set_clock`` the step. ``check`` blocks
    (the modem's AT commands): call it from a worker thread.
    """

    def __init__(
        self,
        *,
        system: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        ntp: Callable[[], bool | None] = lambda: None,
        modem: Callable[[], datetime | None] = lambda: None,
        rtc: Callable[[], datetime | None] = read_rtc,
        last_entry: Callable[[], datetime | None] = lambda: None,
        set_clock: Callable[[datetime], bool] = set_system_clock,
    ) -> None:
        self._system, self._ntp, self._modem, self._rtc = system, ntp, modem, rtc
        self._last_entry, self._set_clock = last_entry, set_clock
        self._lock = threading.Lock()
        self.state: ClockState | None = None

    @property
    def synchronized(self) -> bool | None:
        """The flag receipts use: ``None`` before the first check."""
        state = self.state
        return None if state is None else state.synchronized

    def check(self) -> ClockState:
        """One round: read, decide, step if needed; never raises for a source's fault."""
        with self._lock:
            ntp = self._safe(self._ntp, "NTP")
            modem = rtc = None
            if not ntp:  # the modem's AT round trip only when NTP cannot vouch
                modem = self._safe(self._modem, "modem")
                rtc = self._safe(self._rtc, "RTC")
            inputs = ClockInputs(self._system(), ntp, modem, rtc, self._safe(self._last_entry, "loggbok"))
            decision = decide(inputs)
            for note in decision.refused:
                log.warning("clock: %s", note)
            stepped = False
            if decision.set_to is not None:
                stepped = bool(self._set_clock(decision.set_to))
            state = ClockState(decision, stepped, self._system())
            if self.state is None or self.state.decision.source != decision.source or \
                    self.state.synchronized != state.synchronized:
                log.info("clock: %s", state.describe())
            self.state = state
            return state

    @staticmethod
    def _safe(read: Callable[[], Any], what: str) -> Any:
        try:
            return read()
        except Exception:  # noqa: BLE001 - a source's bug must not stop the clock check
            log.exception("clock source %s failed", what)
            return None


# -- the state file: what valgkiosk-clock.service found, for the kiosk's screen and receipts --


@dataclass(frozen=True, slots=True)
class ClockReport:
    """The clock's state as the clock service last wrote it."""

    source: ClockSource
    synchronized: bool
    words: str  # Norwegian, for the caretaker
    checked_at: datetime


def write_state(state: ClockState, path: Path) -> None:
    """Write ``state`` to ``path`` atomically (a reader never sees half a file)."""
    import json
    import os

    body = {
        "source": state.source.value,
        "synchronized": state.synchronized,
        "words": state.describe(),
        "checked_at": state.checked_at.isoformat(),
        "set_to": state.decision.set_to.isoformat() if state.decision.set_to else None,
        "stepped": state.stepped,
        "refused": list(state.decision.refused),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def read_state(path: Path, *, max_age: timedelta | None = None,
               now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> ClockReport | None:
    """The clock service's last report, or ``None`` when there is none, it is unreadable,
    or older than ``max_age`` (the service stopped: then nothing vouches for the clock)."""
    import json

    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        report = ClockReport(ClockSource(body["source"]), bool(body["synchronized"]), str(body["words"]),
                             datetime.fromisoformat(body["checked_at"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("clock state %s unreadable: %s", path, exc)
        return None
    if max_age is not None and now() - report.checked_at > max_age:
        return None
    return report
