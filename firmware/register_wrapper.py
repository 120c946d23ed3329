"""One base for a Register that wraps other Registers (sim mode's network, the failover).

Each port method is written once, here: it hands the call to :meth:`ForwardingRegister._around`
as a function of the wrapped register, and a wrapper says only what happens around a call
(meet the simulated network's faults first; try the next node). A wrapper thus cannot fall
behind the port by forgetting a method: ``tests/contracts/test_register_contract.py``
checks that this class has every method of :class:`~valgkiosk.ports.register.Register`
with the same signature, and runs the whole register contract through each wrapper.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from valgkiosk.core.emergency import EmergencyVote
from valgkiosk.core.loggbok import Head
from valgkiosk.ports.register import (
    KioskInfo,
    Misregistration,
    Register,
    SearchQuery,
    SearchResult,
    StationTableCounts,
    StatusReceipt,
    TableCounts,
    UploadResult,
    VoterStatus,
)

T = TypeVar("T")
Call = Callable[[Register], Awaitable[T]]


class ForwardingRegister:
    """The Register port, every call carried by :meth:`_around` (subclasses decide how)."""

    async def _around(self, method: str, call: Call[T]) -> T:
        """Carry out ``call`` (port method ``method``) on the wrapped register(s)."""
        raise NotImplementedError

    async def kiosk_info(self) -> KioskInfo:
        return await self._around("kiosk_info", lambda r: r.kiosk_info())

    async def lookup(self, manntallsnummer: str) -> VoterStatus:
        return await self._around("lookup", lambda r: r.lookup(manntallsnummer))

    async def check_off(self, request_id: str, manntallsnummer: str) -> VoterStatus:
        return await self._around("check_off", lambda r: r.check_off(request_id, manntallsnummer))

    async def voter_address(self, manntallsnummer: str) -> str:
        return await self._around("voter_address", lambda r: r.voter_address(manntallsnummer))

    async def search(self, query: SearchQuery) -> SearchResult:
        return await self._around("search", lambda r: r.search(query))

    async def report_misregistration(
        self, manntallsnummer: str, *, reported_by: str, note: str = ""
    ) -> Misregistration:
        return await self._around("report_misregistration", lambda r: r.report_misregistration(
            manntallsnummer, reported_by=reported_by, note=note))

    async def counts(self) -> TableCounts:
        return await self._around("counts", lambda r: r.counts())

    async def station_counts(self) -> list[StationTableCounts]:
        return await self._around("station_counts", lambda r: r.station_counts())

    async def upload_emergency_votes(self, votes: Sequence[EmergencyVote], *, head: Head | None = None) -> UploadResult:
        return await self._around("upload_emergency_votes", lambda r: r.upload_emergency_votes(votes, head=head))

    async def report_status(self, report: Mapping[str, Any]) -> StatusReceipt:
        return await self._around("report_status", lambda r: r.report_status(report))

    async def aclose(self) -> None:
        await self._around("aclose", lambda r: r.aclose())


def _satisfies_the_port(wrapper: ForwardingRegister) -> Register:
    """Never called: makes the type checker prove that the base has the whole port."""
    return wrapper


__all__ = ["ForwardingRegister"]
