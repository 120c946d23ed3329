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


class Verdict(str, enum.Enum):
    """What the register says about a voter at this table."""

    READY = "ready"  # lookup only: may be checked off here
    CHECKED_OFF = "checked_off"  # this request checked the voter off
    ALREADY_VOTED = "already_voted"
    NOT_IN_REGISTER = "not_in_register"
    OTHER_STATION = "other_station"
    OTHER_MUNICIPALITY = "other_municipality"


@dataclass(frozen=True, slots=True)
class Voter:
    """The voter details the clerk needs to compare with the ID."""

    manntallsnummer: str
    navn: str
    fodselsdato: date
    kommune: str = ""
    krets: str = ""
    krets_navn: str = ""
    sami: bool = False
    adresse: str = ""  # as it goes on a manual valgkort: "Storgata 1, 0150 Oslo"


@dataclass(frozen=True, slots=True)
class Misregistration:
    """A report that a check-off was made on the wrong person."""

    reported_at: datetime
    reported_by: str
    krets: str = ""
    bord: int = 0
    note: str = ""


@dataclass(frozen=True, slots=True)
class CheckoffRecord:
    """When and where a voter was checked off."""

    checked_off_at: datetime
    krets: str = ""
    krets_navn: str = ""
    bord: int = 0
    misregistration: Misregistration | None = None


@dataclass(frozen=True, slots=True)
class VoterStatus:
    """The register's answer to a lookup or a check-off."""

    verdict: Verdict
    voter: Voter | None = None
    checkoff: CheckoffRecord | None = None


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Find a voter without a valgkort: by fødselsnummer, or by name and date of birth."""

    fodselsnummer: str | None = None
    navn: str | None = None
    fodselsdato: date | None = None


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Voters matching a search, best first; ``truncated`` when there were more."""

    hits: tuple[Voter, ...]
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class StatusReceipt:
    """The register's answer to a status report: whether the election office has
    acknowledged this table's current incident, and when (issue 15)."""

    office_acknowledged_at: datetime | None = None
    office_acknowledged_by: str | None = None


@dataclass(frozen=True, slots=True)
class TableCounts:
    """Counts for this kiosk's own table."""

    checkoffs: int
    emergency_votes: int = 0
    misregistrations: int = 0


@dataclass(frozen=True, slots=True)
class StationTableCounts:
    """One table of this kiosk's polling station, as the register counts it."""

    bord: int
    checkoffs: int
    emergency_votes: int = 0
    misregistrations: int = 0


@dataclass(frozen=True, slots=True)
class UploadResult:
    """What the register did with uploaded emergency votes: new ones, and ones it already had."""

    accepted: int
    already_recorded: int = 0


@dataclass(frozen=True, slots=True)
class KioskInfo:
    """Who the credential belongs to and which election the register serves."""

    kiosk_id: str
    kommune: str
    krets: str
    krets_navn: str
    bord: int
    election_title: str
    election_year: int
    year_digit: int


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
