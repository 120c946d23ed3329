"""The USB modem of the mobile fallback, read through pyserial with AT commands, and
the text messages it sends to the election office when the network is gone.

``ATE0`` (no echo), then ``AT+CSQ`` (signal), ``AT+CREG?`` and ``AT+CEREG?`` (network
registration, circuit-switched and LTE). The port is opened for each reading and closed
after, so an unplugged and replugged modem needs nothing special. Every command has a
time limit. :meth:`Modem.read_status` never raises: a modem that is unplugged, busy
(silent) or answers ``ERROR`` gives a :class:`ModemStatus` that says so in Norwegian.

:meth:`Modem.send_sms` sends in text mode (``AT+CMGF=1``, ``AT+CMGS``): plain ASCII that
the GSM alphabet holds goes as ``IRA`` (160 characters per message); anything else (æøå)
as ``UCS2`` (70). A longer text is split into numbered messages ("1/2 …"), at most
:data:`MAX_PARTS`, and trimmed beyond. It never raises either: the :class:`SmsResult`
says what went wrong in Norwegian (``+CMS ERROR``, no SIM, no network, no answer).

Keep ModemManager off the port (udev ``ENV{ID_MM_DEVICE_IGNORE}="1"``): it probes and
holds it for seconds.
"""

from __future__ import annotations

import asyncio
import enum
import errno
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import serial

__all__ = [
    "Modem",
    "SmsFailure",
    "SmsResult",
    "encode_sms",
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


    def send_sms(self, number: str, text: str, *, send_timeout: float = 30.0) -> SmsResult:
        """Send ``text`` to ``number`` (``+4712345678``); never raises. Blocks for at most
        about ``8 * timeout + parts * send_timeout``."""
        if not number or any(c not in _PHONE for c in number) or len(number) > 20:
            return SmsResult(False, 0, failure=SmsFailure.REFUSED, detail=f"Ugyldig telefonnummer: {number!r}.")
        with self._lock:
            try:
                port = self._open_port()
            except (serial.SerialException, OSError) as exc:
                status = self._open_failure(exc)
                failure = SmsFailure.ABSENT if status.state is ModemState.ABSENT else SmsFailure.BUSY
                return SmsResult(False, 0, failure=failure, detail=status.detail)
            try:
                result = _send_sms(self, port, number, text, send_timeout)
            except _SmsError as exc:
                result = SmsResult(False, 0, failure=exc.failure, detail=exc.detail)
            except _NoAnswer:
                result = SmsResult(False, 0, failure=SmsFailure.NO_ANSWER,
                                   detail="Modemet svarer ikke (opptatt eller hengt seg opp).")
            except _AtError as exc:
                result = SmsResult(False, 0, failure=SmsFailure.REFUSED, detail=f"Modemet svarte med feil: {exc}.")
            except serial.SerialTimeoutException:
                result = SmsResult(False, 0, failure=SmsFailure.BUSY, detail="Modemet tar ikke imot kommandoer.")
            except (serial.SerialException, OSError):
                result = SmsResult(False, 0, failure=SmsFailure.ABSENT, detail="Modemet ble koblet fra.")
            except Exception as exc:  # a bug here must not take the kiosk down
                log.exception("modem driver failed sending on %s", self.port)
                result = SmsResult(False, 0, failure=SmsFailure.REFUSED,
                                   detail=f"Uventet feil i modemdriveren: {type(exc).__name__}.")
            finally:
                try:
                    port.close()
                except Exception as exc:
                    log.debug("closing modem port failed: %s", exc)
        log.info("sms to %s: %s", number, result.detail)
        return result

    async def send_sms_async(self, number: str, text: str, *, send_timeout: float = 30.0) -> SmsResult:
        """:meth:`send_sms` on a worker thread, for the event loop."""
        return await asyncio.to_thread(self.send_sms, number, text, send_timeout=send_timeout)

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


# -- text messages -----------------------------------------------------------------------

#: At most this many messages for one text; the rest is cut off with "…".
MAX_PARTS = 3
#: Printable ASCII that the GSM 7-bit default alphabet holds (no escape, no national letters).
_GSM_ASCII = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 !\"#%&'()*+,-./:;<=>?@"
)


