"""The USB modem of the mobile fallback, read through pyserial with AT commands.

``ATE0`` (no echo), then ``AT+CSQ`` (signal), ``AT+CREG?`` and ``AT+CEREG?`` (network
registration, circuit-switched and LTE). The port is opened for each reading and closed
after, so an unplugged and replugged modem needs nothing special. Every command has a
time limit. :meth:`Modem.read_status` never raises: a modem that is unplugged, busy
(silent) or answers ``ERROR`` gives a :class:`ModemStatus` that says so in Norwegian.

Keep ModemManager off the port (udev ``ENV{ID_MM_DEVICE_IGNORE}="1"``): it probes and
holds it for seconds.
"""

from __future__ import annotations

import asyncio
import enum
import errno
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import serial

__all__ = [
    "Modem",
    "ModemState",
    "ModemStatus",
    "Registration",
    "parse_csq",
    "parse_registration",
    "signal_dbm",
]

log = logging.getLogger(__name__)


class ModemState(enum.Enum):
    """Whether the modem could be asked at all."""

    OK = "ok"  # it answered (the registration says whether it is on a network)
    ABSENT = "absent"  # no such port, or it vanished mid-reading
    BUSY = "busy"  # the port is held by another program, or the modem did not answer
    ERROR = "error"  # it answered ERROR to every question


class Registration(enum.Enum):
    """The network registration (3GPP TS 27.007 ``<stat>``)."""

    HOME = "home"
    ROAMING = "roaming"
    SEARCHING = "searching"
    DENIED = "denied"
    NOT_REGISTERED = "not_registered"  # not registered and not searching
    UNKNOWN = "unknown"


REGISTRATION_NB: dict[Registration, str] = {
    Registration.HOME: "Registrert i mobilnettet",
    Registration.ROAMING: "Registrert i et annet mobilnett (roaming)",
    Registration.SEARCHING: "Søker etter mobilnett",
    Registration.DENIED: "Mobilnettet avviser modemet (sjekk SIM-kortet)",
    Registration.NOT_REGISTERED: "Ikke registrert i mobilnettet",
    Registration.UNKNOWN: "Ukjent om modemet er registrert i mobilnettet",
}

# <stat> values: 6/7 "SMS only" and 9/10 "CSFB not preferred" still carry data.
_STAT: dict[int, Registration] = {
    0: Registration.NOT_REGISTERED,
    1: Registration.HOME,
    2: Registration.SEARCHING,
    3: Registration.DENIED,
    4: Registration.UNKNOWN,
    5: Registration.ROAMING,
    6: Registration.HOME,
    7: Registration.ROAMING,
    8: Registration.NOT_REGISTERED,  # emergency services only
    9: Registration.HOME,
    10: Registration.ROAMING,
}

# When CREG and CEREG disagree, the better one wins (an LTE-only modem is not on CS).
_RANK = [
    Registration.HOME,
    Registration.ROAMING,
    Registration.SEARCHING,
    Registration.DENIED,
    Registration.NOT_REGISTERED,
    Registration.UNKNOWN,
]


@dataclass(frozen=True, slots=True)
class ModemStatus:
    """One reading of the modem; ``detail`` is the Norwegian sentence for the screen."""

    state: ModemState
    signal_dbm: int | None  # None: unknown
    registration: Registration
    detail: str

    @property
    def registered(self) -> bool:
        """Whether the modem is on a network (home or roaming)."""
        return self.state is ModemState.OK and self.registration in (Registration.HOME, Registration.ROAMING)


# -- parsing (pure) ----------------------------------------------------------------------


def signal_dbm(rssi: int) -> int | None:
    """``AT+CSQ``'s ``<rssi>`` in dBm: -113 + 2·rssi for 0..31, else unknown (99)."""
    return -113 + 2 * rssi if 0 <= rssi <= 31 else None


def _fields(lines: Sequence[str], prefix: str) -> list[list[str]]:
    return [[f.strip() for f in line[len(prefix) :].split(",")] for line in lines if line.startswith(prefix)]


