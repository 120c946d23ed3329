"""The register's HTTP API (ASGI, FastAPI): see docs/register-api.md.

Endpoints that touch the database are plain functions, run by FastAPI in its thread
pool, because both storage backends are synchronous; authentication and health are
async and normally answered from memory. The hot path is the exception: on PostgreSQL
check-off, lookup, health and the rate limits run on the event loop through the async
pool, and ``/healthz`` and a plainly valid check-off are answered by ``RegisterApp``'s
front door, without FastAPI's middleware stack and routing (``fast_check_off`` and
``health_answer`` in ``create_app``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from typing import Annotated, Any, Literal
from uuid import UUID

import anyio
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic_core import to_json
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from stdnum.no import fodselsnummer as fnr_check

from valgkiosk import __version__
from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.register import search as name_search
from valgkiosk.register.access import (
    LOOKUP_LIMIT, SEARCH_LIMIT, AccessLog, Limit, RateLimiter, SharedRateLimiter, alerts,
)
from valgkiosk.register.credentials import CredentialCache, is_training
from valgkiosk.register.model import (
    Checkoff,
    Election,
    EmergencyVote,
    Kiosk,
    Misregistration,
    NotConfigured,
    RegisterError,
    Role,
    Voter,
    VoterStatus,
)
from valgkiosk.register.store import SqlStore

log = logging.getLogger("valgkiosk.register")

BODY_LIMIT = 64 * 1024
UPLOAD_BODY_LIMIT = 1024 * 1024
MAX_UPLOAD_VOTES = 5000


# -- errors ---------------------------------------------------------------------------
class ApiError(Exception):
    """An error answered as ``{"error": {"code", "message"}}``."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def _json(content: Any) -> Response:
    """A JSON answer serialised by pydantic-core (faster than json.dumps)."""
    return Response(to_json(content), media_type="application/json")


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


_PYDANTIC_NB: dict[str, str] = {
    "missing": "mangler",
    "extra_forbidden": "er ikke et kjent felt",
    "string_too_long": "er for langt",
    "string_too_short": "er for kort eller tomt",
    "string_type": "må være tekst",
    "uuid_parsing": "må være en UUID",
    "uuid_type": "må være en UUID",
    "date_from_datetime_parsing": "må være en dato (ÅÅÅÅ-MM-DD)",
    "date_parsing": "må være en dato (ÅÅÅÅ-MM-DD)",
    "date_type": "må være en dato (ÅÅÅÅ-MM-DD)",
    "datetime_from_date_parsing": "må være et tidspunkt med tidssone",
    "datetime_parsing": "må være et tidspunkt med tidssone",
    "timezone_aware": "må ha tidssone",
    "bool_parsing": "må være true eller false",
    "bool_type": "må være true eller false",
    "too_long": "har for mange elementer",
    "list_type": "må være en liste",
    "model_attributes_type": "må være et JSON-objekt",
    "dict_type": "må være et JSON-objekt",
    "string_pattern_mismatch": "har tegn eller form som ikke er tillatt",
    "string_unicode": "må være gyldig Unicode-tekst",
}

# Text the register stores: no NUL (PostgreSQL cannot store it) and no other control
# characters except tab and line breaks. The same pattern is published in the OpenAPI
# document, so the schema admits exactly what the API accepts.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
# What a manntallsnummer may look like (12 digits, EVA's display form has one space
# after the tenth); the check digit and the year digit are checked by the endpoint,
# which answers 422 invalid_manntallsnummer / other_election.
MANNTALLSNUMMER_PATTERN = r"^\s*[0-9]{10} ?[0-9]{2}\s*$"
PLACE_PATTERN = r"^[0-9A-Za-z-]{1,20}$"
FODSELSNUMMER_PATTERN = r"^\s*[0-9]{6} ?[0-9]{5}\s*$"
# Emergency votes are recorded in the election's year (or the turn of the year around it).
RECORDED_YEARS = (2000, 2100)


def _text_only(what: str) -> Callable[[Any], Any]:
    """A check that a JSON value is a string (pydantic would also take numbers)."""
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"Må være {what}.")
        return value
    return check


# Dates and times travel as JSON strings only: in lax mode pydantic also reads a Unix
# number as a time, and strict mode would refuse the strings json.loads gives.
JsonDate = Annotated[date, BeforeValidator(_text_only("en dato (ÅÅÅÅ-MM-DD)"))]
JsonTime = Annotated[AwareDatetime, BeforeValidator(_text_only("et tidspunkt med tidssone (RFC 3339)"))]


def _manntallsnummer_field() -> Any:
    """A manntallsnummer in a request body (parsed by the endpoint, documented exactly)."""
    return Field(min_length=1, max_length=32,
                 json_schema_extra={"pattern": MANNTALLSNUMMER_PATTERN},
                 description="12 digits (EVA's display form with one space after the tenth is accepted)")