class SmsFailure(enum.Enum):
    """Why a text did not leave; ``retry`` says whether trying again later may help."""

    ABSENT = "absent"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    NO_SIM = "no_sim"
    SIM_LOCKED = "sim_locked"
    NO_NETWORK = "no_network"
    REFUSED = "refused"  # +CMS ERROR from the network or the modem

    @property
    def retry(self) -> bool:
        return self not in (SmsFailure.NO_SIM, SmsFailure.SIM_LOCKED)


@dataclass(frozen=True, slots=True)
class SmsResult:
    """How one send went: ``references`` of the parts the network took, or why not."""

    ok: bool
    parts: int
    references: tuple[int, ...] = ()
    failure: SmsFailure | None = None
    detail: str = ""  # Norwegian, for the caretaker screen and the loggbok
    trimmed: bool = False


#: +CMS ERROR codes (3GPP TS 27.005 3.2.5) a modem gives when sending, in Norwegian.
CMS_NB: dict[int, str] = {
    8: "operatøren sperret meldingen",
    10: "operatøren sperret meldingen",
    21: "meldingen ble avvist av nettet",
    27: "mottakernummeret er ugyldig",
    28: "mottakernummeret er ukjent",
    38: "mobilnettet er ute av drift",
    41: "midlertidig feil i mobilnettet",
    42: "mobilnettet er overbelastet",
    50: "abonnementet tillater ikke SMS",
    304: "modemet godtok ikke innstillingene",
    305: "modemet godtok ikke teksten",
    310: "SIM-kortet mangler",
    311: "SIM-kortet krever PIN",
    313: "feil på SIM-kortet",
    330: "SMS-sentralens nummer er ukjent (sjekk SIM-kortet)",
    331: "ingen dekning i mobilnettet",
    332: "mobilnettet svarte ikke i tide",
    500: "ukjent feil i modemet",
}


def _cms_failure(code: int) -> SmsFailure:
    if code == 310:
        return SmsFailure.NO_SIM
    if code == 311:
        return SmsFailure.SIM_LOCKED
    if code in (38, 331):
        return SmsFailure.NO_NETWORK
    return SmsFailure.REFUSED


def is_gsm_ascii(text: str) -> bool:
    """Whether ``text`` can go as IRA (plain ASCII in the GSM alphabet)."""
    return all(c in _GSM_ASCII for c in text)