def parse_csq(lines: Sequence[str]) -> int | None:
    """The signal in dBm from ``+CSQ: <rssi>,<ber>`` lines (``None``: unknown or absent)."""
    for fields in _fields(lines, "+CSQ:"):
        if fields and fields[0].isdigit():
            return signal_dbm(int(fields[0]))
    return None


def parse_registration(lines: Sequence[str], prefix: str) -> Registration | None:
    """The ``<stat>`` from ``+CREG: <n>,<stat>[,...]`` (or ``+CEREG:``) lines; an unsolicited
    ``+CREG: <stat>[,...]`` counts only if no query answer is there. ``None``: no such line."""
    answer: Registration | None = None
    unsolicited: Registration | None = None
    for fields in _fields(lines, prefix):
        if len(fields) >= 2 and fields[0].isdigit() and fields[1].isdigit():
            answer = _STAT.get(int(fields[1]), Registration.UNKNOWN)
        elif fields and fields[0].isdigit():
            unsolicited = _STAT.get(int(fields[0]), Registration.UNKNOWN)
    return answer or unsolicited


def _quality(dbm: int) -> str:
    if dbm >= -70:
        return "sterkt"
    if dbm >= -85:
        return "godt"
    if dbm >= -100:
        return "svakt"
    return "svært svakt"


def describe(registration: Registration, dbm: int | None) -> str:
    """The Norwegian sentence for a modem that answered."""
    signal = "signal ukjent" if dbm is None else f"signal {dbm} dBm ({_quality(dbm)})"
    return f"{REGISTRATION_NB[registration]}, {signal}."


# -- the driver --------------------------------------------------------------------------


class _NoAnswer(Exception):
    """No final result code within the time limit."""


class _AtError(Exception):
    """The modem answered ERROR (or +CME/+CMS ERROR)."""


_FINAL_ERRORS = ("ERROR", "+CME ERROR", "+CMS ERROR", "COMMAND NOT SUPPORT", "NO CARRIER")


