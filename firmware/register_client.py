"""The Register port over HTTP: the kiosk's client for the register service (docs/register-api.md).

Every failure becomes one of the port's errors (never a raw httpx error):

- connection refused, DNS, TLS, reset, and a proxy's 407 or a rate limit's 429
                                                 → RegisterUnreachable
- the whole call not done within ``timeout``, or 408
                                                 → RegisterTimeout
- 5xx                                            → RegisterServerError
- 2xx that is not JSON or not the documented shape, an answer larger than
  ``max_answer_bytes``, an answer that does not fit the request, or an unexpected status
                                                 → RegisterNonsense
- other 4xx                                      → RegisterRefused (code kept)

``timeout`` is one deadline for the whole call (connect, headers, body), not per read:
a register, proxy or captive portal that dribbles bytes cannot keep a check-off
waiting past it. Answers are read as a stream and cut off at ``max_answer_bytes``.

Answers are parsed with pydantic models that ignore extra fields (the register may add
some) but insist on the ones the kiosk uses, and then checked against the request: the
voter in the answer is the one asked about, a verdict carries what it must, upload
counts add up to the votes sent. Anything else is nonsense, an uncertain failure
(never taken as success).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from valgkiosk.core.emergency import EmergencyVote
from valgkiosk.core.loggbok import Head
from valgkiosk.ports.register import (
    StationTableCounts,
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

UNREACHABLE = "Får ikke kontakt med manntallet."
TIMEOUT = "Manntallet svarte ikke i tide."
SERVER_ERROR = "Manntallet har en feil (serverfeil {status})."
NONSENSE = "Manntallet ga et svar kiosken ikke forstår."
#: a refused credential (401): the kiosk's access key, not the voter's ID ("legitimasjon")
CREDENTIAL_REFUSED = "Manntallet godtar ikke kioskens tilgangsnøkkel. Varsle IKT-ansvarlig."
PROXY = "Nettverket imellom slipper ikke forespørselen fram (status {status})."

#: The largest answer the kiosk reads (a search's hits are the largest: well under this).
MAX_ANSWER_BYTES = 1 << 20
#: Statuses that come from the network between kiosk and register, not from the register.
NETWORK_STATUSES = {407, 429}


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
    training: bool = False


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
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_answer_bytes = max_answer_bytes
        # a CA file as an SSL context (httpx deprecates verify=<path>), made now: a bad file fails at start
        tls = ssl.create_default_context(cafile=verify) if isinstance(verify, str) else verify
        self._client_args: dict[str, Any] = dict(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {credential}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout), verify=tls, transport=transport, follow_redirects=False)
        self._http: httpx.AsyncClient | None = None
        self._table: tuple[str, str, int] | None = None

    @property
    def _client(self) -> httpx.AsyncClient:
        """The HTTP client, made at the first request: making it imports httpcore and its
        async backends and loads the CA bundle (~20 ms here, 3.7 MB more where trio is
        installed), none of which the kiosk's first screen needs (docs/benchmarks.md)."""
        if self._http is None:
            self._http = httpx.AsyncClient(**self._client_args)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    # -- the port ---------------------------------------------------------------------------
    async def kiosk_info(self) -> KioskInfo:
        info = await self._call("GET", "/v1/kiosk", None, _KioskInfoIn)
        k, e = info.kiosk, info.election
        self._table = (k.kommune, k.krets, k.bord)
        title = e.title or f"{e.type} {e.year}"
        return KioskInfo(k.kiosk_id, k.kommune, k.krets, k.krets_navn, k.bord, title, e.year, e.year_digit,
                         training=e.training)

    async def lookup(self, manntallsnummer: str) -> VoterStatus:
        answer = await self._call("POST", "/v1/voters/lookup", {"manntallsnummer": manntallsnummer}, _StatusIn)
        if answer.verdict is Verdict.CHECKED_OFF:
            raise _nonsense("a lookup answered checked_off")  # a read-only lookup cannot check anybody off
        _check_status(answer, manntallsnummer)
        return answer.to_port()

    async def voter_address(self, manntallsnummer: str) -> str:
        body = {"manntallsnummer": manntallsnummer, "with_address": True}
        answer = await self._call("POST", "/v1/voters/lookup", body, _StatusIn)
        if answer.verdict is Verdict.CHECKED_OFF:
            raise _nonsense("a lookup answered checked_off")
        _check_status(answer, manntallsnummer)
        voter = answer.to_port().voter
        return voter.adresse if voter is not None else ""

    async def check_off(self, request_id: str, manntallsnummer: str) -> VoterStatus:
        body = {"request_id": request_id, "manntallsnummer": manntallsnummer}
        answer = await self._call("POST", "/v1/checkoffs", body, _StatusIn)
        if answer.verdict is Verdict.READY:
            raise _nonsense("a check-off answered ready")  # "ready" is no answer to a check-off
        _check_status(answer, manntallsnummer)
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
            if min(t.checkoffs, t.emergency_votes, t.misregistrations) < 0:
                raise _nonsense("negative counts")
            if (t.kommune, t.krets, t.bord) == self._table:
                return TableCounts(t.checkoffs, t.emergency_votes, t.misregistrations)
        return TableCounts(0)

    async def station_counts(self) -> list[StationTableCounts]:
        answer = await self._call("GET", "/v1/counts", None, _CountsIn)
        if self._table is None:
            await self.kiosk_info()
        assert self._table is not None
        kommune, krets, _ = self._table
        return [StationTableCounts(t.bord, t.checkoffs, t.emergency_votes, t.misregistrations)
                for t in answer.tables if (t.kommune, t.krets) == (kommune, krets)]  # fmt: skip

    async def upload_emergency_votes(self, votes: Sequence[EmergencyVote], *, head: Head | None = None) -> UploadResult:
        body: dict[str, Any] = {"votes": [{"vote_id": v.vote_id, "recorded_at": v.recorded_at.isoformat(),
                                           "manntallsnummer": v.manntallsnummer, "manual_valgkort": v.manual_valgkort}
                                          for v in votes]}  # fmt: skip
        if head is not None:
            body["chain_head"] = chain_head_json(head)
        answer = await self._call("POST", "/v1/emergency-votes", body, _UploadIn)
        if answer.accepted < 0 or answer.already_recorded < 0 or answer.accepted + answer.already_recorded != len(votes):
            # the votes stay pending: only an answer that accounts for every vote sent is success
            raise _nonsense(f"upload counts {answer.accepted}+{answer.already_recorded} for {len(votes)} votes")
        return UploadResult(answer.accepted, answer.already_recorded)

    async def report_status(self, report: Mapping[str, Any]) -> StatusReceipt:
        """Send the table's status (no personal data) to the election office's dashboard."""
        answer = await self._call("POST", "/v1/status", dict(report), _StatusReceiptIn)
        return StatusReceipt(answer.office_acknowledged_at, answer.office_acknowledged_by)

    # -- transport ---------------------------------------------------------------------------
    async def _call(self, method: Literal["GET", "POST"], path: str, body: dict[str, Any] | None, shape: type[M]) -> M:
        try:
            async with asyncio.timeout(self.timeout):  # one deadline for the whole call
                status, content = await self._exchange(method, path, body)
        except TimeoutError:
            raise RegisterTimeout(TIMEOUT) from None
        except httpx.TimeoutException:
            raise RegisterTimeout(TIMEOUT) from None
        except (httpx.TransportError, OSError) as exc:
            log.info("register unreachable: %s", type(exc).__name__)
            raise RegisterUnreachable(UNREACHABLE) from None
        except httpx.HTTPError as exc:  # anything else httpx can raise
            raise RegisterUnreachable(UNREACHABLE) from exc
        return self._answer(status, content, shape)

    async def _exchange(self, method: str, path: str, body: dict[str, Any] | None) -> tuple[int, bytes]:
        """Send the request and read at most ``max_answer_bytes`` of the answer."""
        async with self._client.stream(method, path, json=body) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_answer_bytes:
                raise _nonsense(f"answer of {declared} bytes declared")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_answer_bytes:
                    raise _nonsense(f"answer longer than {self.max_answer_bytes} bytes")
                chunks.append(chunk)
            return response.status_code, b"".join(chunks)

    @staticmethod
    def _answer(status: int, content: bytes, shape: type[M]) -> M:
        if status >= 500:
            code = _error_code(content)
            raise RegisterServerError(SERVER_ERROR.format(status=status), status=status, code=code)
        if status in NETWORK_STATUSES:
            log.info("the network refused the request with %d", status)
            raise RegisterUnreachable(PROXY.format(status=status))
        if status == 408:
            raise RegisterTimeout(TIMEOUT)
        if 400 <= status < 500:
            try:
                err = _ErrorBody.model_validate_json(content)
            except ValidationError:
                raise RegisterRefused(f"Manntallet avviste forespørselen ({status}).", status=status,
                                      code=f"http_{status}") from None  # fmt: skip
            if status == 401:  # the register's own words name the credential; the clerk's are ours
                log.warning("the register refused the kiosk's credential: %s", err.error.message)
                raise RegisterRefused(CREDENTIAL_REFUSED, status=status, code=err.error.code)
            raise RegisterRefused(err.error.message, status=status, code=err.error.code)
        if status != 200:
            raise _nonsense(f"status {status}")
        try:
            return shape.model_validate_json(content)
        except ValidationError:
            raise _nonsense("not the documented shape") from None