def split_sms(text: str, *, per_message: int, max_parts: int = MAX_PARTS) -> tuple[list[str], bool]:
    """``text`` in messages of at most ``per_message`` characters, numbered "1/2 " when there
    are several, cut at a space where one is near; and whether the end had to be cut off."""
    text = " ".join(text.split())
    if len(text) <= per_message:
        return [text], False
    room = per_message - len(f"{max_parts}/{max_parts} ")
    chunks: list[str] = []
    rest = text
    while rest and len(chunks) < max_parts:
        if len(rest) <= room:
            chunks.append(rest)
            rest = ""
            break
        cut = rest.rfind(" ", room // 2, room + 1)
        cut = room if cut <= 0 else cut
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    trimmed = bool(rest)
    if trimmed:
        chunks[-1] = chunks[-1][: room - 1].rstrip() + "…"
    n = len(chunks)
    return [f"{i}/{n} {c}" for i, c in enumerate(chunks, 1)], trimmed


def encode_sms(text: str) -> tuple[str, list[str], bool]:
    """The character set for ``text`` (``IRA`` or ``UCS2``), its messages as the modem wants
    them written (UCS2 as hex of UTF-16 big-endian), and whether it was trimmed."""
    if is_gsm_ascii(text.replace("\n", " ")):
        parts, trimmed = split_sms(text, per_message=160)
        return "IRA", parts, trimmed
    parts, trimmed = split_sms(text, per_message=70)
    if any(ord(c) > 0xFFFF for c in text):  # UCS2 has no surrogates: drop what it cannot hold
        parts = ["".join(c if ord(c) <= 0xFFFF else "?" for c in p) for p in parts]
    return "UCS2", [p.encode("utf-16-be").hex().upper() for p in parts], trimmed


def _ucs2(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


_PHONE = frozenset("+0123456789")


class _SmsError(Exception):
    def __init__(self, failure: SmsFailure, detail: str) -> None:
        super().__init__(detail)
        self.failure, self.detail = failure, detail


def _send_sms(modem: "Modem", port: serial.Serial, number: str, text: str, send_timeout: float) -> SmsResult:
    """The whole text-mode dialogue on an open port (raises _SmsError, _NoAnswer)."""
    try:
        modem._command(port, "ATE0")
    except _AtError:
        pass
    try:
        pin = modem._command(port, "AT+CPIN?")
    except _AtError as exc:
        raise _SmsError(SmsFailure.NO_SIM, "Modemet finner ikke SIM-kortet.") from exc
    if not any("READY" in line for line in pin):
        raise _SmsError(SmsFailure.SIM_LOCKED, "SIM-kortet er låst (krever PIN).")
    found = []
    for command, prefix in (("AT+CREG?", "+CREG:"), ("AT+CEREG?", "+CEREG:")):
        try:
            found.append(parse_registration(modem._command(port, command), prefix))
        except _AtError:
            continue
    if not any(r in (Registration.HOME, Registration.ROAMING) for r in found):
        known = [r for r in found if r is not None]
        why = REGISTRATION_NB[min(known, key=_RANK.index)] if known else "Ikke registrert i mobilnettet"
        raise _SmsError(SmsFailure.NO_NETWORK, f"Ingen mobildekning: {why.lower()}.")
    charset, parts, trimmed = encode_sms(text)
    for command in ("AT+CMGF=1", f'AT+CSCS="{charset}"', "AT+CSMP=17,167,0,8" if charset == "UCS2"
                    else "AT+CSMP=17,167,0,0"):
        modem._command(port, command)
    address = _ucs2(number) if charset == "UCS2" else number
    references = []
    for part in parts:
        references.append(_cmgs(modem, port, address, part, send_timeout))
    detail = f"Sendt til {number} ({len(parts)} {'melding' if len(parts) == 1 else 'meldinger'})."
    return SmsResult(True, len(parts), tuple(references), detail=detail, trimmed=trimmed)


def _cmgs(modem: "Modem", port: serial.Serial, address: str, body: str, send_timeout: float) -> int:
    """One ``AT+CMGS``: the prompt, the text and Ctrl-Z, then ``+CMGS: <mr>``."""
    command = f'AT+CMGS="{address}"'
    port.reset_input_buffer()
    port.write(command.encode("ascii") + b"\r")
    pending = _read_until(modem, port, lambda b: b">" in b or _error_line(b), modem.timeout, command)
    if b">" not in pending:
        _raise_cms(pending)
    port.write(body.encode("ascii") + b"\x1a")
    answer = _read_until(modem, port, lambda b: _ok_line(b) or _error_line(b), send_timeout, "AT+CMGS (tekst)")
    if _error_line(answer):
        _raise_cms(answer)
    for line in answer.decode("ascii", errors="replace").replace("\r", "\n").split("\n"):
        if line.strip().startswith("+CMGS:"):
            value = line.split(":", 1)[1].strip()
            return int(value) if value.isdigit() else -1
    return -1


def _error_line(data: bytes) -> bool:
    """Whether ``data`` holds a whole error result line (``ERROR``, ``+CMS ERROR: 331``)."""
    return re.search(rb"ERROR[^\r\n]*[\r\n]", data) is not None


def _ok_line(data: bytes) -> bool:
    return re.search(rb"(^|[\r\n])OK[\r\n]", data) is not None


def _read_until(modem: "Modem", port: serial.Serial, done: Callable[[bytes], bool], timeout: float,
                what: str) -> bytes:
    """Read until ``done`` says so; :class:`_NoAnswer` after ``timeout`` seconds."""
    deadline = modem._clock() + timeout
    pending = b""
    while not done(pending):
        remaining = deadline - modem._clock()
        if remaining <= 0:
            raise _NoAnswer(what)
        port.timeout = remaining
        pending += port.read(max(1, port.in_waiting))
    return pending


def _raise_cms(answer: bytes) -> None:
    text = answer.decode("ascii", errors="replace")
    for line in text.replace("\r", "\n").split("\n"):
        line = line.strip()
        if line.startswith("+CMS ERROR:") or line.startswith("+CME ERROR:"):
            code_text = line.split(":", 1)[1].strip()
            if code_text.isdigit():
                code = int(code_text)
                why = CMS_NB.get(code, f"feilkode {code}")
                raise _SmsError(_cms_failure(code), f"Meldingen ble ikke sendt: {why} ({line}).")
            raise _SmsError(SmsFailure.REFUSED, f"Meldingen ble ikke sendt ({line}).")
    raise _SmsError(SmsFailure.REFUSED, "Meldingen ble ikke sendt: modemet svarte ERROR.")
