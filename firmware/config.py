"""The station configuration: one TOML file per kiosk, written by the IT team.

Validated with pydantic because the file is typed by hand before election day and must
be refused with a clear answer, not half-understood: strict types (``bord = "3"`` is an
error, not silently 3), unknown keys refused (a misspelt key is not ignored), and one
error per field with its location, which :func:`load` turns into Norwegian sentences
that name the file, the key and what is wrong.

Strict where a mistake would be dangerous rather than merely wrong: the register's URL
must parse with a valid host and port and be HTTPS (``http://`` only to loopback, or
with ``insecure_http = true``, which the caretaker screen then warns about); the
credential is visible ASCII without blanks; every timing has bounds (voter details on
screen for at most 60 s); printer profiles are the known ones; the chair's PIN hash is
tried once at load. ``load(path, real=True)`` (a real kiosk, not ``--sim``) also
refuses what only sim mode may use: the ``memory:`` register, simulated devices and
demo cards. Paths the kiosk must use (the log file's folder, key and CA files) are
checked at load, so every problem reaches the configuration error screen.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from valgkiosk.core.checkoff import Timings
from valgkiosk.core.outage import Timings as OutageTimings
from valgkiosk.pin import BadPinHash, validate as validate_pin_hash

#: Where the kiosk looks when no path is given (the image puts it here).
DEFAULT_PATH = Path("/etc/valgkiosk/station.toml")


class ConfigError(ValueError):
    """A configuration the kiosk cannot start with; ``problems`` are Norwegian sentences."""

    def __init__(self, path: str | Path, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"Feil i konfigurasjonsfilen {self.path}:\n" + "\n".join(f"- {p}" for p in problems))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, populate_by_name=True)


Digits4 = Annotated[str, Field(pattern=r"^[0-9]{4}$")]


class StationSection(_Section):
    """Where the kiosk stands."""

    kommune: Digits4
    krets: Digits4
    bord: Annotated[int, Field(ge=1, le=999)]
    navn: str = ""  # the station's name for the screen; the register's name wins if known
    kommune_navn: str = ""  # the kommune's name for the receipts ("Bergen"), beside its number


class ElectionSection(_Section):
    """Which election the kiosk serves: its year gives the valgkort's year digit."""

    year: Annotated[int, Field(ge=2000, le=2100)]
    title: str = ""  # "Stortingsvalget 2025" on the receipts before the register has answered
    time_zone: str = "Europe/Oslo"  # the people's clock: every time on screen and paper

    @model_validator(mode="after")
    def _known_zone(self) -> "ElectionSection":
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"ukjent tidssone «{self.time_zone}» (bruk f.eks. «Europe/Oslo»)") from None
        return self


_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
#: A credential as it goes into the Authorization header: visible ASCII, no blanks.
_CREDENTIAL = re.compile(r"^[\x21-\x7e]{16,4096}$")


def url_problem(url: str) -> str:
    """Why ``url`` is no register address (Norwegian), or "" when it is one."""
    if url.startswith("memory:"):
        return ""
    import httpx

    if any(c.isspace() or ord(c) < 0x20 for c in url):
        return "inneholder mellomrom eller kontrolltegn"
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, TypeError):
        return "er ikke en gyldig adresse"
    if parsed.scheme not in ("https", "http"):
        return "må begynne med https://"
    if parsed.userinfo:
        return "skal ikke inneholde brukernavn eller passord (bruk «credential»)"
    if parsed.query or parsed.fragment:
        return "skal ikke ha «?» eller «#»"
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        return "har et portnummer utenfor 1–65535"
    host = parsed.host
    if not host:
        return "mangler vertsnavn"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        labels = host.rstrip(".").split(".")
        if len(host) > 253 or not all(_HOST_LABEL.match(label) for label in labels) or labels[-1].isdigit():
            return f"har et ugyldig vertsnavn ({host!r})"
    return ""