def _validation_message(exc: RequestValidationError) -> str:
    """A Norwegian sentence for the first few problems; never echoes the input."""
    parts = []
    for err in exc.errors()[:5]:
        if err.get("type") == "json_invalid":
            return "Forespørselen er ikke gyldig JSON."
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        if err.get("type") == "value_error":  # our own validators speak whole sentences
            sentence = str(err.get("ctx", {}).get("error", "Ugyldig verdi.")).rstrip(".") + "."
            parts.append(f"Feltet «{'.'.join(loc)}»: {sentence}" if loc else sentence)
            continue
        what = _PYDANTIC_NB.get(err.get("type", ""), "har ugyldig verdi")
        parts.append(f"Feltet «{'.'.join(loc)}» {what}." if loc else f"Forespørselen {what}.")
    return " ".join(parts) or "Ugyldig forespørsel."


# -- request bodies --------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


_WITH_ADDRESS = Field(default=False, strict=True,
                      description="include the voter's address: only when a manual valgkort is being made")


class LookupRequest(_Strict):
    """Look a voter up by the number on the valgkort."""

    manntallsnummer: str = _manntallsnummer_field()
    with_address: bool = _WITH_ADDRESS


class CheckoffRequest(_Strict):
    """Check a voter off; ``request_id`` is made by the kiosk and reused on retries."""

    request_id: UUID
    manntallsnummer: str = _manntallsnummer_field()


class SearchRequest(_Strict):
    """Find a voter without a valgkort: by fødselsnummer, or by name and date of birth."""

    fodselsnummer: str | None = Field(default=None, max_length=32, pattern=FODSELSNUMMER_PATTERN)
    navn: str | None = Field(default=None, min_length=2, max_length=200, pattern=TEXT_PATTERN)
    fodselsdato: JsonDate | None = None
    with_address: bool = _WITH_ADDRESS

    @model_validator(mode="after")
    def _one_way(self) -> "SearchRequest":
        by_fnr = self.fodselsnummer is not None
        by_name = self.navn is not None or self.fodselsdato is not None
        if by_fnr == by_name:
            raise ValueError("Søk enten på fødselsnummer, eller på navn og fødselsdato.")
        if by_name and (self.navn is None or self.fodselsdato is None):
            raise ValueError("Søk på navn trenger både navn og fødselsdato.")
        return self


class MisregistrationRequest(_Strict):
    """Report that the check-off of this voter was made on the wrong person."""

    manntallsnummer: str = _manntallsnummer_field()
    reported_by: str = Field(min_length=1, max_length=100, pattern=TEXT_PATTERN)
    note: str = Field(default="", max_length=500, pattern=TEXT_PATTERN)


class EmergencyVoteIn(_Strict):
    """One emergency vote as the kiosk recorded it."""

    vote_id: str = Field(min_length=1, max_length=64, pattern=TEXT_PATTERN)
    recorded_at: JsonTime = Field(
        description=f"RFC 3339 with a time zone, in the years {RECORDED_YEARS[0]}–{RECORDED_YEARS[1]}")
    manntallsnummer: str | None = Field(default=None, min_length=1, max_length=32,
                                        json_schema_extra={"pattern": MANNTALLSNUMMER_PATTERN})
    manual_valgkort: bool = Field(default=False, strict=True)

    @field_validator("recorded_at")
    @classmethod
    def _plausible_year(cls, value: datetime) -> datetime:
        if not RECORDED_YEARS[0] <= value.year <= RECORDED_YEARS[1]:
            raise ValueError(f"Tidspunktet må ligge i årene {RECORDED_YEARS[0]}–{RECORDED_YEARS[1]}.")
        return value


class ChainHeadIn(_Strict):
    """The kiosk's loggbok head when it sent this (docs/loggbok.md)."""

    entries: int = Field(ge=0, le=10**9, strict=True)
    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    sig: str = Field(default="", pattern=r"^([0-9a-f]{128})?$")


class EmergencyUpload(_Strict):
    """A kiosk's emergency votes, uploaded after an outage, with its loggbok's head."""

    votes: list[EmergencyVoteIn] = Field(max_length=MAX_UPLOAD_VOTES)
    chain_head: ChainHeadIn | None = None


# -- response documents (for OpenAPI; answers are built as plain dicts) ---------------
class VoterOut(BaseModel):
    """A voter as the clerk needs them; the address only when it was asked for."""

    manntallsnummer: str
    fornavn: str
    etternavn: str
    navn: str
    fodselsdato: date
    adresse: str | None = Field(default=None, description="only with with_address")
    postnummer: str | None = Field(default=None, description="only with with_address")
    poststed: str | None = Field(default=None, description="only with with_address")
    kommune: str
    krets: str
    krets_navn: str
    sami: bool


class MisregistrationOut(BaseModel):
    reported_at: datetime
    reported_by: str
    kiosk_id: str
    krets: str
    bord: int
    note: str


