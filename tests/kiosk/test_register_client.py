"""The HTTP register client against the REAL register on loopback, and against a
misbehaving server for the failures: each maps to exactly one port error, never httpx's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any, TypeVar

import pytest

from kiosk_servers import NOT_IN_REGISTER, VOTERS, Misbehaving, RegisterServer, free_port
from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.ports.register import (
    RegisterNonsense,
    RegisterRefused,
    RegisterServerError,
    RegisterTimeout,
    RegisterUnreachable,
    SearchQuery,
    Verdict,
)
from valgkiosk.register_client import HttpRegister

T = TypeVar("T")


def call(url: str, credential: str, fn: Callable[[HttpRegister], Awaitable[T]], *, timeout: float = 3.0) -> T:
    async def main() -> T:
        client = HttpRegister(url, credential, timeout=timeout)
        try:
            return await fn(client)
        finally:
            await client.aclose()

    return asyncio.run(main())


def test_the_whole_conversation_with_the_real_register(register: RegisterServer) -> None:
    kari, liv = VOTERS["kari"], VOTERS["liv"]
    rid = str(uuid.uuid4())

    async def conversation(c: HttpRegister) -> dict[str, Any]:
        out: dict[str, Any] = {}
        out["info"] = await c.kiosk_info()
        out["ready"] = await c.lookup(kari.number)
        out["first"] = await c.check_off(rid, kari.number)
        out["retry"] = await c.check_off(rid, kari.number)
        out["again"] = await c.check_off(str(uuid.uuid4()), kari.number)
        out["lookup_after"] = await c.lookup(kari.number)
        out["absent"] = await c.lookup(NOT_IN_REGISTER)
        out["bergen"] = await c.lookup(liv.number)
        out["by_fnr"] = await c.search(SearchQuery(fodselsnummer=VOTERS["nils"].fnr))
        out["by_name"] = await c.search(SearchQuery(navn="Kari Prøvesen", fodselsdato=date(1980, 4, 1)))
        out["counts"] = await c.counts()
        out["misreg"] = await c.report_misregistration(kari.number, reported_by="Avkrysser bord 1",
                                                       note="Feil person krysset av")
        out["after_misreg"] = await c.lookup(kari.number)
        out["station"] = await c.station_counts()
        out["address"] = await c.voter_address(kari.number)  # for a manual valgkort
        return out

    out = call(register.url, register.credential, conversation)
    info = out["info"]
    assert (info.kommune, info.krets, info.bord, info.election_year, info.year_digit) == ("0301", "0101", 1, 2025, 9)
    assert info.krets_navn == "Prøveskolen"
    assert out["ready"].verdict is Verdict.READY and out["ready"].voter.navn == "Kari Prøvesen"
    assert out["ready"].voter.fodselsdato == date(1980, 4, 1)
    # The register sends the address only when asked for it (issue 16: "with_address"
    # when a manual valgkort is being made); a plain lookup has none.
    assert out["ready"].voter.adresse == ""
    assert out["address"].startswith("Øvingsveien 1, ")  # asked for when a manual valgkort is printed
    assert out["first"].verdict is Verdict.CHECKED_OFF and out["first"].checkoff.bord == 1
    assert out["retry"] == out["first"]  # the same request id gets the same answer
    assert out["again"].verdict is Verdict.ALREADY_VOTED
    assert out["lookup_after"].verdict is Verdict.ALREADY_VOTED
    assert out["lookup_after"].checkoff.checked_off_at == out["first"].checkoff.checked_off_at
    assert out["absent"].verdict is Verdict.NOT_IN_REGISTER and out["absent"].voter is None
    assert out["bergen"].verdict is Verdict.OTHER_MUNICIPALITY
    assert [v.navn for v in out["by_fnr"].hits] == ["Nils Testesen"]
    assert out["by_name"].hits[0].manntallsnummer == kari.number
    assert out["counts"].checkoffs == 1
    assert out["misreg"].reported_by == "Avkrysser bord 1"
    assert out["after_misreg"].checkoff.misregistration is not None
    # the station report: every table of this kiosk's station, from the same /v1/counts
    [table] = [t for t in out["station"] if t.bord == 1]
    assert (table.checkoffs, table.misregistrations) == (1, 1)


def test_sami_flag_comes_through(register: RegisterServer) -> None:
    status = call(register.url, register.credential, lambda c: c.lookup(VOTERS["aile"].number))
    assert status.voter is not None and status.voter.sami


@pytest.mark.parametrize(
    ("number", "code"),
    [("123", "invalid_manntallsnummer"), (mnr.make(1001, 2021).digits, "other_election")],
)
def test_bad_numbers_are_refused_with_the_registers_code(register: RegisterServer, number: str, code: str) -> None:
    with pytest.raises(RegisterRefused) as caught:
        call(register.url, register.credential, lambda c: c.lookup(number))
    assert caught.value.code == code and caught.value.status == 422 and not caught.value.uncertain


def test_a_wrong_credential_is_refused(register: RegisterServer) -> None:
    with pytest.raises(RegisterRefused) as caught:
        call(register.url, "not-a-credential-at-all", lambda c: c.kiosk_info())
    assert caught.value.status == 401 and caught.value.code == "unauthorized"
    # the kiosk's access key, in the clerk's words: "legitimasjon" is the voter's ID at this table
    assert str(caught.value) == "Manntallet godtar ikke kioskens tilgangsnøkkel. Varsle IKT-ansvarlig."
    assert "legitimasjon" not in str(caught.value).lower()


def test_request_id_reused_for_another_voter_is_refused(register: RegisterServer) -> None:
    rid = str(uuid.uuid4())

    async def both(c: HttpRegister) -> None:
        await c.check_off(rid, VOTERS["kari"].number)
        await c.check_off(rid, VOTERS["nils"].number)

    with pytest.raises(RegisterRefused) as caught:
        call(register.url, register.credential, both)
    assert caught.value.code == "request_id_conflict"


def test_misregistration_without_a_checkoff_is_refused(register: RegisterServer) -> None:
    with pytest.raises(RegisterRefused) as caught:
        call(register.url, register.credential,
             lambda c: c.report_misregistration(VOTERS["nils"].number, reported_by="Avkrysser bord 1"))
    assert caught.value.code == "no_checkoff"


def test_a_stopped_register_is_unreachable(register: RegisterServer) -> None:
    register.stop()
    with pytest.raises(RegisterUnreachable) as caught:
        call(register.url, register.credential, lambda c: c.lookup(VOTERS["kari"].number))
    assert caught.value.uncertain


def test_nobody_listening_is_unreachable() -> None:
    with pytest.raises(RegisterUnreachable):
        call(f"http://127.0.0.1:{free_port()}", "x" * 20, lambda c: c.kiosk_info())


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("500", RegisterServerError),
        ("html", RegisterNonsense),
        ("wrong_json", RegisterNonsense),
        ("slow", RegisterTimeout),
        ("drop", RegisterUnreachable),
    ],
)
def test_misbehaviour_maps_to_one_port_error(mode: str, error: type[Exception]) -> None:
    with Misbehaving(mode, delay=1.5) as server:
        with pytest.raises(error) as caught:
            call(server.url, "x" * 20, lambda c: c.check_off("rid", VOTERS["kari"].number), timeout=0.4)
    assert caught.value.uncertain  # a check-off after any of these must be asked again
    assert server.requests[0] == ("/v1/checkoffs", {"request_id": "rid", "manntallsnummer": VOTERS["kari"].number})


@pytest.mark.parametrize(
    ("path", "answer", "method"),
    [
        ("/v1/voters/lookup", {"verdict": "checked_off", "voter": None, "checkoff": None}, "lookup"),
        ("/v1/checkoffs", {"verdict": "ready", "voter": None, "checkoff": None}, "check_off"),
        ("/v1/voters/lookup", {"verdict": "maybe", "voter": None}, "lookup"),
    ],
)
def test_answers_that_make_no_sense_are_nonsense(path: str, answer: dict[str, Any], method: str) -> None:
    with Misbehaving("ok", answer={path: answer}) as server:
        with pytest.raises(RegisterNonsense):
            if method == "lookup":
                call(server.url, "x" * 20, lambda c: c.lookup("000000100198"))
            else:
                call(server.url, "x" * 20, lambda c: c.check_off("rid", "000000100198"))
