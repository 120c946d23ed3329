"""The register's domain: the election, voters, kiosks and the outcomes a clerk meets."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from valgkiosk.core.manntallsnummer import year_digit

ELECTION_TYPES: dict[str, str] = {
    "stortingsvalg": "Stortingsvalget",
    "sametingsvalg": "Sametingsvalget",
    "kommunestyre_og_fylkestingsvalg": "Kommunestyre- og fylkestingsvalget",
}


@dataclass(frozen=True, slots=True)
class Election:
    """The one election a register serves."""

    type: str
    year: int
    date: date
    #: A training election (øvingsvalg, issue 18): its register takes only training credentials.
    training: bool = False

    @property
    def year_digit(self) -> int:
        """The digit every valid valgkort for this election carries."""
        return year_digit(self.year)

    @property
    def title(self) -> str:
        """The election's name as people say it."""
        title = f"{ELECTION_TYPES.get(self.type, self.type)} {self.year}"
        return f"Øvingsvalg: {title}" if self.training else title


@dataclass(frozen=True, slots=True)
class Kommune:
    """A municipality; it decides whether voters must vote at their own station."""

    kommune: str
    navn: str
    own_station_required: bool = False


@dataclass(frozen=True, slots=True)
class Krets:
    """A polling station (valgkrets) in a municipality."""

    kommune: str
    krets: str
    navn: str


@dataclass(frozen=True, slots=True)
class Voter:
    """One row of the electoral register (manntall)."""

    manntallsnummer: str
    fodselsnummer: str
    fornavn: str
    etternavn: str
    fodselsdato: date
    adresse: str
    postnummer: str
    poststed: str
    kommune: str
    krets: str
    sami: bool = False

    @property
    def navn(self) -> str:
        """Full name, given names first."""
        return f"{self.fornavn} {self.etternavn}".strip()


class Role(str, enum.Enum):
    """What a credential may do: a kiosk checks off at one table; an admin reads reports."""

    KIOSK = "kiosk"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Kiosk:
    """The principal behind a credential: one kiosk bound to one station and table."""

    kiosk_id: str
    role: Role
    kommune: str = ""
    krets: str = ""
    bord: int = 0


@dataclass(frozen=True, slots=True)
class Misregistration:
    """A report that a check-off was made on the wrong person."""

    reported_at: datetime
    reported_by: str
    kiosk_id: str
    krets: str
    bord: int
    note: str


@dataclass(frozen=True, slots=True)
class Checkoff:
    """A voter's check-off: when and where it was made."""

    checked_off_at: datetime
    kiosk_id: str
    kommune: str
    krets: str
    krets_navn: str
    bord: int
    request_id: str
    misregistration: Misregistration | None = None


class Verdict(str, enum.Enum):
    """What the register says about a voter at this table."""

    READY = "ready"  # lookup only: may be checked off here
    CHECKED_OFF = "checked_off"
    ALREADY_VOTED = "already_voted"
    NOT_IN_REGISTER = "not_in_register"
    OTHER_STATION = "other_station"
    OTHER_MUNICIPALITY = "other_municipality"


@dataclass(frozen=True, slots=True)
class VoterStatus:
    """A voter together with the register's verdict for the asking kiosk."""

    verdict: Verdict
    voter: Voter | None = None
    krets_navn: str = ""
    checkoff: Checkoff | None = None


@dataclass(frozen=True, slots=True)
class EmergencyVote:
    """One orange-envelope vote recorded by a kiosk during an outage."""

    vote_id: str
    recorded_at: datetime
    manntallsnummer: str | None
    manual_valgkort: bool = False


@dataclass(frozen=True, slots=True)
class UploadReceipt:
    """How many uploaded emergency votes were new and how many were already recorded."""

    accepted: int
    already_recorded: int


@dataclass(frozen=True, slots=True)
class TableCount:
    """The closing reconciliation's figures for one check-off table."""

    kommune: str
    krets: str
    bord: int
    checkoffs: int
    emergency_votes: int
    misregistrations: int


@dataclass(frozen=True, slots=True)
class Appearance:
    """One place a voter appears: a check-off or an emergency vote."""

    kind: str  # "checkoff" | "emergency_vote"
    at: datetime
    kiosk_id: str
    krets: str
    bord: int


@dataclass(frozen=True, slots=True)
class DuplicateVoter:
    """A voter recorded more than once across check-offs and emergency votes."""

    manntallsnummer: str
    appearances: tuple[Appearance, ...]


class RegisterError(Exception):
    """Base of the register's own errors; ``code`` is stable, the message Norwegian."""

    code = "register_error"


class RequestIdConflict(RegisterError):
    """A request id was reused for another voter or by another kiosk."""

    code = "request_id_conflict"


class NoCheckoff(RegisterError):
    """A misregistration was reported for a voter who has no check-off here."""

    code = "no_checkoff"


class NotConfigured(RegisterError):
    """The register has no election configured yet."""

    code = "not_configured"


@dataclass(frozen=True, slots=True)
class AccessRecord:
    """One lookup or search as a credential asked it (stored in the database only)."""

    at: datetime
    kiosk_id: str
    kind: str  # lookup | search_fodselsnummer | search_name
    asked: str  # the manntallsnummer, the fødselsnummer, or "navn / fødselsdato"
    outcome: str  # the verdict, "N hits", or rate_limited


@dataclass(frozen=True, slots=True)
class AccessSummary:
    """What one credential has asked in a period, for valgstyret's scraper alert."""

    kiosk_id: str
    lookups: int
    searches: int
    rate_limited: int
    nobody_found: int
    checkoffs: int
    first: datetime
    last: datetime
