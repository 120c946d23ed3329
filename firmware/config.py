"""The station configuration: one TOML file per kiosk, written by the IT team.

Validated with pydantic because the file is typed by hand before election day and must
be refused with a clear answer, not half-understood: strict types (``bord = "3"`` is an
error, not silently 3), unknown keys refused (a misspelt key is not ignored), and one
error per field with its location, which :func:`load` turns into Norwegian sentences
that name the file, the key and what is wrong.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from valgkiosk.core.checkoff import Timings
from valgkiosk.core.outage import Timings as OutageTimings
from valgkiosk.pin import BadPinHash, check_format

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


class ElectionSection(_Section):
    """Which election the kiosk serves: its year gives the valgkort's year digit."""

    year: Annotated[int, Field(ge=2000, le=2100)]


class RegisterSection(_Section):
    """How to reach the register. ``url = "memory:"`` uses the in-memory demo register."""

    url: Annotated[str, Field(pattern=r"^(https?://\S+|memory:.*)$")]
    credential: str | None = Field(default=None, min_length=16)
    credential_file: str | None = None
    ca_file: str | None = None

    @model_validator(mode="after")
    def _one_credential(self) -> "RegisterSection":
        if self.url.startswith("memory:"):
            return self
        if (self.credential is None) == (self.credential_file is None):
            raise ValueError("oppgi nøyaktig én av «credential» og «credential_file»")
        return self


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
    profile: str = "TM-T20II"  # python-escpos profile: TM-T20II (48 columns), TM-T88V (42)
    columns: Annotated[int, Field(ge=24, le=64)] | None = None  # default: the profile's
    queue_dir: str = "/var/lib/valgkiosk/print-queue"

    @model_validator(mode="after")
    def _address(self) -> "PrinterSection":
        if self.kind == "usb" and (self.vendor is None or self.product is None):
            raise ValueError("en USB-skriver trenger «vendor» og «product»")
        if self.kind in ("serial", "file") and not self.device:
            raise ValueError(f"en skriver av typen «{self.kind}» trenger «device»")
        if self.kind == "network" and not self.host:
            raise ValueError("en nettverksskriver trenger «host»")
        return self


Seconds = Annotated[float, Field(gt=0, le=3600)]


class TimingsSection(_Section):
    """Every delay, in seconds."""

    personal_data_seconds: Seconds = 15.0
    confirm_seconds: Seconds = 60.0
    duplicate_scan_seconds: Seconds = 1.0
    register_timeout_seconds: Seconds = 3.0
    retry_interval_seconds: Seconds = 2.0

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
    ``loggbok`` for the durable hash-chained loggbok (none when not set)."""

    file: str | None = None
    loggbok: str | None = None
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
                check_format(self.chair_pin_hash)
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
    network: NetworkSection = NetworkSection()
    emergency: EmergencySection = EmergencySection()

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


def load(path: str | Path) -> StationConfig:
    """Read and validate the file at ``path``; a credential file must be readable too."""
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
    return config
