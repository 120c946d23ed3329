"""What the caretaker reads: power and network, row by row, and the one next check.

Pure functions from what the kiosk knows (stable power states, the latest network probe
results) to rows of tone (colour), symbol and words, so that no state relies on colour
alone. Anything not measured is shown as ``ukjent``: the kiosk never pretends.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from valgkiosk.core import sensing
from valgkiosk.core.outage import Layer
from valgkiosk.ports.power import PowerSource

from valgkiosk.shell import LayerResultLike as LayerResultLike  # noqa: F401 - the shell publishes them
from valgkiosk.shell import NetworkLayers as NetworkLayers

from .texts import BAD, OK

UNKNOWN = "unknown"
SYMBOL = {OK: "✔", BAD: "✖", UNKNOWN: "?"}
UKJENT = "ukjent"


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the caretaker screen: what is checked, its tone and its words."""

    key: str
    label: str
    tone: str
    words: str
    detail: str = ""

    @property
    def symbol(self) -> str:
        return SYMBOL[self.tone]


def _row(key: str, label: str, state: bool | None, good: str, bad: str, detail: str = "") -> Row:
    if state is None:
        return Row(key, label, UNKNOWN, UKJENT, detail)
    return Row(key, label, OK if state else BAD, good if state else bad, detail)


def power_rows(power: Mapping[PowerSource, bool | None]) -> list[Row]:
    """Mains (or battery), router power and SIMULA power."""
    return [
        _row("mains", "Strøm til kiosken", power.get(PowerSource.MAINS),
             "Strømnett", "Batteri: strømmen er borte"),  # fmt: skip
        _row("router", "Strøm til ruteren", power.get(PowerSource.ROUTER), "Har strøm", "Ingen strøm"),
        _row("simula", "Strøm til SIMULA-boksen", power.get(PowerSource.SIMULA), "Har strøm", "Ingen strøm"),
    ]


def network_rows(net: NetworkLayers) -> list[Row]:
    """Network cable (link), router (gateway), name lookup (DNS) and the register
    (reached over TCP and answering its health check)."""
    tcp, health = net.state(Layer.TCP), net.state(Layer.HEALTH)
    if tcp is False:
        register: Row = _row("register", "Manntallet", False, "", "Kan ikke nås", net.details.get(Layer.TCP, ""))
    elif health is False:
        register = _row("register", "Manntallet", False, "", "Svarer, men melder feil",
                        net.details.get(Layer.HEALTH, ""))  # fmt: skip
    elif tcp and health:
        register = _row("register", "Manntallet", True, "Svarer", "")
    else:
        register = _row("register", "Manntallet", None, "", "")
    return [
        _row("link", "Nettverkskabel", net.state(Layer.LINK), "Tilkoblet", "Ingen kobling",
             net.details.get(Layer.LINK, "") if net.state(Layer.LINK) is False else ""),  # fmt: skip
        _row("gateway", "Ruter", net.state(Layer.GATEWAY), "Svarer", "Svarer ikke",
             net.details.get(Layer.GATEWAY, "") if net.state(Layer.GATEWAY) is False else ""),  # fmt: skip
        _row("dns", "Navneoppslag", net.state(Layer.DNS), "Virker", "Feiler",
             net.details.get(Layer.DNS, "") if net.state(Layer.DNS) is False else ""),  # fmt: skip
        register,
    ]


@dataclass(frozen=True, slots=True)
class NextView:
    """The one next thing to check: tone, headline and why."""

    tone: str
    title: str
    reason: str

    @property
    def symbol(self) -> str:
        return {OK: "✔", BAD: "!", UNKNOWN: "?"}[self.tone]


def next_view(power: Mapping[PowerSource, bool | None], net: NetworkLayers) -> NextView:
    """The routine's next check (:func:`valgkiosk.core.sensing.next_check`), or, when
    nothing calls for one, whether that is because all is well or because not all is known."""
    nxt = sensing.next_check(power, net.first_failed)
    if nxt is not None:
        return NextView(BAD, nxt.text, nxt.reason)
    known = all(power.get(s) is not None for s in PowerSource) and all(
        net.state(layer) is not None for layer in Layer
    )
    if known:
        return NextView(OK, "Ingenting å sjekke nå.", "Strøm og nett er i orden.")
    return NextView(UNKNOWN, "Ingen feil er målt.",
                    "Det som står som ukjent, kan ikke kiosken se. Virker ikke nettet: sjekk strømmen til "
                    "ruteren og sikringene.")  # fmt: skip


class ModemReadingLike(Protocol):
    """One modem reading (valgkiosk.drivers.modem.ModemStatus fits)."""

    @property
    def registered(self) -> bool: ...
    @property
    def detail(self) -> str: ...


def modem_row(reading: ModemReadingLike | None) -> Row:
    """The mobile-fallback modem: green when it is on a mobile network, red with the
    driver's own words when it is not (unplugged, busy, ERROR, silent, not registered),
    ``ukjent`` until the first reading."""
    if reading is None:
        return Row("modem", "Mobilmodem", UNKNOWN, UKJENT, "leses nå")
    words = reading.detail.rstrip(".")
    return Row("modem", "Mobilmodem", OK if reading.registered else BAD, words)