class CheckoffOut(BaseModel):
    checked_off_at: datetime
    kiosk_id: str
    kommune: str
    krets: str
    krets_navn: str
    bord: int
    misregistration: MisregistrationOut | None


class VoterStatusOut(BaseModel):
    verdict: Literal["ready", "checked_off", "already_voted", "not_in_register",
                     "other_station", "other_municipality"]
    voter: VoterOut | None
    checkoff: CheckoffOut | None


class SearchOut(BaseModel):
    hits: list[VoterOut]
    truncated: bool


class UploadOut(BaseModel):
    accepted: int
    already_recorded: int


class TableCountOut(BaseModel):
    kommune: str
    krets: str
    bord: int
    checkoffs: int
    emergency_votes: int
    misregistrations: int


class CountTotalOut(BaseModel):
    checkoffs: int
    emergency_votes: int
    misregistrations: int


class CountsOut(BaseModel):
    tables: list[TableCountOut]
    total: CountTotalOut


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


class HealthOut(BaseModel):
    status: Literal["ok", "database_unavailable", "database_read_only"]
    node: str = Field(description="this API node's name (VALGKIOSK_REGISTER_NODE, else the host name)")
    writable: bool = Field(description="whether this node's database connection takes check-offs")


class KioskOut(BaseModel):
    kiosk_id: str
    role: Literal["kiosk", "admin"]
    kommune: str
    krets: str
    krets_navn: str
    bord: int


class ElectionOut(BaseModel):
    type: str
    year: int
    date: date
    year_digit: int
    title: str
    training: bool = False


class WhoAmIOut(BaseModel):
    kiosk: KioskOut
    election: ElectionOut


class MisregistrationAnswer(BaseModel):
    misregistration: MisregistrationOut


class AppearanceOut(BaseModel):
    kind: Literal["checkoff", "emergency_vote"]
    at: datetime
    kiosk_id: str
    krets: str
    bord: int


class DuplicateOut(BaseModel):
    manntallsnummer: str
    appearances: list[AppearanceOut]


class ReconciliationOut(BaseModel):
    duplicates: list[DuplicateOut]


class CredentialAccessOut(BaseModel):
    kiosk_id: str
    lookups: int
    searches: int
    rate_limited: int
    nobody_found: int
    checkoffs: int
    first: datetime
    last: datetime
    alert: bool
    reasons: list[str]


class AccessReportOut(BaseModel):
    since: datetime
    minutes: int
    credentials: list[CredentialAccessOut]


# -- JSON building ----------------------------------------------------------------------
def _ts(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


def voter_json(voter: Voter, krets_navn: str, *, with_address: bool = False) -> dict[str, Any]:
    """A voter as the API shows it (never the fødselsnummer; the address only if asked)."""
    shown: dict[str, Any] = {
        "manntallsnummer": voter.manntallsnummer, "fornavn": voter.fornavn,
        "etternavn": voter.etternavn, "navn": voter.navn,
        "fodselsdato": voter.fodselsdato.isoformat(),
        "kommune": voter.kommune, "krets": voter.krets, "krets_navn": krets_navn,
        "sami": voter.sami,
    }
    if with_address:
        shown.update(adresse=voter.adresse, postnummer=voter.postnummer, poststed=voter.poststed)
    return shown


def misregistration_json(m: Misregistration) -> dict[str, Any]:
    return {"reported_at": _ts(m.reported_at), "reported_by": m.reported_by,
            "kiosk_id": m.kiosk_id, "krets": m.krets, "bord": m.bord, "note": m.note}


def checkoff_json(c: Checkoff) -> dict[str, Any]:
    return {
        "checked_off_at": _ts(c.checked_off_at), "kiosk_id": c.kiosk_id, "kommune": c.kommune,
        "krets": c.krets, "krets_navn": c.krets_navn, "bord": c.bord,
        "misregistration": None if c.misregistration is None else misregistration_json(c.misregistration),
    }


def status_json(status: VoterStatus, *, with_address: bool = False) -> dict[str, Any]:
    return {
        "verdict": status.verdict.value,
        "voter": None if status.voter is None else voter_json(status.voter, status.krets_navn,
                                                              with_address=with_address),
        "checkoff": None if status.checkoff is None else checkoff_json(status.checkoff),
    }


def election_json(e: Election) -> dict[str, Any]:
    return {"type": e.type, "year": e.year, "date": e.date.isoformat(),
            "year_digit": e.year_digit, "title": e.title, "training": e.training}


# -- middleware ---------------------------------------------------------------------------
def _last_defence(exc: Exception, scope: Scope) -> JSONResponse:
    """The clean JSON answer to an unexpected error, logged by its type only.

    Exception messages from the database can quote the values involved (personal
    data), so neither they nor a traceback reach the log."""
    if _is_database_down(exc):
        log.error("database unavailable: %s", type(exc).__name__)
        return _error(503, "database_unavailable", "Databasen svarer ikke. Prøv igjen.")
    log.error("unexpected error in %s %s: %s", scope.get("method"), scope.get("path"), type(exc).__name__)
    return _error(500, "internal_error", "Intern feil i registeret.")


async def _send_json(send: Send, status: int, content: bytes) -> None:
    """A whole JSON answer, with the headers Starlette's ``Response`` gives it."""
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-length", str(len(content)).encode()), (b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": content})


