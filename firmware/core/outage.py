"""The outage detector: layered probe results in, "register unreachable/reachable" out.

Pure, driven by the probe results and the times they carry. Hysteresis: the register
is declared unreachable after ``fail_after`` failed probe rounds in a row and reachable
again after ``recover_after`` good rounds in a row, so one lost packet never sounds the
alarm and a flapping link does not toggle the mode.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime


class Layer(enum.IntEnum):
    """Probe layers from the cable up; the first failing one names the fault."""

    LINK = 1
    GATEWAY = 2
    DNS = 3
    TCP = 4
    HEALTH = 5


DIAGNOSIS_NB: dict[Layer, str] = {
    Layer.LINK: "Ingen nettverkskobling: sjekk nettkabelen mellom kiosken og ruteren, og strøm til ruteren.",
    Layer.GATEWAY: "Ruteren svarer ikke: sjekk strøm til ruteren og sikringene, deretter SIMULA-boksen.",
    Layer.DNS: "Navneoppslag feiler: ruteren har trolig mistet internett. Sjekk SIMULA-boksen, ring valgtelefonen (tast 3).",
    Layer.TCP: "Manntallet kan ikke nås over nettet: ring valgtelefonen (tast 3, IT).",
    Layer.HEALTH: "Manntallet svarer ikke riktig (en feil, eller ikke noe svar): ring valgtelefonen (tast 3, IT).",
}


@dataclass(frozen=True, slots=True)
class Timings:
    """Every delay of the watchdog in one place (seconds)."""

    probe_interval: float = 0.25
    link_timeout: float = 0.1
    gateway_timeout: float = 0.25
    dns_timeout: float = 0.5
    tcp_timeout: float = 0.25
    health_timeout: float = 0.5
    fail_after: int = 8      # P(false alarm) at 10 % loss: 1e-8 per round
    recover_after: int = 12  # a flapping link must hold for 3 s before "reachable"


@dataclass(frozen=True, slots=True)
class ProbeRound:
    """One round of probes: when it finished, and the first layer that failed (None: all good)."""

    at: datetime
    failed: Layer | None


class Mode(enum.Enum):
    """What the station knows about the register."""

    REACHABLE = "reachable"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class DetectorState:
    """The detector's memory."""

    mode: Mode = Mode.REACHABLE
    fails_in_row: int = 0
    goods_in_row: int = 0
    first_fail_at: datetime | None = None   # start of the current run of failures
    outage_started_at: datetime | None = None
    worst_layer: Layer | None = None        # the lowest failing layer seen in this outage


@dataclass(frozen=True, slots=True)
class OutageStarted:
    """Effect: declare the register unreachable (alarm, loggbok, banner)."""

    at: datetime            # when the first failed round of this run was seen
    declared_at: datetime
    layer: Layer

    @property
    def diagnosis(self) -> str:
        return DIAGNOSIS_NB[self.layer]


@dataclass(frozen=True, slots=True)
class OutageEnded:
    """Effect: the register is reachable again."""

    started_at: datetime
    ended_at: datetime
    layer: Layer

    @property
    def duration_s(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


@dataclass(frozen=True, slots=True)
class Probing:
    """Effect: probes are failing but the outage is not declared yet (NETWORK LED blinks)."""

    fails_in_row: int


Effect = OutageStarted | OutageEnded | Probing


def step(state: DetectorState, event: ProbeRound, timings: Timings) -> tuple[DetectorState, list[Effect]]:
    """Feed one probe round; return the new state and what to do."""
    if event.failed is None:
        goods = state.goods_in_row + 1
        if state.mode is Mode.UNREACHABLE:
            if goods >= timings.recover_after:
                assert state.outage_started_at is not None and state.worst_layer is not None
                return DetectorState(), [OutageEnded(state.outage_started_at, event.at, state.worst_layer)]
            return replace(state, goods_in_row=goods, fails_in_row=0), []
        return replace(state, fails_in_row=0, goods_in_row=goods, first_fail_at=None, worst_layer=None), []

    worst = event.failed if state.worst_layer is None else min(state.worst_layer, event.failed)
    fails = state.fails_in_row + 1
    first = state.first_fail_at or event.at
    if state.mode is Mode.UNREACHABLE:
        return replace(state, fails_in_row=fails, goods_in_row=0, worst_layer=worst), []
    if fails >= timings.fail_after:
        started = DetectorState(Mode.UNREACHABLE, fails, 0, first, first, worst)
        return started, [OutageStarted(first, event.at, worst)]
    return replace(state, fails_in_row=fails, goods_in_row=0, first_fail_at=first, worst_layer=worst), \
        [Probing(fails)]