def is_loopback(url: str) -> bool:
    """True when ``url`` names this machine (traffic that never leaves it)."""
    import httpx

    try:
        host = httpx.URL(url).host
    except (httpx.InvalidURL, ValueError, TypeError):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RegisterSection(_Section):
    """How to reach the register. ``url = "memory:"`` uses the in-memory demo register
    (sim mode only). ``http://`` sends the credential in clear text: refused unless the
    register is on this machine or ``insecure_http = true`` says it is meant."""

    url: Annotated[str, Field(max_length=2048)]
    # Further API nodes of the same register, tried in order when ``url`` fails
    # (firmware/register_failover.py); one credential serves them all.
    urls: list[Annotated[str, Field(max_length=2048)]] = Field(default_factory=list, max_length=8)
    credential: str | None = None
    credential_file: str | None = None
    ca_file: str | None = None
    insecure_http: bool = False

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        problem = url_problem(value)
        if problem:
            raise ValueError(f"{problem} (https://vert[:port]/… eller memory:)")
        return value

    @field_validator("urls")
    @classmethod
    def _valid_urls(cls, values: list[str]) -> list[str]:
        for value in values:
            problem = "kan ikke være memory:" if value.startswith("memory:") else url_problem(value)
            if problem:
                raise ValueError(f"«{value[:80]}» {problem} (https://vert[:port]/…)")
        return values

    @field_validator("credential")
    @classmethod
    def _valid_credential(cls, value: str | None) -> str | None:
        if value is not None:
            credential_problem(value, "register.credential")
        return value

    @model_validator(mode="after")
    def _one_credential(self) -> "RegisterSection":
        if self.url.startswith("memory:"):
            return self
        if (self.credential is None) == (self.credential_file is None):
            raise ValueError("oppgi nøyaktig én av «credential» og «credential_file»")
        plain = [u for u in (self.url, *self.urls) if u.startswith("http://") and not is_loopback(u)]
        if plain and not self.insecure_http:
            raise ValueError("«url» bruker http://, så tilgangsnøkkelen går i klartekst over nettet: bruk https://, "
                             "eller sett «insecure_http = true» om det virkelig er meningen")
        return self


def credential_problem(value: str, key: str) -> None:
    """Raise ValueError (Norwegian) unless ``value`` can be sent as the kiosk's credential."""
    if not value.strip():
        raise ValueError(f"«{key}» er tom")
    if not _CREDENTIAL.match(value):
        raise ValueError(f"«{key}» må være 16 til 4096 synlige ASCII-tegn uten mellomrom")


#: A USB port as the kernel names it (bus-port[.port…], e.g. "1-1.3"): lsusb -t, or
#: /sys/bus/usb/devices/. Pins a device to the socket it is plugged into.
UsbPort = Annotated[str, Field(pattern=r"^[1-9][0-9]{0,2}-[1-9][0-9]{0,2}(\.[1-9][0-9]{0,2}){0,5}$")]


class ScannerSection(_Section):
    """Which hand scanner: evdev (keyboard mode), serial (USB-serial mode) or sim."""

    kind: Literal["evdev", "serial", "sim"]
    vendor: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None
    product: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None
    port: UsbPort | None = None  # the USB port it must sit in (optional)
    name: str | None = None
    path: str | None = None
    layout: Literal["us", "no", "nb"] = "us"
    device: str | None = None
    baudrate: Annotated[int, Field(ge=300, le=921600)] = 9600

    @model_validator(mode="after")
    def _identity(self) -> "ScannerSection":
        if self.kind == "evdev" and not (self.vendor is not None or self.product is not None or self.name or self.path):
            raise ValueError("en evdev-skanner trenger «vendor»/«product», «name» eller «path»")
        if self.kind == "serial" and not self.device:
            raise ValueError("en seriell skanner trenger «device»")
        return self


class PrinterSection(_Section):
    """The receipt printer (python-escpos): how to reach it, its profile, and where the
    print queue keeps jobs that have not printed. ``kind = "none"``: no printer."""

    kind: Literal["none", "usb", "serial", "network", "file", "sim"] = "none"
    vendor: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None  # usb
    product: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None  # usb
    device: str | None = None  # serial (/dev/ttyUSB0) or file (/dev/usb/lp0)
    baudrate: Annotated[int, Field(ge=300, le=921600)] = 9600  # serial
    host: str | None = None  # network
    port: Annotated[int, Field(ge=1, le=65535)] = 9100  # network
    timeout: Annotated[float, Field(gt=0, le=60)] = 5.0
    check_status: bool = True  # false: the connection cannot read back, print blind
    output: str | None = None  # sim: the last receipt as text
    profile: Literal["TM-T20II", "TM-T88V"] = "TM-T20II"  # python-escpos profile: 48 or 42 columns
    columns: Annotated[int, Field(ge=24, le=64)] | None = None  # default: the profile's
    queue_dir: str = "/var/lib/valgkiosk/print-queue"
    # a kept job with personal data (a manual valgkort) is destroyed at this time (local) on the day it was made
    personal_data_until: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = "23:59"

    def personal_data_time(self) -> Any:
        """``personal_data_until`` as a ``datetime.time``."""
        from datetime import time

        hour, minute = self.personal_data_until.split(":")
        return time(int(hour), int(minute))

    @model_validator(mode="after")
    def _address(self) -> "PrinterSection":
        if self.kind == "usb" and (self.vendor is None or self.product is None):
            raise ValueError("en USB-skriver trenger «vendor» og «product»")
        if self.kind in ("serial", "file") and not self.device:
            raise ValueError(f"en skriver av typen «{self.kind}» trenger «device»")
        if self.kind == "network" and not self.host:
            raise ValueError("en nettverksskriver trenger «host»")
        return self


