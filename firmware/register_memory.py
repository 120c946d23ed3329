"""An in-memory Register with a control surface: for UI tests and the offline demo.

It follows the register's documented rules (docs/register-api.md): one check-off per
voter, a retry with the same request id returns the first answer, a request id reused
for another voter is refused, misregistration only for a check-off at this station.

The control surface lets a test make the register misbehave without a network:
``down`` (unreachable), :meth:`fail_next` (any port error, optionally *after* the
request had its effect, as when an answer is lost on the way back), ``delay`` (slow),
and it records every call in ``calls``.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar
from datetime import date, datetime, timedelta, timezone

from stdnum.no import fodselsnummer as fnr_check

from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.core.emergency import EmergencyVote
from valgkiosk.core.loggbok import Head
from valgkiosk.ports.register import (
    StationTableCounts,
    UploadResult,
    CheckoffRecord,
    KioskInfo,
    Misregistration,
    RegisterError,
    RegisterRefused,
    RegisterUnreachable,
    SearchQuery,
    SearchResult,
    StatusReceipt,
    TableCounts,
    Verdict,
    Voter,
    VoterStatus,
)

T = TypeVar("T")

DEMO_TIME = datetime(2025, 9, 8, 9, 14, 3, tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class MemoryVoter:
    """A voter in the in-memory register."""

    voter: Voter
    fodselsnummer: str = ""


@dataclass(frozen=True, slots=True)
class DemoCard:
    """A valgkort the dev dock can scan: what it shows and the number it carries."""

    label: str
    number: str


def synthetic_fnr(born: date, individual: int) -> str:
    """A fødselsnummer with correct check digits (synthetic)."""
    for ind in range(individual, individual + 100):
        body = f"{born.day:02d}{born.month:02d}{born.year % 100:02d}{ind:03d}"
        k1 = fnr_check.calc_check_digit1(body)
        if len(k1) != 1:
            continue
        k2 = fnr_check.calc_check_digit2(body + k1)
        if len(k2) == 1 and fnr_check.is_valid(body + k1 + k2):
            return body + k1 + k2
    raise ValueError("no valid fødselsnummer for this date")


class MemoryRegister:
    """The :class:`~valgkiosk.ports.register.Register` port held in memory."""

    def __init__(
        self,
        *,
        kommune: str = "0301",
        krets: str = "0101",
        krets_navn: str = "Prøveskolen",
        bord: int = 1,
        election_year: int = 2025,
        own_station_required: bool = True,
        now: Callable[[], datetime] = lambda: DEMO_TIME,
        krets_names: dict[str, str] | None = None,
    ) -> None:
        self.kommune, self.krets, self.krets_navn, self.bord = kommune, krets, krets_navn, bord
        self.election_year = election_year
        self.own_station_required = own_station_required
        self.now = now
        self.krets_names = {krets: krets_navn, **(krets_names or {})}
        self.voters: dict[str, MemoryVoter] = {}
        self.checkoffs: dict[str, CheckoffRecord] = {}
        self.requests: dict[str, tuple[str, VoterStatus]] = {}
        self.emergency_votes: dict[str, EmergencyVote] = {}  # by vote id
        self.chain_heads: list[Head] = []  # heads sent with uploads, oldest first
        # control surface
        self.down = False
        self.delay = 0.0
        self.calls: list[tuple[str, ...]] = []
        self._failures: deque[tuple[RegisterError, bool]] = deque()
        self.closed = False
        self.status_reports: list[dict[str, object]] = []  # what report_status was given, oldest first
        self.office_acknowledged_at: datetime | None = None  # set by a test: "the office has seen it"

    # -- control surface ----------------------------------------------------------------------
    def add(self, voter: Voter, fodselsnummer: str = "") -> None:
        self.voters[voter.manntallsnummer] = MemoryVoter(voter, fodselsnummer)

    def fail_next(self, error: RegisterError, *, times: int = 1, after_effect: bool = False) -> None:
        """Make the next ``times`` calls raise ``error``; with ``after_effect`` the call
        first does its work (the answer is lost on the way back)."""
        for _ in range(times):
            self._failures.append((error, after_effect))

    def record_checkoff(self, manntallsnummer: str, record: CheckoffRecord) -> None:
        """Put a check-off in the register directly (made elsewhere, earlier)."""
        self.checkoffs[manntallsnummer] = record

    @property
    def checkoff_count(self) -> int:
        """Check-offs made at this table."""
        return sum(1 for c in self.checkoffs.values() if c.krets == self.krets and c.bord == self.bord)

    # -- the port -----------------------------------------------------------------------------
    async def kiosk_info(self) -> KioskInfo:
        await self._enter("kiosk_info")
        info = KioskInfo(f"{self.kommune}-{self.krets}-bord{self.bord}", self.kommune, self.krets,
                         self.krets_navn, self.bord, f"Stortingsvalget {self.election_year}",
                         self.election_year, mnr.year_digit(self.election_year))  # fmt: skip
        return self._leave(info)

    async def lookup(self, manntallsnummer: str) -> VoterStatus:
        await self._enter("lookup", manntallsnummer)
        self._parse(manntallsnummer)
        return self._leave(self._status(manntallsnummer))

    async def voter_address(self, manntallsnummer: str) -> str:
        await self._enter("voter_address", manntallsnummer)
        found = self.voters.get(manntallsnummer)
        return self._leave(found.voter.adresse if found is not None else "")

    async def check_off(self, request_id: str, manntallsnummer: str) -> VoterStatus:
        await self._enter("check_off", request_id, manntallsnummer)
        self._parse(manntallsnummer)
        earlier = self.requests.get(request_id)
        if earlier is not None:
            if earlier[0] != manntallsnummer:
                raise RegisterRefused("Forespørsels-id er brukt for en annen velger.", status=409,
                                      code="request_id_conflict")  # fmt: skip
            return self._leave(earlier[1])
        status = self._status(manntallsnummer)
        if status.verdict is Verdict.READY:
            record = CheckoffRecord(self.now(), self.krets, self.krets_navn, self.bord)
            self.checkoffs[manntallsnummer] = record
            status = VoterStatus(Verdict.CHECKED_OFF, status.voter, record)
            self.requests[request_id] = (manntallsnummer, status)
        return self._leave(status)

    async def search(self, query: SearchQuery) -> SearchResult:
        await self._enter("search")
        if query.fodselsnummer is not None:
            fnr = query.fodselsnummer.replace(" ", "")
            hits = [replace(m.voter, adresse="") for m in self.voters.values() if m.fodselsnummer == fnr]
        else:
            words = (query.navn or "").casefold().split()
            hits = [
                replace(m.voter, adresse="")
                for m in self.voters.values()
                if m.voter.fodselsdato == query.fodselsdato and any(w in m.voter.navn.casefold() for w in words)
            ]
        return self._leave(SearchResult(tuple(hits[:50]), len(hits) > 50))

    async def report_misregistration(
        self, manntallsnummer: str, *, reported_by: str, note: str = ""
    ) -> Misregistration:
        await self._enter("report_misregistration", manntallsnummer)
        record = self.checkoffs.get(manntallsnummer)
        if record is None or record.krets != self.krets:
            raise RegisterRefused("Velgeren er ikke krysset av i dette valglokalet.", status=409, code="no_checkoff")
        if record.misregistration is None:
            m = Misregistration(self.now(), reported_by, self.krets, self.bord, note)
            self.checkoffs[manntallsnummer] = replace(record, misregistration=m)
        misregistration = self.checkoffs[manntallsnummer].misregistration
        assert misregistration is not None
        return self._leave(misregistration)

    async def counts(self) -> TableCounts:
        await self._enter("counts")
        mis = sum(1 for c in self.checkoffs.values() if c.krets == self.krets and c.bord == self.bord
                  and c.misregistration is not None)  # fmt: skip
        return self._leave(TableCounts(self.checkoff_count, len(self.emergency_votes), mis))

    async def station_counts(self) -> list[StationTableCounts]:
        """The demo register serves one table: its counts are the station's."""
        await self._enter("station_counts")
        mis = sum(1 for c in self.checkoffs.values() if c.krets == self.krets and c.bord == self.bord
                  and c.misregistration is not None)  # fmt: skip
        return self._leave([StationTableCounts(self.bord, self.checkoff_count, len(self.emergency_votes), mis)])

    async def upload_emergency_votes(self, votes: Sequence[EmergencyVote], *, head: Head | None = None) -> UploadResult:
        await self._enter("upload_emergency_votes")
        if head is not None:
            self.chain_heads.append(head)
        accepted = 0
        for vote in votes:
            if vote.vote_id not in self.emergency_votes:
                self.emergency_votes[vote.vote_id] = vote
                accepted += 1
        return self._leave(UploadResult(accepted, len(votes) - accepted))

    async def report_status(self, report: Mapping[str, object]) -> StatusReceipt:
        """Keep the latest status report (the twin has no election office to acknowledge)."""
        if self.down:  # not in ``calls``: the reporter runs beside whatever a test drives
            raise RegisterUnreachable("Får ikke kontakt med manntallet.")
        self.status_reports.append(dict(report))
        by = "valgstyret" if self.office_acknowledged_at else None
        return StatusReceipt(self.office_acknowledged_at, by)

    async def aclose(self) -> None:
        self.closed = True

    # -- rules --------------------------------------------------------------------------------
    def _parse(self, number: str) -> None:
        try:
            mnr.parse(number, election_year=self.election_year)
        except mnr.InvalidManntallsnummer as exc:
            code = "other_election" if exc.problem is mnr.Problem.OTHER_ELECTION else "invalid_manntallsnummer"
            raise RegisterRefused(str(exc), status=422, code=code) from None

    def _status(self, number: str) -> VoterStatus:
        found = self.voters.get(number)
        if found is None:
            return VoterStatus(Verdict.NOT_IN_REGISTER)
        voter = replace(found.voter, adresse="")  # answers carry no address (voter_address does)
        # As the register's own rule (register/rules.py): a voter who has voted is
        # "already voted" wherever they turn up, also from another kommune's register,
        # because that is what the chair must know for a special vote.
        record = self.checkoffs.get(number)
        if record is not None:
            return VoterStatus(Verdict.ALREADY_VOTED, voter, record)
        if voter.kommune != self.kommune:
            return VoterStatus(Verdict.OTHER_MUNICIPALITY, voter)
        if self.own_station_required and voter.krets != self.krets:
            return VoterStatus(Verdict.OTHER_STATION, voter)
        return VoterStatus(Verdict.READY, voter)

    async def _enter(self, *call: str) -> None:
        self.calls.append(call)
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.down:
            raise RegisterUnreachable("Får ikke kontakt med manntallet.")
        if self._failures and not self._failures[0][1]:
            raise self._failures.popleft()[0]

    def _leave(self, answer: T) -> T:
        if self._failures and self._failures[0][1]:
            raise self._failures.popleft()[0]
        return answer


