"""Sim mode's register, reached through the simulated network.

In sim mode the watchdog's probes go through :class:`~valgkiosk.drivers.network.SimulatedConnectivity`;
the register calls must go the same way, or a cut the dev dock makes (the router's power,
"the register stops answering") fails only the probes while voters are still checked off.
:class:`ThroughSimulatedNetwork` wraps any Register and, before every call, asks the
simulated network what the call would meet: a layer up to TCP failing is "unreachable"
(nothing can have been recorded), a failing health check is a register that takes the
connection and never answers ("timeout": the answer is unknown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from valgkiosk.core.outage import Layer
from valgkiosk.ports.register import (
    EmergencyVote,
    KioskInfo,
    Misregistration,
    Register,
    RegisterTimeout,
    RegisterUnreachable,
    SearchQuery,
    SearchResult,
    TableCounts,
    UploadResult,
    VoterStatus,
)


class SimulatedNetwork(Protocol):
    """What this needs of the simulated network: which layers fail now."""

    def failing(self) -> Mapping[Layer, str]: ...


class ThroughSimulatedNetwork:
    """A Register whose calls meet the simulated network's faults first. Other attributes
    (a MemoryRegister's test controls) pass through to the wrapped register."""

    def __init__(self, register: Register, network: SimulatedNetwork) -> None:
        self.inner = register
        self.network = network

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def _pass(self) -> None:
        failing = self.network.failing()
        for layer in (Layer.LINK, Layer.GATEWAY, Layer.DNS, Layer.TCP):
            if layer in failing:
                raise RegisterUnreachable(f"Får ikke kontakt med registeret ({failing[layer]}).")
        if Layer.HEALTH in failing:
            raise RegisterTimeout("Registeret svarte ikke i tide.")

    async def kiosk_info(self) -> KioskInfo:
        self._pass()
        return await self.inner.kiosk_info()

    async def lookup(self, manntallsnummer: str) -> VoterStatus:
        self._pass()
        return await self.inner.lookup(manntallsnummer)

    async def voter_address(self, manntallsnummer: str) -> str:
        self._pass()
        return await self.inner.voter_address(manntallsnummer)

    async def check_off(self, request_id: str, manntallsnummer: str) -> VoterStatus:
        self._pass()
        return await self.inner.check_off(request_id, manntallsnummer)

    async def search(self, query: SearchQuery) -> SearchResult:
        self._pass()
        return await self.inner.search(query)

    async def report_misregistration(self, manntallsnummer: str, *, reported_by: str, note: str = "") -> Misregistration:
        self._pass()
        return await self.inner.report_misregistration(manntallsnummer, reported_by=reported_by, note=note)

    async def counts(self) -> TableCounts:
        self._pass()
        return await self.inner.counts()

    async def upload_emergency_votes(self, votes: Sequence[EmergencyVote], *, head: Any = None) -> UploadResult:
        self._pass()
        return await self.inner.upload_emergency_votes(votes, head=head)

    async def station_counts(self) -> Any:
        self._pass()
        return await self.inner.station_counts()  # type: ignore[attr-defined]

    async def report_status(self, report: Mapping[str, Any]) -> Any:
        self._pass()
        return await self.inner.report_status(report)  # type: ignore[attr-defined]

    async def aclose(self) -> None:
        await self.inner.aclose()
