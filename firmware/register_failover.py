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
from collections.abc import Sequence
from typing import TypeVar

from valgkiosk.ports.register import (
    Register,
    RegisterError,
    RegisterServerError,
    RegisterTimeout,
    RegisterUnreachable,
)
from valgkiosk.register_wrapper import Call, ForwardingRegister

log = logging.getLogger(__name__)
T = TypeVar("T")

#: Failures after which another node may answer (the request may have had an effect,
#: which the request id or the register's idempotence makes safe to repeat).
NEXT_NODE = (RegisterUnreachable, RegisterTimeout, RegisterServerError)


class FailoverRegister(ForwardingRegister):
    """The :class:`~valgkiosk.ports.register.Register` port over several API nodes."""

    def __init__(self, nodes: Sequence[Register], *, names: Sequence[str] | None = None) -> None:
        if not nodes:
            raise ValueError("at least one register node is needed")
        self.nodes = list(nodes)
        self.names = list(names) if names is not None else [f"node {i + 1}" for i in range(len(nodes))]
        self.current = 0  # the node that answered last

    async def _each(self, call: Call[T]) -> T:
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

    async def _around(self, method: str, call: Call[T]) -> T:
        return await self._each(call)

    async def aclose(self) -> None:
        """Close every node, also when closing one of them fails (the first failure is raised)."""
        failed: list[BaseException] = []
        for node in self.nodes:
            try:
                await node.aclose()
            except Exception as exc:  # noqa: BLE001 - the other nodes are still closed
                failed.append(exc)
        if failed:
            raise failed[0]


__all__ = ["FailoverRegister"]