def demo_register(*, kommune: str = "0301", krets: str = "0101", krets_navn: str = "Prøveskolen", bord: int = 1,
                  election_year: int = 2025, now: Callable[[], datetime] = lambda: DEMO_TIME,
                  ) -> tuple[MemoryRegister, list[DemoCard]]:  # fmt: skip
    """A small register with one voter for each case the clerk can meet, and the cards."""
    other_krets = "0102" if krets != "0102" else "0103"
    reg = MemoryRegister(kommune=kommune, krets=krets, krets_navn=krets_navn, bord=bord,
                         election_year=election_year, now=now,
                         krets_names={other_krets: "Øvingshallen"})  # fmt: skip

    def number(serial: int, year: int = election_year) -> str:
        return mnr.make(serial, year).digits

    def voter(serial: int, navn: str, born: date, *, k: str = kommune, kr: str = krets, kn: str = krets_navn,
              sami: bool = False) -> Voter:  # fmt: skip
        v = Voter(number(serial), navn, born, k, kr, kn, sami, f"Øvingsveien {serial % 100}, 0150 Oslo")
        reg.add(v, synthetic_fnr(born, 400 + serial % 100))
        return v

    kari = voter(1001, "Kari Prøvesen", date(1980, 4, 1))
    voter(1002, "Nils Testesen", date(1962, 12, 24))
    ole = voter(1003, "Ole Eksempelsen", date(1955, 11, 23))
    anne = voter(1004, "Anne Øvingsen", date(1971, 3, 9))
    aile = voter(1005, "Áile Demosen", date(1990, 6, 15), sami=True)
    per = voter(1006, "Per Fiktivsen", date(1988, 8, 8), kr=other_krets, kn="Øvingshallen")
    liv = voter(1007, "Liv Bergesen", date(1999, 2, 28), k="4601", kr="0001", kn="Bergen sentrum")
    earlier = datetime(2025, 9, 8, 6, 12, 44, tzinfo=timezone.utc)
    reg.record_checkoff(ole.manntallsnummer, CheckoffRecord(earlier, krets, krets_navn, 2))
    mis = Misregistration(earlier + timedelta(minutes=3), "Avkrysser bord 2", krets, 2, "Feil person krysset av")
    reg.record_checkoff(anne.manntallsnummer, CheckoffRecord(earlier, krets, krets_navn, 2, mis))
    cards = [
        DemoCard("Klar til avkrysning", kari.manntallsnummer),
        DemoCard("Samisk manntall", aile.manntallsnummer),
        DemoCard("Har stemt før", ole.manntallsnummer),
        DemoCard("Stemt før, feilregistrert", anne.manntallsnummer),
        DemoCard("Annet valglokale", per.manntallsnummer),
        DemoCard("Annen kommune", liv.manntallsnummer),
        DemoCard("Ikke i manntallet", number(9999)),
        DemoCard("Valgkort fra forrige valg", number(1001, election_year - 4)),
        DemoCard("Feil kontrollsiffer", number(1001)[:-1] + str((int(number(1001)[-1]) + 1) % 10)),
    ]
    return reg, cards
