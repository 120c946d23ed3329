"""The Register port's contract, run over every adapter the kiosk has: the in-memory twin,
the real register over HTTP on loopback, and the two wrappers (sim mode's network, the
failover over several nodes) around the twin.

The twin once said "other municipality" where the real register said "already voted"
(Bjørn, of Bergen, who voted in Bergen and turns up in Oslo). The register's rule is the
right one (register/rules.py, docs/register-api.md): one voter, one vote — what the chair
must know before a special vote is that the voter has voted, wherever they are registered.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest

from kiosk_servers import free_port
from register_world import (
    ADDRESS, BERGEN, BORD, KOMMUNE, KRETS, KRETS_NAVN, NOT_IN_REGISTER, OTHER_NAVN, VOTERS, YEAR, http_world,
    memory_world,
)
from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.core.emergency import EmergencyVote
from valgkiosk.core.loggbok import Head
from valgkiosk.core.outage import Layer
from valgkiosk.ports.register import (
    Register, RegisterRefused, RegisterTimeout, RegisterUnreachable, SearchQuery, StatusReceipt, Verdict,
)
from valgkiosk.register_client import HttpRegister
from valgkiosk.register_failover import FailoverRegister
from valgkiosk.register_memory import MemoryRegister
from valgkiosk.register_wrapper import ForwardingRegister
from valgkiosk.sim_register import ThroughSimulatedNetwork

T = TypeVar("T")
ADAPTERS = ["memory", "http", "through_sim_network", "failover"]
#: the port's methods, read from the Protocol itself
PORT_METHODS = sorted(name for name, member in vars(Register).items()
                      if not name.startswith("_") and inspect.iscoroutinefunction(member))


class QuietNetwork:
    """The simulated network with nothing failing (or what a test sets)."""

    def __init__(self) -> None:
        self.faults: dict[Layer, str] = {}

    def failing(self) -> dict[Layer, str]:
        return self.faults


def _dead_node() -> HttpRegister:
    """A register node nobody answers at (a closed loopback port): the failover's first try."""
    return HttpRegister(f"http://127.0.0.1:{free_port()}", "x" * 40, timeout=2.0)


class Adapters:
    """Builds the adapter under test over a world (the real register's URL, or a fresh twin)."""

    def __init__(self, kind: str, server_url: str | None, credential: str | None) -> None:
        self.kind, self.url, self.credential = kind, server_url, credential

    def make(self) -> Register:
        if self.kind == "http":
            assert self.url is not None and self.credential is not None
            return HttpRegister(self.url, self.credential, timeout=10.0)
        twin = memory_world()
        if self.kind == "memory":
            return twin
        if self.kind == "through_sim_network":
            return ThroughSimulatedNetwork(twin, QuietNetwork())
        return FailoverRegister([_dead_node(), twin], names=["dead", "twin"])

    def run(self, body: Callable[[Register], Awaitable[T]]) -> T:
        async def main() -> T:
            reg = self.make()
            try:
                return await body(reg)
            finally:
                await reg.aclose()

        return asyncio.run(main())


def _adapters(kind: str, tmp: Path) -> Iterator[Adapters]:
    if kind != "http":
        yield Adapters(kind, None, None)
        return
    with http_world(tmp) as server:
        yield Adapters(kind, server.url, server.credential)


@pytest.fixture(scope="module", params=ADAPTERS)
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Adapters]:
    """An adapter over a world that the read-only tests share (one real server per module)."""
    yield from _adapters(request.param, tmp_path_factory.mktemp("world"))


@pytest.fixture(params=ADAPTERS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Adapters]:
    """An adapter over a world of its own, for the tests that record something."""
    yield from _adapters(request.param, tmp_path)


# -- read-only -----------------------------------------------------------------------------

def test_kiosk_info_names_this_table_and_election(shared: Adapters) -> None:
    info = shared.run(lambda r: r.kiosk_info())
    assert (info.kommune, info.krets, info.krets_navn, info.bord) == (KOMMUNE, KRETS, KRETS_NAVN, BORD)
    assert (info.election_year, info.year_digit) == (YEAR, mnr.year_digit(YEAR))