class Gate:
    """The one middleware: refuse bodies over the limit (413) before they reach the
    endpoint, and answer any unexpected error with a clean JSON error (``_last_defence``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self._limited(scope, receive, tracked)
        except Exception as exc:  # noqa: BLE001 - the last line of defence
            response = _last_defence(exc, scope)
            if not started:
                await response(scope, receive, send)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = UPLOAD_BODY_LIMIT if scope["path"] == "/v1/emergency-votes" else BODY_LIMIT
        length = next((v for n, v in scope.get("headers", ()) if n == b"content-length"), None)
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                too_big = True
            if too_big:
                await _error(413, "body_too_large",
                             f"Forespørselen er større enn {limit // 1024} KiB.")(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        # Read a streamed body without a length here: small by definition, refused as soon
        # as it passes the limit.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await _error(413, "body_too_large",
                             f"Forespørselen er større enn {limit // 1024} KiB.")(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for an app after the body was read: the body once, then the client's own."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


# A fast route: the answer (status, JSON bytes) to a POST with this body, or None to let
# FastAPI answer it (with its validation, errors and documentation).
FastRoute = Callable[[Scope, bytes], Awaitable[tuple[int, bytes] | None]]
# The fast /healthz: its status and JSON bytes.
FastHealth = Callable[[], Awaitable[tuple[int, bytes]]]


class RegisterApp(FastAPI):
    """The register's FastAPI application with a front door for the hot paths.

    ``GET /healthz`` and a plainly valid ``POST /v1/checkoffs`` (``fast_routes``) are
    answered here, in front of FastAPI's and Starlette's middleware stack (server error,
    telemetry, body limit, ``Gate``, exception handlers) and routing, which cost a
    check-off more CPU than its own code; ``Gate``'s guarantees are kept here for them:
    a body over the limit or without a length goes the full way (413 there), and an
    unexpected error gets ``_last_defence``'s clean JSON answer. Anything a fast route
    declines goes the full way with the body it read, for the documented errors."""

    fast_health: FastHealth | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fast_routes: dict[str, FastRoute] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method = scope["method"]
            if method == "POST":
                fast = self.fast_routes.get(scope["path"])
                if fast is not None:
                    await self._fast_post(fast, scope, receive, send)
                    return
            elif method == "GET" and scope["path"] == "/healthz" and self.fast_health is not None:
                try:
                    status, content = await self.fast_health()
                except Exception as exc:  # noqa: BLE001 - the last line of defence (as Gate)
                    await _last_defence(exc, scope)(scope, receive, send)
                    return
                await _send_json(send, status, content)
                return
        await super().__call__(scope, receive, send)

    async def _fast_post(self, fast: FastRoute, scope: Scope, receive: Receive, send: Send) -> None:
        length = next((v for n, v in scope["headers"] if n == b"content-length"), None)
        try:
            fits = length is not None and int(length) <= BODY_LIMIT
        except ValueError:
            fits = False
        if not fits:  # too big, unreadable or streamed: Gate answers it (413 when it is too big)
            await super().__call__(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            answer = await fast(scope, body)
        except Exception as exc:  # noqa: BLE001 - the last line of defence (as Gate)
            await _last_defence(exc, scope)(scope, receive, send)
            return
        if answer is None:
            await super().__call__(scope, _replay(body, receive), send)
            return
        await _send_json(send, *answer)


# -- authentication -------------------------------------------------------------------------
async def authenticated(request: Request) -> Kiosk:
    """The kiosk behind the request's bearer credential (401 when there is none)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "unauthorized", "Mangler tilgangsnøkkel (Authorization: Bearer …).")
    training_register = request.app.state.training_election()
    if is_training(token.strip()) and not training_register:
        log.warning("refused a training credential: this register holds a real election")
        raise ApiError(403, "training_credential", "Øvingsnøkkel avvist: dette registeret har et ekte valg. "
                       "En kiosk i øvingsmodus kan ikke brukes mot det.")
    if training_register and not is_training(token.strip()):
        raise ApiError(403, "training_register", "Dette registeret har et øvingsvalg og tar bare imot "
                       "øvingsnøkler.")
    cache: CredentialCache = request.app.state.credentials
    kiosk = cache.kiosk(token.strip())  # from memory after the first call
    if kiosk is None:
        client = request.client.host if request.client else "?"
        log.warning("refused an unknown or revoked credential from %s", client)
        raise ApiError(401, "unauthorized", "Ukjent eller tilbakekalt tilgangsnøkkel.")
    seen: set[str] = request.app.state.kiosks_seen
    if kiosk.kiosk_id not in seen:
        seen.add(kiosk.kiosk_id)
        client = request.client.host if request.client else "?"
        log.info("kiosk %s (%s) connected from %s", kiosk.kiosk_id, kiosk.role.value, client)
    return kiosk


