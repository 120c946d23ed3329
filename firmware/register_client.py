"""The Register port over HTTP: the kiosk's client for the register service (docs/register-api.md).

Every failure becomes one of the port's errors (never a raw httpx error):

- connection refused, DNS, TLS, reset           → RegisterUnreachable
- no answer within ``timeout``                   → RegisterTimeout
- 5xx                                            → RegisterServerError
- 2xx that is not JSON or not the documented shape, or an unexpected status
                                                 → RegisterNonsense
- 4xx with the documented error body             → RegisterRefused (code kept)

Answers are parsed with pydantic models that ignore extra fields (the register may add
some) but insist on the ones the kiosk uses.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from valgkiosk.core.emergency import EmergencyVote
from valgkiosk.ports.register import (
    CheckoffRecord,
    KioskInfo,
    Misregistration,
    RegisterError,
    RegisterNonsense,
    RegisterRefused,
    RegisterServerError,
    RegisterTimeout,
    RegisterUnreachable,
    SearchQuery,
    SearchResult,
    StatusReceipt,
    TableCounts,
    UploadResult,
    Verdict,
    Voter,
    VoterStatus,
)

log = logging.getLogger(__name__)

UNREACHABLE = "Får ikke kontakt med registeret."
TIMEOUT = "Registeret svarte ikke i tide."
SERVER_ERROR = "Registeret har en feil (serverfeil {status})."
NONSENSE = "Registeret ga et svar kiosken ikke forstår."


# -- answer shapes ---------------------------------------------------------------------------
class _In(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _VoterIn(_In):
    manntallsnummer: str
    navn: str
    fodselsdato: date
    kommune: str = ""
    krets: str = ""
    krets_navn: str = ""
    sami: bool = False
    adresse: str = ""
    postnummer: str = ""
    poststed: str = ""

    def to_port(self) -> Voter:
        place = " ".join(p for p in (self.postnummer, self.poststed) if p)
        address = ", ".join(p for p in (self.adresse, place) if p)
        return Voter(self.manntallsnummer, self.navn, self.fodselsdato, self.kommune, self.krets,
                     self.krets_navn, self.sami, address)  # fmt: skip


class _MisregIn(_In):
    reported_at: datetime
    reported_by: str
    krets: str = ""
    bord: int = 0
    note: str = ""

    def to_port(self) -> Misregistration:
        return Misregistration(self.reported_at, self.reported_by, self.krets, self.bord, self.note)


class _CheckoffIn(_In):
    checked_off_at: datetime
    krets: str = ""
    krets_navn: str = ""
    bord: int = 0
    misregistration: _MisregIn | None = None

    def to_port(self) -> CheckoffRecord:
        m = self.misregistration.to_port() if self.misregistration else None
        return CheckoffRecord(self.checked_off_at, self.krets, self.krets_navn, self.bord, m)


class _StatusIn(_In):
    verdict: Verdict
    voter: _VoterIn | None = None
    checkoff: _CheckoffIn | None = None

    def to_port(self) -> VoterStatus:
        return VoterStatus(
            self.verdict,
            self.voter.to_port() if self.voter else None,
            self.checkoff.to_port() if self.checkoff else None,
        )


class _SearchIn(_In):
    hits: list[_VoterIn]
    truncated: bool = False


class _MisregAnswer(_In):
    misregistration: _MisregIn


class _TableIn(_In):
    kommune: str
    krets: str
    bord: int
    checkoffs: int
    emergency_votes: int = 0
    misregistrations: int = 0


class _CountsIn(_In):
    tables: list[_TableIn]


class _UploadIn(_In):
    accepted: int
    already_recorded: int


class _StatusReceiptIn(_In):
    office_acknowledged_at: datetime | None = None
    office_acknowledged_by: str | None = None


class _KioskIn(_In):
    kiosk_id: str
    role: str
    kommune: str = ""
    krets: str = ""
    krets_navn: str = ""
    bord: int = 0


class _ElectionIn(_In):
    type: str
    year: int
    year_digit: int
    title: str = ""


class _KioskInfoIn(_In):
    kiosk: _KioskIn
    election: _ElectionIn


class _ErrorBody(_In):
    class _E(_In):
        code: str
        message: str

    error: _E


M = TypeVar("M", bound=_In)


class HttpRegister:
    """The :class:`~valgkiosk.ports.register.Register` port over HTTP(S)."""

    def __init__(
        self,
        base_url: str,
        credential: str,
        *,
        timeout: float = 3.0,
        verify: str | bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {credential}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout),
            verify=verify,
            transport=transport,
            follow_redirects=False,
        )
        self._table: tuple[str, str, int] | None = None

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- the port ---------------------------------------------------------------------------
    async def kiosk_info(self) -> KioskInfo:
        info = await self._call("GET", "/v1/kiosk", None, _KioskInfoIn)
        k, e = info.kiosk, info.election
        self._table = (k.kommune, k.krets, k.bord)
        title = e.title or f"{e.type} {e.year}"
        return KioskInfo(k.kiosk_id, k.kommune, k.krets, k.krets_navn, k.bord, title, e.year, e.year_digit)

    async def lookup(self, manntallsnummer: str) -> VoterStatus:
        answer = await self._call("POST", "/v1/voters/lookup", {"manntallsnummer": manntallsnummer}, _StatusIn)
        if answer.verdict is Verdict.CHECKED_OFF:
            raise RegisterNonsense(NONSENSE)  # a read-only lookup cannot check anybody off
        return answer.to_port()

    async def check_off(self, request_id: str, manntallsnummer: str) -> VoterStatus:
        body = {"request_id": request_id, "manntallsnummer": manntallsnummer}
        answer = await self._call("POST", "/v1/checkoffs", body, _StatusIn)
        if answer.verdict is Verdict.READY:
            raise RegisterNonsense(NONSENSE)  # "ready" is no answer to a check-off
        return answer.to_port()

    async def search(self, query: SearchQuery) -> SearchResult:
        body: dict[str, Any]
        if query.fodselsnummer is not None:
            body = {"fodselsnummer": query.fodselsnummer.replace(" ", "")}
        else:
            body = {"navn": query.navn, "fodselsdato": query.fodselsdato.isoformat() if query.fodselsdato else None}
        answer = await self._call("POST", "/v1/voters/search", body, _SearchIn)
        return SearchResult(tuple(v.to_port() for v in answer.hits), answer.truncated)

    async def report_misregistration(
        self, manntallsnummer: str, *, reported_by: str, note: str = ""
    ) -> Misregistration:
        body = {"manntallsnummer": manntallsnummer, "reported_by": reported_by, "note": note}
        answer = await self._call("POST", "/v1/misregistrations", body, _MisregAnswer)
        return answer.misregistration.to_port()

    async def counts(self) -> TableCounts:
        answer = await self._call("GET", "/v1/counts", None, _CountsIn)
        if self._table is None:
            await self.kiosk_info()
        assert self._table is not None
        for t in answer.tables:
            if (t.kommune, t.krets, t.bord) == self._table:
                return TableCounts(t.checkoffs, t.emergency_votes, t.misregistrations)
        return TableCounts(0)

    async def upload_emergency_votes(self, votes: Sequence[EmergencyVote]) -> UploadResult:
        body = {"votes": [{"vote_id": v.vote_id, "recorded_at": v.recorded_at.isoformat(),
                           "manntallsnummer": v.manntallsnummer, "manual_valgkort": v.manual_valgkort}
                          for v in votes]}  # fmt: skip
        answer = await self._call("POST", "/v1/emergency-votes", body, _UploadIn)
        return UploadResult(answer.accepted, answer.already_recorded)

    async def report_status(self, report: Mapping[str, Any]) -> StatusReceipt:
        """Send the table's status (no personal data) to the election office's dashboard."""
        answer = await self._call("POST", "/v1/status", dict(report), _StatusReceiptIn)
        return StatusReceipt(answer.office_acknowledged_at, answer.office_acknowledged_by)

    # -- transport ---------------------------------------------------------------------------
    async def _call(self, method: Literal["GET", "POST"], path: str, body: dict[str, Any] | None, shape: type[M]) -> M:
        try:
            response = await self._client.request(method, path, json=body)
        except httpx.TimeoutException:
            raise RegisterTimeout(TIMEOUT) from None
        except (httpx.TransportError, OSError) as exc:
            log.info("register unreachable: %s", type(exc).__name__)
            raise RegisterUnreachable(UNREACHABLE) from None
        except httpx.HTTPError as exc:  # anything else httpx can raise
            raise RegisterUnreachable(UNREACHABLE) from exc
        return self._answer(response, shape)

    @staticmethod
    def _answer(response: httpx.Response, shape: type[M]) -> M:
        status = response.status_code
        if status >= 500:
            code = _error_code(response)
            raise RegisterServerError(SERVER_ERROR.format(status=status), status=status, code=code)
        if 400 <= status < 500:
            try:
                err = _ErrorBody.model_validate_json(response.content)
            except ValidationError:
                raise RegisterRefused(f"Registeret avviste forespørselen ({status}).", status=status,
                                      code=f"http_{status}") from None  # fmt: skip
            raise RegisterRefused(err.error.message, status=status, code=err.error.code)
        if status != 200:
            raise RegisterNonsense(NONSENSE)
        try:
            return shape.model_validate_json(response.content)
        except ValidationError:
            raise RegisterNonsense(NONSENSE) from None


def _error_code(response: httpx.Response) -> str:
    try:
        return _ErrorBody.model_validate_json(response.content).error.code
    except ValidationError:
        return ""


__all__ = ["HttpRegister", "RegisterError"]