@pytest.mark.parametrize(("who", "verdict"), [
    ("kari", Verdict.READY),
    ("aile", Verdict.READY),
    ("ole", Verdict.ALREADY_VOTED),  # at table 2 of this station
    ("per", Verdict.OTHER_STATION),
    ("liv", Verdict.OTHER_MUNICIPALITY),
    ("bjorn", Verdict.ALREADY_VOTED),  # of Bergen, voted in Bergen: already voted wins
])
def test_lookup_gives_the_same_verdict_everywhere(shared: Adapters, who: str, verdict: Verdict) -> None:
    v = VOTERS[who]
    status = shared.run(lambda r: r.lookup(v.number))
    assert status.verdict is verdict
    assert status.voter is not None
    assert (status.voter.manntallsnummer, status.voter.navn, status.voter.fodselsdato) == (v.number, v.navn, v.born)
    assert (status.voter.kommune, status.voter.krets, status.voter.krets_navn) == (v.kommune, v.krets, v.krets_navn)
    assert status.voter.sami is v.sami
    assert status.voter.adresse == ""  # lookups carry no address (data minimisation)
    if verdict is Verdict.ALREADY_VOTED:
        assert status.checkoff is not None and status.checkoff.misregistration is None
        assert status.checkoff.bord == (2 if who == "ole" else 1)
    else:
        assert status.checkoff is None


def test_the_other_station_is_named(shared: Adapters) -> None:
    status = shared.run(lambda r: r.lookup(VOTERS["per"].number))
    assert status.voter is not None and status.voter.krets_navn == OTHER_NAVN


def test_a_number_nobody_has_is_not_in_the_register(shared: Adapters) -> None:
    status = shared.run(lambda r: r.lookup(NOT_IN_REGISTER))
    assert status.verdict is Verdict.NOT_IN_REGISTER and status.voter is None and status.checkoff is None


@pytest.mark.parametrize(("number", "code"), [
    ("123", "invalid_manntallsnummer"),
    (VOTERS["kari"].number[:-1] + str((int(VOTERS["kari"].number[-1]) + 1) % 10), "invalid_manntallsnummer"),
    (mnr.make(1001, YEAR - 4).digits, "other_election"),
])
@pytest.mark.parametrize("method", ["lookup", "check_off"])
def test_bad_numbers_are_refused_with_one_code(shared: Adapters, number: str, code: str, method: str) -> None:
    call: Callable[[Register], Awaitable[Any]] = (
        (lambda r: r.lookup(number)) if method == "lookup" else (lambda r: r.check_off(str(uuid.uuid4()), number)))
    with pytest.raises(RegisterRefused) as caught:
        shared.run(call)
    assert (caught.value.status, caught.value.code, caught.value.uncertain) == (422, code, False)


def test_search_by_fodselsnummer_and_by_name(shared: Adapters) -> None:
    async def both(r: Register) -> tuple[list[str], list[str], list[str]]:
        by_fnr = await r.search(SearchQuery(fodselsnummer=VOTERS["nils"].fnr))
        by_name = await r.search(SearchQuery(navn="Kari Prøvesen", fodselsdato=date(1980, 4, 1)))
        nobody = await r.search(SearchQuery(navn="Kari Prøvesen", fodselsdato=date(1981, 4, 1)))
        return ([v.navn for v in by_fnr.hits], [v.manntallsnummer for v in by_name.hits],
                [v.manntallsnummer for v in nobody.hits])

    by_fnr, by_name, nobody = shared.run(both)
    assert by_fnr == ["Nils Testesen"]
    assert by_name[:1] == [VOTERS["kari"].number]
    assert nobody == []


def test_the_address_is_given_only_when_asked_for(shared: Adapters) -> None:
    assert shared.run(lambda r: r.voter_address(VOTERS["kari"].number)) == ADDRESS


def test_a_status_report_is_taken(shared: Adapters) -> None:
    report = {
        "sent_at": datetime.now(timezone.utc).isoformat(), "mode": "normal", "mode_since": None,
        "outage_started_at": None, "diagnosis_layer": None,
        "mains": True, "router_power": True, "simula_power": True,
        "printer_state": "ready", "printer_paper": "ok", "scanner_connected": True,
        "counts": {"checkoffs": 0, "emergency_votes": 0, "manual_valgkort": 0, "pending_uploads": 0},
        "loggbok_head": "ab" * 32, "loggbok_entries": 1, "clock_offset_s": 0.0,
        "image_version": "test", "report_interval_s": 5.0,
    }
    receipt = shared.run(lambda r: r.report_status(report))
    assert receipt == StatusReceipt(None, None)