class TimingsSection(_Section):
    """Every delay, in seconds, each with bounds: the voter's details are on screen at
    most a minute, and a check-off waits at most 30 s for the register."""

    personal_data_seconds: Annotated[float, Field(ge=3, le=60)] = 15.0
    confirm_seconds: Annotated[float, Field(ge=5, le=300)] = 60.0
    duplicate_scan_seconds: Annotated[float, Field(ge=0.2, le=10)] = 1.0
    register_timeout_seconds: Annotated[float, Field(ge=0.5, le=30)] = 3.0
    retry_interval_seconds: Annotated[float, Field(ge=0.5, le=60)] = 2.0

    def timings(self) -> Timings:
        return Timings(
            personal_data=self.personal_data_seconds,
            confirm=self.confirm_seconds,
            duplicate_window=self.duplicate_scan_seconds,
            register_timeout=self.register_timeout_seconds,
            retry_interval=self.retry_interval_seconds,
        )


class DemoCard(_Section):
    """A valgkort the sim-mode dev dock can scan."""

    label: str
    number: str


class SimSection(_Section):
    """Sim mode only: the demo cards the dev dock offers."""

    demo_cards: list[DemoCard] = []


class LogSection(_Section):
    """Where the kiosk logs: ``file`` for the technical log (else the journal via stderr),
    ``loggbok`` for the durable hash-chained loggbok (none when not set), ``signing_key``
    for the kiosk's Ed25519 key that signs every entry (made by ``valgkiosk log keygen``
    at provisioning; none: entries are unsigned)."""

    file: Annotated[str, Field(min_length=1)] | None = None
    loggbok: Annotated[str, Field(min_length=1)] | None = None
    signing_key: Annotated[str, Field(min_length=1)] | None = None
    level: Literal["debug", "info", "warning", "error"] = "info"


#: A BCM (GPIO) number on the 40-pin header.
PinName = Annotated[int, Field(ge=0, le=27)]


class GpioInputSection(_Section):
    """One power-sense input: its pin and polarity (default: the optocoupler, present when low)."""

    pin: PinName
    pull: Literal["up", "down", "none"] = "up"
    active_high: bool = False


class GpioOutputSection(_Section):
    """One LED or the buzzer: its pin, and whether driving it high lights or sounds it."""

    pin: PinName
    active_high: bool = True


class GpioSection(_Section):
    """The caretaker box on the Pi's GPIO header (BCM numbers). A missing sub-section is
    not fitted; no ``[gpio]`` section at all means no caretaker box. ``stable_seconds``:
    an input's level counts once it has held this long. The pin factory is not set
    here: the composition root uses lgpio on a Pi and gpiozero's mock in sim mode."""

    stable_seconds: Annotated[float, Field(ge=0, le=60)] = 0.5
    mains: GpioInputSection | None = None
    router: GpioInputSection | None = None
    simula: GpioInputSection | None = None
    power_led: GpioOutputSection | None = None
    network_led: GpioOutputSection | None = None
    alarm_led: GpioOutputSection | None = None
    buzzer: GpioOutputSection | None = None

    @model_validator(mode="after")
    def _distinct_pins(self) -> "GpioSection":
        seen: dict[int, str] = {}
        for name in ("mains", "router", "simula", "power_led", "network_led", "alarm_led", "buzzer"):
            part = getattr(self, name)
            if part is None:
                continue
            if part.pin in seen:
                raise ValueError(f"«{seen[part.pin]}» og «{name}» bruker samme pinne (GPIO{part.pin})")
            seen[part.pin] = name
        return self


