"""Several register API nodes behind the one Register port: the kiosk's failover.

A municipality that runs two or three ``register serve`` nodes lists them all in the
station configuration (``register.urls``). :class:`FailoverRegister` sends each call to
the node that answered last; when that node cannot be reached, does not answer in
time, or answers with a server error (for example 503 while its database fails over),
it sends the *same* call to the next node, until every node has been tried once. A
check-off keeps its request id across nodes, so the register still records it exactly
once however many nodes it passed through. A definite refusal (4xx) or a nonsense
answer is passed on at once: another node would say the same.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from valgkiosk.core.emergency import EmergencyVote
from valgkiosk.ports.register import (
    KioskInfo,
    Misregistration,
    Register,
    RegisterError,
    RegisterServerError,
    RegisterTimeout,
    RegisterUnreachable,
    SearchQuery,
    SearchResult,
    TableCounts,
    UploadResult,
    VoterStatus,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Failures after which another node may answer (the request may have had an effect,
#: which the request id or the register's idempotence makes safe to repeat).
NEXT_NODE = (RegisterUnreachable, RegisterTimeout, RegisterServerError)


class FailoverRegister:
    """The :class:`~valgkiosk.ports.register.Register` port over several API nodes."""

    def __init__(self, nodes: Sequence[Register], *, names: Sequence[str] | None = None) -> None:
        if not nodes:
            raise ValueError("at least one register node is needed")
        self.nodes = list(nodes)
        self.names = list(names) if names is not None else [f"node {i + 1}" for i in range(len(nodes))]
        self.current = 0  # the node that answered last

    async def _each(self, call: Callable[[Register], Awaitable[T]]) -> T:
        last: RegisterError | None = None
        start = self.current
        for step in range(len(self.nodes)):
            index = (start + step) % len(self.nodes)
            try:
                answer = await call(self.nodes[index])
            except NEXT_NODE as exc:
                last = exc
                if len(self.nodes) > 1:
                    log.info("register %s failed (%s); trying the next node", self.names[index], exc.kind)
                continue
            if index != self.current:
                log.info("register: now using %s", self.names[index])
                self.current = index
            return answer
        assert last is not None
        raise last

    async def kiosk_info(self) -> KioskInfo:
        return await self._each(lambda r: r.kiosk_info())

    async def lookup(self, manntallsnummer: str) -> VoterStatus:
        return await self._each(lambda r: r.lookup(manntallsnummer))

    async def voter_address(self, manntallsnummer: str) -> str:
        return await self._each(lambda r: r.voter_address(manntallsnummer))

    async def check_off(self, request_id: str, manntallsnummer: str) -> VoterStatus:
        return await self._each(lambda r: r.check_off(request_id, manntallsnummer))

    async def search(self, query: SearchQuery) -> SearchResult:
        return await self._each(lambda r: r.search(query))

    async def report_misregistration(
        self, manntallsnummer: str, *, reported_by: str, note: str = ""
    ) -> Misregistration:
        return await self._each(lambda r: r.report_misregistration(manntallsnummer, reported_by=reported_by,
                                                                   note=note))

    async def counts(self) -> TableCounts:
        return await self._each(lambda r: r.counts())

    async def upload_emergency_votes(self, votes: Sequence[EmergencyVote], *, head: Any = None) -> UploadResult:
        return await self._each(lambda r: r.upload_emergency_votes(votes, head=head))

    async def station_counts(self) -> Any:
        return await self._each(lambda r: r.station_counts())

    async def report_status(self, report: Mapping[str, Any]) -> Any:
        return await self._each(lambda r: r.report_status(report))  # type: ignore[attr-defined]

    async def aclose(self) -> None:
        for node in self.nodes:
            await node.aclose()


__all__ = ["FailoverRegister"]