# -- recording ---------------------------------------------------------------------------------

def test_check_off_exactly_once_per_voter(fresh: Adapters) -> None:
    kari, nils = VOTERS["kari"].number, VOTERS["nils"].number
    rid = str(uuid.uuid4())

    async def day(r: Register) -> dict[str, Any]:
        out: dict[str, Any] = {"first": await r.check_off(rid, kari), "retry": await r.check_off(rid, kari),
                               "again": await r.check_off(str(uuid.uuid4()), kari), "after": await r.lookup(kari)}
        try:
            await r.check_off(rid, nils)
        except RegisterRefused as exc:
            out["conflict"] = exc
        out["nils"] = await r.lookup(nils)
        out["counts"] = await r.counts()
        out["station"] = await r.station_counts()
        return out

    out = fresh.run(day)
    first = out["first"]
    assert first.verdict is Verdict.CHECKED_OFF and first.checkoff is not None
    assert (first.checkoff.krets, first.checkoff.bord) == (KRETS, BORD)
    assert out["retry"] == first  # the same request id, the same answer
    assert out["again"].verdict is Verdict.ALREADY_VOTED
    assert out["after"].verdict is Verdict.ALREADY_VOTED
    assert out["after"].checkoff.checked_off_at == first.checkoff.checked_off_at
    assert (out["conflict"].status, out["conflict"].code) == (409, "request_id_conflict")
    assert out["nils"].verdict is Verdict.READY  # the refused request recorded nothing
    assert (out["counts"].checkoffs, out["counts"].emergency_votes, out["counts"].misregistrations) == (1, 0, 0)
    ours = [t for t in out["station"] if t.bord == BORD]
    assert [(t.checkoffs, t.misregistrations) for t in ours] == [(1, 0)]


def test_a_check_off_that_is_not_ready_records_nothing(fresh: Adapters) -> None:
    async def attempts(r: Register) -> tuple[dict[str, tuple[Verdict, Verdict]], int]:
        out = {}
        for who in ("per", "liv", "bjorn", "ole"):
            number = VOTERS[who].number
            tried = await r.check_off(str(uuid.uuid4()), number)
            out[who] = (tried.verdict, (await r.lookup(number)).verdict)
        return out, (await r.counts()).checkoffs

    verdicts, checkoffs = fresh.run(attempts)
    assert verdicts == {"per": (Verdict.OTHER_STATION,) * 2, "liv": (Verdict.OTHER_MUNICIPALITY,) * 2,
                        "bjorn": (Verdict.ALREADY_VOTED,) * 2, "ole": (Verdict.ALREADY_VOTED,) * 2}
    assert checkoffs == 0


def test_misregistration_only_for_a_check_off_at_this_station(fresh: Adapters) -> None:
    async def report(r: Register) -> dict[str, Any]:
        out: dict[str, Any] = {}
        out["ole"] = await r.report_misregistration(VOTERS["ole"].number, reported_by="Avkrysser bord 1",
                                                    note="Feil person krysset av")
        out["ole_again"] = await r.report_misregistration(VOTERS["ole"].number, reported_by="Avkrysser bord 1")
        out["after"] = await r.lookup(VOTERS["ole"].number)
        for who in ("kari", "bjorn"):  # never checked off / checked off in another kommune
            try:
                await r.report_misregistration(VOTERS[who].number, reported_by="Avkrysser bord 1")
            except RegisterRefused as exc:
                out[who] = exc
        return out

    out = fresh.run(report)
    assert out["ole"].reported_by == "Avkrysser bord 1"
    assert out["ole_again"].reported_at == out["ole"].reported_at  # reported once
    assert out["after"].checkoff.misregistration is not None
    for who in ("kari", "bjorn"):
        assert (out[who].status, out[who].code) == (409, "no_checkoff")


def test_emergency_votes_are_counted_once(fresh: Adapters) -> None:
    at = datetime(2025, 9, 8, 10, 0, tzinfo=timezone.utc)
    votes = [EmergencyVote("v1", at, VOTERS["kari"].number), EmergencyVote("v2", at, None, True)]
    head = Head(3, "cd" * 32)

    async def upload(r: Register) -> tuple[Any, Any, Any]:
        first = await r.upload_emergency_votes(votes, head=head)
        again = await r.upload_emergency_votes(votes)
        return first, again, await r.counts()

    first, again, counts = fresh.run(upload)
    assert (first.accepted, first.already_recorded) == (2, 0)
    assert (again.accepted, again.already_recorded) == (0, 2)
    assert counts.emergency_votes == 2