class KeyboardSection(_Section):
    """The clerk's USB keyboard (F-keys, Enter, the chair's PIN): USBGuard admits this one
    keyboard, as a HID keyboard only, and refuses every other."""

    vendor: Annotated[int, Field(ge=0, le=0xFFFF)]
    product: Annotated[int, Field(ge=0, le=0xFFFF)]
    port: UsbPort | None = None  # the USB port it must sit in (optional)


class ModemSection(_Section):
    """The USB modem of the mobile fallback, read with AT commands (absent: no modem).
    ``vendor``/``product`` let USBGuard admit it (required for a USB modem on the image)."""

    device: Annotated[str, Field(min_length=1)]
    vendor: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None
    product: Annotated[int, Field(ge=0, le=0xFFFF)] | None = None
    baudrate: Annotated[int, Field(ge=300, le=4_000_000)] = 115200
    timeout_seconds: Annotated[float, Field(gt=0, le=10)] = 1.0
    poll_seconds: Annotated[float, Field(ge=1, le=3600)] = 5.0


class ClockSection(_Section):
    """The clock rules (valgkiosk.core.timekeeping, docs/clock.md), applied by
    valgkiosk-clock.service: how often the sources are read, where a fitted RTC is, whether
    the mobile network's time is asked for through the ``[modem]``, and where the state
    that the kiosk shows is kept."""

    check_seconds: Annotated[float, Field(ge=10, le=86400)] = 300.0
    rtc: Annotated[str, Field(min_length=1)] = "/sys/class/rtc/rtc0"
    use_modem: bool = True
    state_file: Annotated[str, Field(min_length=1)] = "/run/valgkiosk-clock/state.json"


class UpsSection(_Section):
    """The UPS (docs/power.md): which kind reports the battery, and when the kiosk closes
    its loggbok and shuts down. Mains or battery comes from ``[gpio.mains]``; ``kind``
    adds what the UPS says about its charge and remaining time: ``"sense"`` (only the
    sense line; low battery from ``low_battery_pin``), ``"sysfs"`` (a fuel gauge with a
    kernel driver: /sys/class/power_supply/<power_supply>), ``"nut"`` (a USB UPS through
    Network UPS Tools' ``upsc``)."""

    kind: Literal["sense", "sysfs", "nut"] = "sense"
    power_supply: Annotated[str, Field(min_length=1)] = "battery"
    nut_ups: Annotated[str, Field(min_length=1)] = "ups@localhost"
    low_battery_pin: Annotated[int, Field(ge=0, le=27)] | None = None
    low_battery_active_high: bool = False
    shutdown_percent: Annotated[float, Field(ge=0, le=90)] = 15.0
    shutdown_runtime_seconds: Annotated[float, Field(ge=0, le=7200)] = 300.0
    poll_seconds: Annotated[float, Field(ge=1, le=600)] = 10.0


PhoneNumber = Annotated[str, Field(pattern=r"^\+[0-9]{6,15}$")]


class OfficeSection(_Section):
    """The election office: status reports to the register while it is reachable, and the
    texts the station's messenger table sends when it is not (issue 15)."""

    report_seconds: Annotated[float, Field(ge=1, le=600)] = 5.0
    sms_numbers: list[PhoneNumber] = []  # the office's numbers, "+4799887766"
    messenger_table: Annotated[int, Field(ge=1, le=999)] | None = None  # the table whose kiosk texts
    sms_after_seconds: Annotated[float, Field(ge=0, le=3600)] = 30.0
    sms_max_per_hour: Annotated[int, Field(ge=1, le=60)] = 6
    sms_send_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 30.0


