"""Small, hand-made registers for tests (the synthetic generator is tested on its own)."""

from __future__ import annotations

from datetime import date

from stdnum.no import fodselsnummer

from valgkiosk.core.manntallsnummer import make
from valgkiosk.register.model import Election, Kiosk, Kommune, Krets, Role, Voter
from valgkiosk.register.store import SqlStore

ELECTION = Election("stortingsvalg", 2025, date(2025, 9, 8))
OSLO = Kommune("0301", "Øvingsby", own_station_required=False)
STRICT = Kommune("4601", "Strengby", own_station_required=True)
PLACES = [
    Krets("0301", "0101", "Prøveskolen"),
    Krets("0301", "0102", "Testhallen"),
    Krets("4601", "0001", "Øvingshuset"),
    Krets("4601", "0002", "Demosenteret"),
]


_next_individual: dict[date, int] = {}


def fnr(born: date) -> str:
    """A valid fødselsnummer for someone born on ``born``, unique within this test run."""
    start = _next_individual.get(born, 100)
    for ind in range(start, 500):
        body = f"{born:%d%m%y}{ind:03d}"
        k1 = fodselsnummer.calc_check_digit1(body)
        if len(k1) != 1:
            continue
        k2 = fodselsnummer.calc_check_digit2(body + k1)
        if len(k2) != 1:
            continue
        number = body + k1 + k2
        if fodselsnummer.is_valid(number) and fodselsnummer.get_birth_date(number) == born:
            _next_individual[born] = ind + 1
            return number
    raise ValueError("no valid fødselsnummer found")


def voter(serial: int, fornavn: str, etternavn: str, born: date, kommune: str = "0301",
          krets: str = "0101", *, sami: bool = False, year: int = 2025) -> Voter:
    """One voter with a valid manntallsnummer and fødselsnummer."""
    return Voter(
        manntallsnummer=make(serial, year).digits, fodselsnummer=fnr(born),
        fornavn=fornavn, etternavn=etternavn, fodselsdato=born, adresse=f"Øvingsveien {serial}",
        postnummer="0150", poststed="ØVINGSBY", kommune=kommune, krets=krets, sami=sami,
    )


KARI = voter(1001, "Kari", "Prøvesen", date(1980, 4, 1))
OLA = voter(1002, "Ola", "Testdal", date(1975, 12, 24), krets="0102")
AASE = voter(1003, "Åse", "Kristoffersen", date(1990, 6, 15), sami=True)
STRENG = voter(1004, "Per", "Strengberg", date(1960, 1, 31), kommune="4601", krets="0002")
VOTERS = [KARI, OLA, AASE, STRENG]
NOT_IN_REGISTER = make(999_999, 2025).digits
LAST_ELECTION = make(1001, 2023).digits

TABLE_1 = Kiosk("prove-bord1", Role.KIOSK, "0301", "0101", 1)
TABLE_2 = Kiosk("prove-bord2", Role.KIOSK, "0301", "0101", 2)
OTHER_STATION = Kiosk("test-bord1", Role.KIOSK, "0301", "0102", 1)
STRICT_TABLE = Kiosk("streng-bord1", Role.KIOSK, "4601", "0001", 1)
ADMIN = Kiosk("valgstyret", Role.ADMIN)


def fill(store: SqlStore, extra: list[Voter] | None = None) -> None:
    """Configure the election and import the standard test voters (plus ``extra``)."""
    store.set_election(ELECTION)
    store.import_voters(VOTERS + (extra or []), kommuner=[OSLO, STRICT], kretser=PLACES)


def many_voters(count: int, *, first_serial: int = 100_000) -> list[Voter]:
    """``count`` distinct voters at Prøveskolen, for load and crash tests."""
    from datetime import timedelta

    return [voter(first_serial + i, "Test", f"Velger{i}", date(1950, 1, 1) + timedelta(days=i % 18_000))
            for i in range(count)]