# -- the wrappers carry the whole port ---------------------------------------------------------

def test_the_wrappers_base_has_every_port_method_with_its_signature() -> None:
    for name in PORT_METHODS:
        assert inspect.signature(getattr(ForwardingRegister, name)) == inspect.signature(getattr(Register, name)), name


@pytest.mark.parametrize("adapter", [HttpRegister, MemoryRegister, ThroughSimulatedNetwork, FailoverRegister])
def test_every_adapter_has_every_port_method(adapter: type) -> None:
    for name in PORT_METHODS:
        method = getattr(adapter, name, None)
        assert method is not None and inspect.iscoroutinefunction(method), f"{adapter.__name__}.{name}"
        want = inspect.signature(getattr(Register, name)).parameters
        got = inspect.signature(method).parameters
        assert [(p.name, p.kind, p.default) for p in got.values()] == \
            [(p.name, p.kind, p.default) for p in want.values()], f"{adapter.__name__}.{name}"


#: one call of each port method; a port method added without a line here fails the test below
SAMPLE_CALLS: dict[str, Callable[[Register], Awaitable[Any]]] = {
    "kiosk_info": lambda r: r.kiosk_info(),
    "lookup": lambda r: r.lookup(VOTERS["kari"].number),
    "check_off": lambda r: r.check_off("rid", VOTERS["kari"].number),
    "voter_address": lambda r: r.voter_address(VOTERS["kari"].number),
    "search": lambda r: r.search(SearchQuery(fodselsnummer=VOTERS["kari"].fnr)),
    "report_misregistration": lambda r: r.report_misregistration(VOTERS["ole"].number, reported_by="x"),
    "counts": lambda r: r.counts(),
    "station_counts": lambda r: r.station_counts(),
    "upload_emergency_votes": lambda r: r.upload_emergency_votes([]),
    "report_status": lambda r: r.report_status({}),
    "aclose": lambda r: r.aclose(),
}


class Recording:
    """A register that records which port method was called and answers nothing useful."""

    def __init__(self) -> None:
        self.called: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if name not in PORT_METHODS:
            raise AttributeError(name)

        async def method(*args: object, **kwargs: object) -> None:
            self.called.append(name)

        return method


def test_the_sample_calls_cover_the_port() -> None:
    assert sorted(SAMPLE_CALLS) == PORT_METHODS


@pytest.mark.parametrize("name", PORT_METHODS)
def test_every_port_method_goes_through_each_wrapper(name: str) -> None:
    async def main() -> tuple[list[str], list[str], list[str]]:
        behind_net, dead, alive = Recording(), Recording(), Recording()
        await SAMPLE_CALLS[name](ThroughSimulatedNetwork(behind_net, QuietNetwork()))  # type: ignore[arg-type]

        async def unreachable(*args: object, **kwargs: object) -> None:
            dead.called.append(name)
            raise RegisterUnreachable("Får ikke kontakt med manntallet.")

        setattr(dead, name, unreachable)
        try:
            await SAMPLE_CALLS[name](FailoverRegister([dead, alive]))  # type: ignore[list-item]
        except RegisterUnreachable:
            assert name == "aclose"  # closing reports the node that failed, after closing the others
        return behind_net.called, dead.called, alive.called

    behind_net, dead, alive = asyncio.run(main())
    assert behind_net == [name]
    assert dead == [name]
    # the failover tries the next node after an unreachable one; closing closes every node
    assert alive == [name]


@pytest.mark.parametrize("name", sorted(set(PORT_METHODS) - {"aclose"}))
@pytest.mark.parametrize(("layer", "error"), [(Layer.GATEWAY, RegisterUnreachable), (Layer.HEALTH, RegisterTimeout)])
def test_the_simulated_network_stops_every_call(name: str, layer: Layer, error: type[Exception]) -> None:
    behind = Recording()
    network = QuietNetwork()
    network.faults[layer] = "simulert feil"
    with pytest.raises(error):
        asyncio.run(SAMPLE_CALLS[name](ThroughSimulatedNetwork(behind, network)))  # type: ignore[arg-type]
    assert behind.called == []  # nothing reached the register