async def kiosk_only(kiosk: Annotated[Kiosk, Depends(authenticated)]) -> Kiosk:
    """A kiosk at a check-off table (not an admin)."""
    if kiosk.role is not Role.KIOSK:
        raise ApiError(403, "forbidden", "Bare en kiosk ved et avkrysserbord kan gjøre dette.")
    return kiosk


async def admin_only(kiosk: Annotated[Kiosk, Depends(authenticated)]) -> Kiosk:
    """Valgstyret's administrator."""
    if kiosk.role is not Role.ADMIN:
        raise ApiError(403, "forbidden", "Bare valgstyrets administrator kan gjøre dette.")
    return kiosk


AnyKiosk = Annotated[Kiosk, Depends(authenticated)]
TableKiosk = Annotated[Kiosk, Depends(kiosk_only)]
Admin = Annotated[Kiosk, Depends(admin_only)]


# -- the application ------------------------------------------------------------------------
def create_app(
    store: SqlStore,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    credential_ttl: float = 5.0,
    status_heartbeat_s: float = 10.0,
    lookup_limit: Limit = LOOKUP_LIMIT,
    search_limit: Limit = SEARCH_LIMIT,
    fast_checkoff: bool = True,
) -> FastAPI:
    """Build the register's ASGI application over ``store``.

    ``fast_checkoff=False`` leaves every check-off and ``/healthz`` to FastAPI's routes
    (the tests compare the two)."""
    app = RegisterApp(
        title="valgkiosk register",
        version=__version__,
        description="The electronic register that check-off kiosks talk to. See docs/register-api.md.",
        docs_url=None, redoc_url=None,  # served with local assets by install_office (no CDN)
    )
    fast_routes: dict[str, FastRoute] = {}
    app.add_middleware(Gate)
    app.fast_routes = app.state.fast_routes = fast_routes
    app.state.credentials = CredentialCache(store, ttl=credential_ttl)
    app.state.kiosks_seen = set()
    rate_take = getattr(store, "rate_take_async", None)  # PostgreSQL: buckets shared by every node
    if rate_take is not None:
        lookups: RateLimiter = SharedRateLimiter(lookup_limit, "lookup", rate_take)
        searches: RateLimiter = SharedRateLimiter(search_limit, "search", rate_take)
    else:
        lookups, searches = RateLimiter(lookup_limit), RateLimiter(search_limit)
    access = AccessLog(store)
    app.state.access = access
    app.router.on_shutdown.append(access.flush)

    async def throttle(limiter: RateLimiter, kiosk: Kiosk, kind: str) -> None:
        wait = await limiter.take(kiosk.kiosk_id)
        if wait > 0:
            access.record(now(), kiosk.kiosk_id, kind, "", "rate_limited")
            raise ApiError(429, "rate_limited",
                           "For mange oppslag fra denne kiosken på kort tid. Vent litt og prøv igjen.",
                           headers={"Retry-After": str(max(1, round(wait)))})
    election_cache: dict[str, Election] = {}

    def training_election() -> bool:
        """Whether this register holds a training election (a register not set up yet: no)."""
        try:
            return election().training
        except NotConfigured:
            return False

    app.state.training_election = training_election
    health: dict[str, Any] = {"checked": float("-inf"), "status": "ok"}
    node_name = os.environ.get("VALGKIOSK_REGISTER_NODE") or socket.gethostname()

    def election() -> Election:
        cached = election_cache.get("e")
        if cached is None:
            found = store.election()
            if found is None:
                raise NotConfigured("Registeret har ikke noe valg satt opp ennå (valgkiosk register init).")
            election_cache["e"] = cached = found
        return cached

    def parse_number(text: str) -> str:
        try:
            return mnr.parse(text, election_year=election().year).digits
        except mnr.InvalidManntallsnummer as exc:
            code = "other_election" if exc.problem is mnr.Problem.OTHER_ELECTION else "invalid_manntallsnummer"
            raise ApiError(422, code, str(exc)) from None

    # -- error handlers
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, headers=exc.headers)

    @app.exception_handler(RegisterError)
    async def _register_error(request: Request, exc: RegisterError) -> JSONResponse:
        return _error(_register_error_status(exc), exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, "invalid_request", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:
            # FastAPI's answer to a body json.loads cannot take (invalid UTF-8, a number
            # too long for Python's int, nesting deeper than the recursion limit).
            return _error(422, "invalid_request", "Forespørselen er ikke gyldig JSON.")
        if exc.status_code == 405:
            return _error(405, "method_not_allowed", "Metoden er ikke tillatt her.",
                          headers=dict(exc.headers or {}))
        if exc.status_code == 404:
            return _error(404, "not_found", "Finnes ikke.")
        log.error("unexpected HTTP error %d in %s %s", exc.status_code, request.method, request.url.path)
        return _error(500, "internal_error", "Intern feil i registeret.")

    errors: dict[int | str, dict[str, Any]] = {
        s: {"model": ErrorOut, "description": d} for s, d in (
            (401, "Missing, unknown or revoked credential"),
            (403, "The credential's role may not make this call"),
            (409, "A conflict with what is recorded"),
            (413, "The body is too large"),
            (422, "The request is not valid"),
            (429, "Too many calls for this credential; retry after Retry-After seconds"),
            (503, "The register or its database is not available"),
        )
    }

    # -- endpoints
    health_lock = asyncio.Lock()
    # PostgreSQL answers the hot path on the event loop; SQLite in a worker thread.
    ping_async = getattr(store, "ping_async", None)
    check_off_async = getattr(store, "check_off_async", None)
    voter_status_async = getattr(store, "voter_status_async", None)
    if hasattr(store, "aclose"):
        app.router.on_shutdown.append(store.aclose)

    health_bodies: dict[str, bytes] = {}

    async def health_answer() -> tuple[int, bytes]:
        """/healthz's status and bytes (the route's and the front door's)."""
        if time.monotonic() - health["checked"] >= 1.0:
            async with health_lock:  # one check at a time; the others wait for its answer
                if time.monotonic() - health["checked"] >= 1.0:
                    try:
                        if ping_async is not None:
                            writable = await ping_async()
                        else:
                            writable = await anyio.to_thread.run_sync(store.ping)
                        status = "ok" if writable else "database_read_only"
                    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
                        if health["status"] == "ok":
                            log.error("health check: database unavailable (%s)", type(exc).__name__)
                        status = "database_unavailable"
                    if status == "database_read_only" and health["status"] != status:
                        log.error("health check: the database takes no writes (a standby?)")
                    health["status"], health["checked"] = status, time.monotonic()
        status = health["status"]
        body = health_bodies.get(status)
        if body is None:  # the JSON is one of three; JSONResponse's bytes for it
            answer = {"status": status, "node": node_name, "writable": status == "ok"}
            health_bodies[status] = body = bytes(JSONResponse(answer).body)
        return (200 if status == "ok" else 503), body

    @app.get("/healthz", tags=["health"], response_model=HealthOut,
             responses={503: {"model": HealthOut, "description": "The database does not answer"}})
    async def healthz() -> Response:
        """Liveness for the kiosks' network watchdog and load balancers: this node's name and
        whether its database takes writes (checked at most once a second)."""
        status, body = await health_answer()
        return Response(body, status_code=status, media_type="application/json")

    @app.get("/v1/kiosk", tags=["kiosk"], response_model=WhoAmIOut, responses=errors)
    def whoami(kiosk: AnyKiosk) -> JSONResponse:
        """Who the credential belongs to, and the election this register serves."""
        krets_navn = store.station_name(kiosk.kommune, kiosk.krets)
        return JSONResponse({
            "kiosk": {"kiosk_id": kiosk.kiosk_id, "role": kiosk.role.value, "kommune": kiosk.kommune,
                      "krets": kiosk.krets, "krets_navn": krets_navn, "bord": kiosk.bord},
            "election": election_json(election()),
        })

    @app.post("/v1/voters/lookup", tags=["voters"], response_model=VoterStatusOut, responses=errors)
    async def lookup(body: LookupRequest, kiosk: TableKiosk) -> Response:
        """What the clerk meets for this valgkort; changes nothing."""
        await throttle(lookups, kiosk, "lookup")
        number = parse_number(body.manntallsnummer)
        if voter_status_async is not None:
            status = await voter_status_async(kiosk, number)
        else:
            status = await anyio.to_thread.run_sync(store.voter_status, kiosk, number)
        access.record(now(), kiosk.kiosk_id, "lookup", number, status.verdict.value)
        return _json(status_json(status, with_address=body.with_address))

    @app.post("/v1/checkoffs", tags=["voters"], response_model=VoterStatusOut, responses=errors)
    async def check_off(body: CheckoffRequest, kiosk: TableKiosk) -> Response:
        """Check the voter off, exactly once; safe to retry with the same request id."""
        number = parse_number(body.manntallsnummer)
        if check_off_async is not None:
            status = await check_off_async(kiosk, str(body.request_id), number, now())
        else:
            status = await anyio.to_thread.run_sync(store.check_off, kiosk, str(body.request_id), number, now())
        log.debug("checkoff by %s: %s", kiosk.kiosk_id, status.verdict.value)
        return _json(status_json(status))

    credentials: CredentialCache = app.state.credentials
    kiosks_seen: set[str] = app.state.kiosks_seen

    async def fast_check_off(scope: Scope, body: bytes) -> tuple[int, bytes] | None:
        """``check_off`` without FastAPI's routing, dependency solving and response
        machinery (the profile's largest cost per check-off): it answers only a request
        that is plainly valid, with the same bytes the route would send; anything else
        (no JSON content type, a body the model refuses, no kiosk credential, a number
        that does not parse) returns None and goes the full way, which gives the
        documented errors and log lines. The route stays for OpenAPI and those cases."""
        token = content_type = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                token = value
            elif name == b"content-type":
                content_type = value
        if content_type not in (b"application/json", b"application/json; charset=utf-8") or token is None:
            return None
        scheme, _, secret = token.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return None
        if is_training(secret.strip()) != training_election():
            return None  # a training credential at a real register, or the reverse: the full path refuses it
        kiosk = credentials.kiosk(secret.strip())
        if kiosk is None or kiosk.role is not Role.KIOSK:
            return None
        try:
            # pydantic's own JSON parser: what it takes, FastAPI's json.loads and the model in
            # Python mode take with the same values (the last of a duplicated key wins in
            # both); what it refuses (a UTF-16 body, a BOM) goes the full way, as any refusal
            request = CheckoffRequest.model_validate_json(body)
            number = parse_number(request.manntallsnummer)
        except (ValueError, ApiError, RegisterError, RecursionError):  # ValidationError is a ValueError
            return None
        if kiosk.kiosk_id not in kiosks_seen:
            kiosks_seen.add(kiosk.kiosk_id)
            client = scope.get("client")
            log.info("kiosk %s (%s) connected from %s", kiosk.kiosk_id, kiosk.role.value,
                     client[0] if client else "?")
        try:
            if check_off_async is not None:
                status = await check_off_async(kiosk, str(request.request_id), number, now())
            else:
                status = await anyio.to_thread.run_sync(store.check_off, kiosk, str(request.request_id),
                                                        number, now())
        except RegisterError as exc:
            return _register_error_status(exc), to_json({"error": {"code": exc.code, "message": str(exc)}})
        log.debug("checkoff by %s: %s", kiosk.kiosk_id, status.verdict.value)
        return 200, to_json(status_json(status))

    if fast_checkoff:
        fast_routes["/v1/checkoffs"] = fast_check_off
        app.fast_health = health_answer

    @app.post("/v1/voters/search", tags=["voters"], response_model=SearchOut, responses=errors)
    async def search(body: SearchRequest, kiosk: TableKiosk) -> Response:
        """Find a voter without a valgkort (at most 50 hits, best first)."""
        kind = "search_fodselsnummer" if body.fodselsnummer is not None else "search_name"
        await throttle(searches, kiosk, kind)
        answer = await anyio.to_thread.run_sync(_search, body)
        asked = (body.fodselsnummer.replace(" ", "") if body.fodselsnummer is not None
                 else f"{body.navn} / {body.fodselsdato}")
        access.record(now(), kiosk.kiosk_id, kind, asked, f"{len(answer['hits'])} hits")
        return _json(answer)

    def _search(body: SearchRequest) -> dict[str, Any]:
        if body.fodselsnummer is not None:
            digits = body.fodselsnummer.replace(" ", "")
            if not fnr_check.is_valid(digits):
                raise ApiError(422, "invalid_request", "Fødselsnummeret er ikke gyldig.")
            found = store.voter_by_fodselsnummer(digits)
            hits = [] if found is None else [voter_json(*found, with_address=body.with_address)]
            return {"hits": hits, "truncated": False}
        assert body.navn is not None and body.fodselsdato is not None
        candidates = store.voters_born(body.fodselsdato)
        ranked = name_search.rank(body.navn, [v.navn for v, _ in candidates],
                                  limit=name_search.MAX_HITS + 1)
        hits = [voter_json(*candidates[i], with_address=body.with_address) for i, _ in ranked]
        return {"hits": hits[: name_search.MAX_HITS], "truncated": len(hits) > name_search.MAX_HITS}

    @app.post("/v1/misregistrations", tags=["voters"], response_model=MisregistrationAnswer, responses=errors)
    def misregistration(body: MisregistrationRequest, kiosk: TableKiosk) -> JSONResponse:
        """Mark this voter's check-off (made at this station) as made on the wrong person."""
        number = parse_number(body.manntallsnummer)
        record = store.report_misregistration(kiosk, number, body.reported_by, body.note, now())
        log.info("misregistration reported by %s", kiosk.kiosk_id)
        return JSONResponse({"misregistration": misregistration_json(record)})

    @app.post("/v1/emergency-votes", tags=["emergency"], response_model=UploadOut, responses=errors)
    def emergency_votes(body: EmergencyUpload, kiosk: TableKiosk) -> JSONResponse:
        """Record emergency votes uploaded after an outage; each vote counts once."""
        votes = [
            EmergencyVote(v.vote_id, v.recorded_at,
                          None if v.manntallsnummer is None else parse_number(v.manntallsnummer),
                          v.manual_valgkort)
            for v in body.votes
        ]
        receipt = store.record_emergency_votes(kiosk, votes, now())
        if body.chain_head is not None:
            head = store.record_chain_head(kiosk, body.chain_head.entries, body.chain_head.hash,
                                           body.chain_head.sig, "emergency_upload", now())
            if head.signature_ok is False:
                log.warning("chain head from %s is not signed by its registered key", kiosk.kiosk_id)
        log.info("emergency votes from %s: %d new, %d already recorded",
                 kiosk.kiosk_id, receipt.accepted, receipt.already_recorded)
        return JSONResponse({"accepted": receipt.accepted, "already_recorded": receipt.already_recorded})

    @app.get("/v1/counts", tags=["reports"], response_model=CountsOut, responses=errors)
    def counts(
        kiosk: AnyKiosk,
        kommune: Annotated[str | None, Query(pattern=PLACE_PATTERN)] = None,
        krets: Annotated[str | None, Query(pattern=PLACE_PATTERN)] = None,
    ) -> JSONResponse:
        """Check-offs, emergency votes and misregistrations per table."""
        if kiosk.role is Role.KIOSK:
            kommune, krets = kiosk.kommune, kiosk.krets
        rows = store.counts(kommune=kommune, krets=krets if kommune else None)
        tables = [{"kommune": r.kommune, "krets": r.krets, "bord": r.bord, "checkoffs": r.checkoffs,
                   "emergency_votes": r.emergency_votes, "misregistrations": r.misregistrations}
                  for r in rows]
        total = {k: sum(int(t[k]) for t in tables)  # type: ignore[call-overload]
                 for k in ("checkoffs", "emergency_votes", "misregistrations")}
        return JSONResponse({"tables": tables, "total": total})

    @app.get("/v1/reconciliation", tags=["reports"], response_model=ReconciliationOut, responses=errors)
    def reconciliation(admin: Admin) -> JSONResponse:
        """Every voter recorded more than once across check-offs and emergency votes, and
        every kiosk whose loggbok heads do not extend each other."""
        return JSONResponse({"duplicates": [
            {"manntallsnummer": d.manntallsnummer,
             "appearances": [{"kind": a.kind, "at": _ts(a.at), "kiosk_id": a.kiosk_id,
                              "krets": a.krets, "bord": a.bord} for a in d.appearances]}
            for d in store.reconciliation()
        ], "chain_conflicts": [
            {"kiosk_id": c.kiosk_id, "message": c.message,
             "heads": [{"entries": h.entries, "hash": h.hash, "received_at": _ts(h.received_at),
                        "signature_ok": h.signature_ok} for h in c.heads]}
            for c in store.chain_conflicts()
        ]})

    @app.get("/v1/access-report", tags=["reports"], response_model=AccessReportOut, responses=errors)
    async def access_report(
        admin: Admin, minutes: Annotated[int, Query(ge=1, le=24 * 60)] = 60,
    ) -> Response:
        """Per credential: lookups, searches and check-offs in the last ``minutes``, with the
        reasons it looks like a scraper (valgstyret's alert; no personal data)."""
        await access.flush()
        since = now() - timedelta(minutes=minutes)
        rows = await anyio.to_thread.run_sync(store.access_summary, since)
        credentials = []
        for r in rows:
            reasons = alerts(r, minutes)
            credentials.append({"kiosk_id": r.kiosk_id, "lookups": r.lookups, "searches": r.searches,
                                "rate_limited": r.rate_limited, "nobody_found": r.nobody_found,
                                "checkoffs": r.checkoffs, "first": _ts(r.first), "last": _ts(r.last),
                                "alert": bool(reasons), "reasons": reasons})
        return _json({"since": _ts(since), "minutes": minutes, "credentials": credentials})

    from valgkiosk.register.status import install_office  # imports this module

    install_office(app, store, now=now, heartbeat_s=status_heartbeat_s)
    return app


def _register_error_status(exc: RegisterError) -> int:
    """The HTTP status for a refusal by the register's rules."""
    return 503 if isinstance(exc, NotConfigured) else 409


def _is_database_down(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached (rather than a bug)."""
    import sqlite3

    try:
        import psycopg
        import psycopg_pool
        pg_down: tuple[type[BaseException], ...] = (psycopg.OperationalError, psycopg_pool.PoolTimeout)
    except ImportError:  # pragma: no cover
        pg_down = ()
    return isinstance(exc, (sqlite3.OperationalError, *pg_down))

