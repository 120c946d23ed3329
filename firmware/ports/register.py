"""The Register port: what the kiosk asks the electoral register, in the kiosk's own terms.

The kiosk talks to the register only over HTTP (``valgkiosk.register_client``) or, in
tests and the offline demo, to an in-memory twin (``valgkiosk.register_memory``). These
types are the kiosk's own: it never imports the register service's model.

Errors form one tree. Every failure the adapter can meet is mapped to exactly one of:

- :class:`RegisterUnreachable` — no connection (network down, server stopped);
- :class:`RegisterTimeout` — no answer within the configured time;
- :class:`RegisterServerError` — the register answered 5xx;
- :class:`RegisterNonsense` — an answer the kiosk cannot understand;
- :class:`RegisterRefused` — a definite 4xx refusal (nothing was recorded).

Only a refusal is definite. After any of the others a check-off may or may not have
been recorded, so it must be asked again with the same request id.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from valgkiosk.core.emergency import EmergencyVote
from valgkiosk.core.loggbok import Head
from valgkiosk.core.values import (
    Verdict,
    Voter,
    Misregistration,
    CheckoffRecord,
    VoterStatus,
    SearchQuery,
    SearchResult,
    StatusReceipt,
    TableCounts,
    StationTableCounts,
    UploadResult,
    KioskInfo,
)


class RegisterError(Exception):
    """Base of every failure the Register port reports; the message is Norwegian."""

    kind = "error"
    #: True when a request may have had an effect the kiosk did not hear about.
    uncertain = True


class RegisterUnreachable(RegisterError, ConnectionError):
    """No connection to the register."""

    kind = "unreachable"


class RegisterTimeout(RegisterError, TimeoutError):
    """The register did not answer in time."""

    kind = "timeout"


class RegisterServerError(RegisterError):
    """The register answered with a server error (5xx)."""

    kind = "server_error"

    def __init__(self, message: str, *, status: int = 500, code: str = "") -> None:
        super().__init__(message)
        self.status, self.code = status, code


class RegisterNonsense(RegisterError, ValueError):
    """The register answered something the kiosk does not understand."""

    kind = "nonsense"


class RegisterRefused(RegisterError):
    """The register refused the request (4xx): nothing was recorded."""

    kind = "refused"
    uncertain = False

    def __init__(self, message: str, *, status: int = 400, code: str = "") -> None:
        super().__init__(message)
        self.status, self.code = status, code


class Register(Protocol):
    """The electoral register as the kiosk sees it. Every method raises only
    :class:`RegisterError` subclasses."""

    async def kiosk_info(self) -> KioskInfo: ...

    async def lookup(self, manntallsnummer: str) -> VoterStatus: ...

    async def check_off(self, request_id: str, manntallsnummer: str) -> VoterStatus: ...

    async def voter_address(self, manntallsnummer: str) -> str:
        """The voter's address for a manual valgkort ("" when the register has none). Asked
        only when one is printed: lookups and searches carry no address."""
        ...

    async def search(self, query: SearchQuery) -> SearchResult: ...

    async def report_misregistration(
        self, manntallsnummer: str, *, reported_by: str, note: str = ""
    ) -> Misregistration: ...

    async def counts(self) -> TableCounts: ...

    async def station_counts(self) -> list[StationTableCounts]:
        """Every table of this kiosk's polling station (for the station-wide closing report)."""
        ...

    async def upload_emergency_votes(self, votes: Sequence[EmergencyVote], *, head: Head | None = None) -> UploadResult:
        """Hand the table's emergency votes to the register's reconciliation; a vote
        uploaded again is counted once (the register keys them by kiosk and vote id).
        ``head``: the loggbok's chain head now, which the register keeps per kiosk."""
        ...

    async def report_status(self, report: Mapping[str, Any]) -> StatusReceipt:
        """Send the table's status (no personal data, ``valgkiosk.office.status_report``) to the
        election office's dashboard; the answer says whether the office has seen the incident."""
        ...

    async def aclose(self) -> None: ...


__all__ = [
    "Verdict",
    "Voter",
    "Misregistration",
    "CheckoffRecord",
    "VoterStatus",
    "SearchQuery",
    "SearchResult",
    "StatusReceipt",
    "TableCounts",
    "StationTableCounts",
    "UploadResult",
    "KioskInfo",
    "RegisterError",
    "RegisterUnreachable",
    "RegisterTimeout",
    "RegisterServerError",
    "RegisterNonsense",
    "RegisterRefused",
    "Register",
]