def chain_head_json(head: Head) -> dict[str, Any]:
    """The loggbok's head as the register takes it (with emergency uploads and status reports)."""
    return {"entries": head.count, "hash": head.hash, "sig": head.sig}


def _nonsense(why: str) -> RegisterNonsense:
    log.warning("the register's answer is nonsense: %s", why)
    return RegisterNonsense(NONSENSE)


def _check_status(answer: _StatusIn, manntallsnummer: str) -> None:
    """An answer about a voter must be about the voter asked about, and carry what its
    verdict needs (every verdict but "not in register" names the voter; a check-off,
    new or earlier, comes with its record)."""
    if answer.verdict is Verdict.NOT_IN_REGISTER:
        if answer.voter is not None:
            raise _nonsense("not_in_register with a voter")
        return
    if answer.voter is None:
        raise _nonsense(f"{answer.verdict.value} without a voter")
    if answer.voter.manntallsnummer != manntallsnummer:
        raise _nonsense(f"{answer.verdict.value} for another manntallsnummer")
    if answer.verdict in (Verdict.CHECKED_OFF, Verdict.ALREADY_VOTED) and answer.checkoff is None:
        raise _nonsense(f"{answer.verdict.value} without the check-off record")


def _error_code(content: bytes) -> str:
    try:
        return _ErrorBody.model_validate_json(content).error.code
    except ValidationError:
        return ""


__all__ = ["HttpRegister", "RegisterError", "chain_head_json"]