class NetworkSection(_Section):
    """The network watchdog: the uplink it watches, how it reaches the router, and its
    timings (see valgkiosk.core.outage.Timings and docs/network.md)."""

    interface: str | None = "eth0"  # the uplink; none: skip the link layer
    gateway_port: Annotated[int, Field(ge=1, le=65535)] | None = None  # a TCP port the router answers on
    check_gateway: bool = True  # false when the register is on the kiosk's own subnet
    probe_interval_seconds: Annotated[float, Field(ge=0.05, le=60)] = 0.25
    fail_after: Annotated[int, Field(ge=1, le=1000)] = 8
    recover_after: Annotated[int, Field(ge=1, le=1000)] = 12
    link_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 0.1
    gateway_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 0.25
    dns_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 0.5
    tcp_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 0.25
    health_timeout_seconds: Annotated[float, Field(gt=0, le=30)] = 0.5

    def timings(self) -> OutageTimings:
        return OutageTimings(
            probe_interval=self.probe_interval_seconds, link_timeout=self.link_timeout_seconds,
            gateway_timeout=self.gateway_timeout_seconds, dns_timeout=self.dns_timeout_seconds,
            tcp_timeout=self.tcp_timeout_seconds, health_timeout=self.health_timeout_seconds,
            fail_after=self.fail_after, recover_after=self.recover_after,
        )


class EmergencySection(_Section):
    """The emergency routine: the chair's PIN as made by ``valgkiosk pin-hash`` (never the PIN)."""

    chair_pin_hash: str | None = None

    @model_validator(mode="after")
    def _hash_format(self) -> "EmergencySection":
        if self.chair_pin_hash is not None:
            try:
                validate_pin_hash(self.chair_pin_hash)
            except BadPinHash as exc:
                raise ValueError(f"«chair_pin_hash» er {exc}") from None
        return self


class StationConfig(_Section):
    """The whole file."""

    station: StationSection
    election: ElectionSection
    register_: RegisterSection = Field(alias="register")  # "register" would shadow ABCMeta.register
    scanner: ScannerSection
    keyboard: KeyboardSection | None = None
    printer: PrinterSection = PrinterSection()
    timings: TimingsSection = TimingsSection()
    sim: SimSection = SimSection()
    log: LogSection = LogSection()
    gpio: GpioSection | None = None
    modem: ModemSection | None = None
    clock: ClockSection = ClockSection()
    ups: UpsSection | None = None
    office: OfficeSection = OfficeSection()
    network: NetworkSection = NetworkSection()
    emergency: EmergencySection = EmergencySection()

    def warnings(self) -> list[str]:
        """What the caretaker screen warns about in an accepted configuration (Norwegian)."""
        out = []
        if self.register_.url.startswith("http://") and not is_loopback(self.register_.url):
            out.append("Kiosken snakker med manntallet over ukryptert http:// («insecure_http»): "
                       "tilgangsnøkkelen kan leses på nettet. Varsle IKT-ansvarlig.")
        return out

    def sim_only(self) -> list[tuple[str, str]]:
        """(key, why) for what only sim mode may use: refused on a real kiosk."""
        found = []
        if self.register_.url.startswith("memory:"):
            found.append(("register.url", "«memory:» er demomanntallet i minnet, bare for sim-modus"))
        if self.scanner.kind == "sim":
            found.append(("scanner.kind", "«sim» er den simulerte skanneren, bare for sim-modus"))
        if self.printer.kind == "sim":
            found.append(("printer.kind", "«sim» er den simulerte skriveren, bare for sim-modus"))
        if self.sim.demo_cards:
            found.append(("sim.demo_cards", "demovalgkort hører bare hjemme i sim-modus"))
        return found

    def credential_value(self, base: Path | None = None) -> str:
        """The register credential, read from ``credential_file`` if given."""
        if self.register_.credential is not None:
            return self.register_.credential
        if self.register_.credential_file is None:
            return ""
        path = Path(self.register_.credential_file)
        if base is not None and not path.is_absolute():
            path = base / path
        return path.read_text(encoding="utf-8").strip()


_NB: dict[str, str] = {
    "missing": "mangler",
    "extra_forbidden": "er ikke en kjent nøkkel (skrivefeil?)",
    "string_type": "må være tekst i anførselstegn",
    "int_type": "må være et heltall (uten anførselstegn)",
    "float_type": "må være et tall (uten anførselstegn)",
    "bool_type": "må være true eller false",
    "list_type": "må være en liste",
    "model_type": "må være en seksjon [..]",
    "model_attributes_type": "må være en seksjon [..]",
    "dict_type": "må være en seksjon [..]",
    "string_pattern_mismatch": "har feil format",
    "string_too_short": "er for kort",
    "greater_than": "må være større enn {gt}",
    "greater_than_equal": "må være minst {ge}",
    "less_than_equal": "må være høyst {le}",
    "literal_error": "må være en av {expected}",
}