class Modem:
    """The modem on ``port`` (best a stable ``/dev/serial/by-id/...`` path).

    ``timeout`` bounds each command; a reading takes at most about four times that.
    ``open_port`` is the seam that opens the port (default: an exclusive ``serial.Serial``).
    """

    def __init__(
        self,
        port: str,
        *,
        baudrate: int = 115200,
        timeout: float = 1.0,
        open_port: Callable[[], serial.Serial] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.port = port
        self.baudrate = baudrate
        self.timeout = timeout
        self._open_port = open_port or self._open_default
        self._clock = clock
        self._lock = threading.Lock()

    def _open_default(self) -> serial.Serial:
        return serial.Serial(
            self.port, self.baudrate, timeout=self.timeout, write_timeout=self.timeout, exclusive=True
        )

    async def read_status_async(self) -> ModemStatus:
        """:meth:`read_status` on a worker thread, for the event loop."""
        return await asyncio.to_thread(self.read_status)

    def read_status(self) -> ModemStatus:
        """Ask the modem; never raises. Blocks for at most about ``4 * timeout``."""
        with self._lock:
            try:
                status = self._read_status()
            except Exception as exc:  # a bug here must not take the caretaker screen down
                log.exception("modem driver failed on %s", self.port)
                status = self._status(ModemState.ERROR, f"Uventet feil i modemdriveren: {type(exc).__name__}.")
        log.debug("modem %s: %s", self.port, status)
        return status

    def ask(self, commands: Sequence[str]) -> dict[str, list[str] | None] | None:
        """Send ``commands`` after ``ATE0``; each one's lines before ``OK`` (``None`` for an
        error answer). ``None`` when the modem is absent, busy or silent. Never raises."""
        with self._lock:
            try:
                port = self._open_port()
            except (serial.SerialException, OSError) as exc:
                log.info("modem %s not available: %s", self.port, exc)
                return None
            try:
                try:
                    self._command(port, "ATE0")
                except _AtError:
                    pass
                answers: dict[str, list[str] | None] = {}
                for command in commands:
                    try:
                        answers[command] = self._command(port, command)
                    except _AtError:
                        answers[command] = None
                return answers
            except (_NoAnswer, serial.SerialException, OSError) as exc:
                log.info("modem %s did not answer: %s", self.port, exc)
                return None
            except Exception:  # a bug here must not take the clock down
                log.exception("modem driver failed on %s", self.port)
                return None
            finally:
                try:
                    port.close()
                except Exception as exc:
                    log.debug("closing modem port failed: %s", exc)

    @staticmethod
    def _status(state: ModemState, detail: str) -> ModemStatus:
        return ModemStatus(state, None, Registration.UNKNOWN, detail)

    def _read_status(self) -> ModemStatus:
        try:
            port = self._open_port()
        except (serial.SerialException, OSError) as exc:
            log.info("modem %s not available: %s", self.port, exc)
            return self._open_failure(exc)
        try:
            return self._ask(port)
        except serial.SerialTimeoutException:
            return self._status(ModemState.BUSY, "Modemet tar ikke imot kommandoer (opptatt eller hengt seg opp).")
        except (serial.SerialException, OSError) as exc:
            log.info("modem %s vanished: %s", self.port, exc)
            return self._status(ModemState.ABSENT, "Modemet ble koblet fra.")
        finally:
            try:
                port.close()
            except Exception as exc:
                log.debug("closing modem port failed: %s", exc)

    def _open_failure(self, exc: BaseException) -> ModemStatus:
        code = getattr(exc, "errno", None)
        if code == errno.EACCES:
            return self._status(ModemState.BUSY, f"Ingen tilgang til modemet på {self.port}.")
        if code in (errno.EBUSY, errno.EWOULDBLOCK) or "exclusively" in str(exc):
            return self._status(ModemState.BUSY, "Modemet er i bruk av et annet program.")
        return self._status(ModemState.ABSENT, f"Finner ikke modemet på {self.port} (koblet fra?).")

    def _ask(self, port: serial.Serial) -> ModemStatus:
        silent = self._status(ModemState.BUSY, "Modemet svarer ikke (opptatt eller hengt seg opp).")
        errors = 0
        try:
            self._command(port, "ATE0")
        except _NoAnswer:
            return silent
        except _AtError:
            pass  # a modem that keeps echoing still answers; the echo is skipped
        answers: dict[str, list[str] | None] = {}
        for command in ("AT+CSQ", "AT+CREG?", "AT+CEREG?"):
            try:
                answers[command] = self._command(port, command)
            except _AtError:
                answers[command] = None
                errors += 1
            except _NoAnswer:
                return silent
        if errors == len(answers):
            return self._status(ModemState.ERROR, "Modemet svarer med feil (ERROR) på alt: mangler SIM-kortet?")
        dbm = parse_csq(answers["AT+CSQ"] or [])
        found = [
            r
            for r in (
                parse_registration(answers["AT+CREG?"] or [], "+CREG:"),
                parse_registration(answers["AT+CEREG?"] or [], "+CEREG:"),
            )
            if r is not None
        ]
        registration = min(found, key=_RANK.index) if found else Registration.UNKNOWN
        return ModemStatus(ModemState.OK, dbm, registration, describe(registration, dbm))

    def _command(self, port: serial.Serial, command: str) -> list[str]:
        """Send ``command``; return the lines before ``OK``. Raises :class:`_AtError` on an
        error result, :class:`_NoAnswer` when no result comes within ``timeout``."""
        port.reset_input_buffer()  # a late answer to an earlier command, unsolicited codes
        port.write(command.encode("ascii") + b"\r")
        deadline = self._clock() + self.timeout
        lines: list[str] = []
        pending = b""
        while True:
            remaining = deadline - self._clock()
            if remaining <= 0:
                raise _NoAnswer(command)
            port.timeout = remaining
            data = port.read(max(1, port.in_waiting))
            if not data:
                continue
            pending += data
            *complete, pending = pending.replace(b"\r", b"\n").split(b"\n")
            for raw in complete:
                line = raw.decode("ascii", errors="replace").strip()
                if not line or line == command:  # blank, or the echo before ATE0 took
                    continue
                if line == "OK":
                    return lines
                if line.startswith(_FINAL_ERRORS):
                    raise _AtError(f"{command}: {line}")
                lines.append(line)
