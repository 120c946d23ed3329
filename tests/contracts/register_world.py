"""One small electoral register, built the same way in every Register adapter the kiosk has.

Kari is ready at this table, Nils is found by fødselsnummer, Áile is in the Sámi register,
Ole was checked off at table 2 of this station, Per belongs to another station of this
kommune (which requires voting at one's own station), Liv is in Bergen's register, and
Bjørn is in Bergen's register and has voted there: the case the in-memory twin and the real
register once answered differently."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path


from kiosk_servers import RegisterServer
from valgkiosk.cli import main as valgkiosk_main
from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.ports.register import CheckoffRecord, Voter
from valgkiosk.register_client import HttpRegister
from valgkiosk.register_memory import MemoryRegister
from valgkiosk.register_memory import synthetic_fnr

YEAR = 2025
KOMMUNE, KRETS, KRETS_NAVN, BORD = "0301", "0101", "Prøveskolen", 1
BERGEN, BERGEN_KRETS, BERGEN_NAVN = "4601", "0001", "Bergen sentrum"
OTHER_KRETS, OTHER_NAVN = "0102", "Øvingshallen"
STREET, POSTNUMMER, POSTSTED = "Øvingsveien 1", "0150", "OSLO"
ADDRESS = f"{STREET}, {POSTNUMMER} {POSTSTED}"  # as a manual valgkort carries it


@dataclass(frozen=True)
class WorldVoter:
    """A voter of the world, with what each adapter needs to hold them."""

    serial: int
    fornavn: str
    etternavn: str
    born: date
    kommune: str = KOMMUNE
    krets: str = KRETS
    krets_navn: str = KRETS_NAVN
    sami: bool = False

    @property
    def number(self) -> str:
        return mnr.make(self.serial, YEAR).digits

    @property
    def fnr(self) -> str:
        return synthetic_fnr(self.born, 400 + self.serial % 100)

    @property
    def navn(self) -> str:
        return f"{self.fornavn} {self.etternavn}"

    def port_voter(self) -> Voter:
        return Voter(self.number, self.navn, self.born, self.kommune, self.krets, self.krets_navn, self.sami,
                     ADDRESS)


VOTERS = {
    "kari": WorldVoter(1001, "Kari", "Prøvesen", date(1980, 4, 1)),
    "nils": WorldVoter(1002, "Nils", "Testesen", date(1962, 12, 24)),
    "ole": WorldVoter(1003, "Ole", "Eksempelsen", date(1955, 11, 23)),
    "aile": WorldVoter(1005, "Áile", "Demosen", date(1990, 6, 15), sami=True),
    "per": WorldVoter(1006, "Per", "Fiktivsen", date(1988, 8, 8), krets=OTHER_KRETS, krets_navn=OTHER_NAVN),
    "liv": WorldVoter(1007, "Liv", "Bergesen", date(1999, 2, 28), BERGEN, BERGEN_KRETS, BERGEN_NAVN),
    "bjorn": WorldVoter(1008, "Bjørn", "Fjellsen", date(1970, 5, 17), BERGEN, BERGEN_KRETS, BERGEN_NAVN),
}
NOT_IN_REGISTER = mnr.make(9999, YEAR).digits
#: who was checked off before the kiosk starts, and where: (kommune, krets, bord)
CHECKED_OFF_BEFORE = {"ole": (KOMMUNE, KRETS, 2), "bjorn": (BERGEN, BERGEN_KRETS, 1)}
EARLIER = datetime(2025, 9, 8, 6, 12, 44, tzinfo=timezone.utc)


def memory_world() -> MemoryRegister:
    """The world in the in-memory twin."""
    reg = MemoryRegister(kommune=KOMMUNE, krets=KRETS, krets_navn=KRETS_NAVN, bord=BORD, election_year=YEAR,
                         own_station_required=True, krets_names={OTHER_KRETS: OTHER_NAVN})
    for v in VOTERS.values():
        reg.add(v.port_voter(), v.fnr)
    for key, (_, krets, bord) in CHECKED_OFF_BEFORE.items():
        v = VOTERS[key]
        reg.record_checkoff(v.number, CheckoffRecord(EARLIER, krets, v.krets_navn, bord))
    return reg


def _csv() -> str:
    rows = ["manntallsnummer;fodselsnummer;fornavn;etternavn;fodselsdato;adresse;postnummer;poststed;"
            "kommune;kommunenavn;krets;kretsnavn;same"]
    names = {KOMMUNE: "Oslo", BERGEN: "Bergen"}
    for v in VOTERS.values():
        rows.append(";".join([v.number, v.fnr, v.fornavn, v.etternavn, v.born.isoformat(), STREET, POSTNUMMER,
                              POSTSTED, v.kommune, names[v.kommune], v.krets, v.krets_navn,
                              "ja" if v.sami else "nei"]))
    return "\n".join(rows) + "\n"


def _cli(*args: str) -> str:
    """``valgkiosk register …`` in this process (a subprocess each costs seconds of imports)."""
    out = io.StringIO()
    with redirect_stdout(out):
        code = valgkiosk_main(["register", *args])
    if code != 0:
        raise RuntimeError(f"valgkiosk register {args[0]} failed: {out.getvalue()}")
    return out.getvalue()


@contextmanager
def http_world(tmp: Path) -> Iterator[RegisterServer]:
    """The world in the real register (``valgkiosk register serve`` on loopback), with the
    earlier check-offs made by the kiosks of those tables over HTTP."""
    server = RegisterServer(tmp, voters_csv=_csv(), cli=_cli)
    _cli("set-rule", "--db", server.db, "--kommune", KOMMUNE, "--own-station-required", "ja")
    credentials = {}
    for key, (kommune, krets, bord) in CHECKED_OFF_BEFORE.items():
        out = tmp / f"credential-{key}"
        _cli("issue-credential", "--db", server.db, "--kiosk-id", f"earlier-{key}", "--kommune", kommune,
             "--krets", krets, "--bord", str(bord), "--out", str(out))
        credentials[key] = out.read_text(encoding="utf-8").strip()
    server.start()
    try:
        async def earlier() -> None:
            for key, credential in credentials.items():
                client = HttpRegister(server.url, credential, timeout=10.0)
                try:
                    await client.check_off(str(uuid.uuid4()), VOTERS[key].number)
                finally:
                    await client.aclose()

        asyncio.run(earlier())
        yield server
    finally:
        server.stop()