_FORMAT_HINTS = {
    ("station", "kommune"): "fire sifre, for eksempel \"0301\"",
    ("station", "krets"): "fire sifre, for eksempel \"0101\"",
    ("register", "url"): "https://… eller memory:",
    ("printer", "personal_data_until"): "TT:MM, for eksempel \"23:59\"",
}


def _sentence(path: str, err: dict[str, Any]) -> str:
    loc = [str(p) for p in err.get("loc", ())]
    key = ".".join(loc)
    kind = err.get("type", "")
    if kind == "value_error":
        what = str(err.get("ctx", {}).get("error", "har ugyldig verdi"))
    else:
        what = _NB.get(kind, "har ugyldig verdi")
        ctx = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
        try:
            what = what.format(**ctx)
        except (KeyError, IndexError):
            pass
        hint = _FORMAT_HINTS.get(tuple(loc[:2]))  # type: ignore[arg-type]
        if kind == "string_pattern_mismatch" and hint:
            what = f"{what} ({hint})"
    where = f"nøkkelen «{key}»" if key else "filen"
    if not key and kind == "value_error":
        where = "filen:"
    elif len(loc) == 1 and kind == "value_error":
        where = f"seksjonen [{loc[0]}]:"
    return f"{path}: {where} {what}."


def parse(text: str, path: str | Path = "<tekst>") -> StationConfig:
    """Parse and validate a configuration; raise :class:`ConfigError` listing every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, [f"{path}: filen er ikke gyldig TOML ({exc})."]) from None
    try:
        return StationConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(path, [_sentence(str(path), e) for e in exc.errors()]) from None  # type: ignore[arg-type]


def load(path: str | Path, *, real: bool = False) -> StationConfig:
    """Read and validate the file at ``path``; a credential file must be readable too,
    and the files and folders it names usable. ``real``: a real kiosk (not sim mode),
    which refuses what only sim mode may use."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(p, [f"{p}: filen finnes ikke."]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(p, [f"{p}: filen kan ikke leses ({exc})."]) from None
    config = parse(text, p)
    if config.register_.credential_file is not None:
        try:
            value = config.credential_value(p.parent)
        except OSError as exc:
            why = {FileNotFoundError: "ikke finnes", PermissionError: "ikke kan leses (mangler tilgang)"}.get(
                type(exc), "ikke kan leses"
            )
            raise ConfigError(p, [f"{p}: nøkkelen «register.credential_file» peker på en fil som {why}."]) from None
        if not value:
            raise ConfigError(p, [f"{p}: nøkkelen «register.credential_file» peker på en tom fil."])
        try:
            credential_problem(value, "register.credential_file")
        except ValueError as exc:
            raise ConfigError(p, [f"{p}: innholdet i filen som {exc}."]) from None
    problems = [f"{p}: nøkkelen «{key}» {why}." for key, why in path_problems(config, p.parent)]
    if real:
        problems += [f"{p}: nøkkelen «{key}»: {why}; en ekte kiosk starter ikke med den." for key, why in config.sim_only()]
    if problems:
        raise ConfigError(p, problems)
    return config


def resolve(value: str, base: Path) -> Path:
    """A path from the file: relative ones are relative to the file's folder."""
    path = Path(value)
    return path if path.is_absolute() else base / path


def path_problems(config: StationConfig, base: Path) -> list[tuple[str, str]]:
    """(key, why) for each file or folder named in the configuration that cannot be used."""
    found: list[tuple[str, str]] = []
    if config.log.file is not None:
        folder = resolve(config.log.file, base).parent
        if not folder.is_dir():
            found.append(("log.file", f"peker inn i en mappe som ikke finnes ({folder})"))
        elif resolve(config.log.file, base).is_dir():
            found.append(("log.file", "peker på en mappe, ikke en fil"))
    if config.log.loggbok is not None and resolve(config.log.loggbok, base).is_dir():
        found.append(("log.loggbok", "peker på en mappe, ikke en fil"))
    if config.register_.ca_file is not None and not resolve(config.register_.ca_file, base).is_file():
        found.append(("register.ca_file", "peker på en fil som ikke finnes"))
    if config.log.signing_key is not None:
        from valgkiosk.signing import SigningKeyError, load_signer

        try:
            load_signer(resolve(config.log.signing_key, base))
        except SigningKeyError as exc:
            found.append(("log.signing_key", f"kan ikke brukes: {exc}"))
    return found
