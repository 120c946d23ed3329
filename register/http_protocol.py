"""uvicorn's httptools protocol with one socket write per answer (``register serve``).

uvicorn writes an answer's status line and headers with one ``transport.write`` and its
body with another, and uvloop sends each at once: two ``send`` system calls and two TCP
segments per answer, each of which can wake the kiosk's side on its own. On this
register's hot path (a check-off, ``/healthz``) that second system call is a large part
of the server's CPU per request (docs/benchmarks.md, "Round 5"). :class:`CoalescingTransport`
gathers the writes made in one turn of the event loop and sends them together at the
end of that turn (as ``TCP_CORK`` would): the same bytes in the same order, one call.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class CoalescingTransport:
    """A transport whose writes within one turn of the loop go out as one write.

    Anything else is the wrapped transport's; a pending write is sent first, so a close,
    an abort or a change of protocol never overtakes bytes already written."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Queue ``data``; the first write of a turn schedules the flush at its end."""
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(bytes(data))

    def flush(self) -> None:
        """Send what was written this turn, in one write (nothing after the transport closed)."""
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending = []
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def __getattr__(self, name: str) -> Any:
        # (only for what this class does not define: everything but writing and closing)
        self.flush()
        return getattr(self._transport, name)


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol over a :class:`CoalescingTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        wrapped: Any = CoalescingTransport(transport, self.loop)
        super().connection_made(wrapped)
