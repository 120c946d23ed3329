"""The synthetic register: deterministic, unique and valid numbers, plausible fake people."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest
from stdnum.no import fodselsnummer

from valgkiosk.core import manntallsnummer
from valgkiosk.register import synthetic
from valgkiosk.register.model import Election, Voter
from valgkiosk.register.store import SqlStore

BIG = 50_000


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


@pytest.fixture(scope="module")
def big() -> tuple[synthetic.SyntheticRegister, list[Voter]]:
    """One larger register shared by the tests that check every voter."""
    register = synthetic.generate(voters=BIG, seed=7, election_year=2025, kommuner=5,
                                  kretser_per_kommune=6)
    return register, list(register.voters())


def test_same_seed_and_parameters_give_the_same_register() -> None:
    params = dict(voters=2_000, seed=11, election_year=2025, kommuner=3, kretser_per_kommune=4)
    first, second = synthetic.generate(**params), synthetic.generate(**params)
    assert first.kommuner == second.kommuner and first.kretser == second.kretser
    voters = list(first.voters())
    assert voters == list(second.voters())
    assert voters == list(first.voters())  # iterating again gives the same voters


def test_another_seed_gives_other_voters() -> None:
    a = list(synthetic.generate(voters=500, seed=1).voters())
    b = list(synthetic.generate(voters=500, seed=2).voters())
    assert [v.manntallsnummer for v in a] != [v.manntallsnummer for v in b]
    assert [v.fodselsnummer for v in a] != [v.fodselsnummer for v in b]
    assert [v.navn for v in a] != [v.navn for v in b]


def test_voters_are_generated_lazily() -> None:
    register = synthetic.generate(voters=4_300_000, seed=3)
    voters = register.voters()
    first = [next(voters) for _ in range(3)]  # would take minutes if built as a list
    assert len({v.manntallsnummer for v in first}) == 3


def test_numbers_are_unique(big: tuple[synthetic.SyntheticRegister, list[Voter]]) -> None:
    _, voters = big
    assert len(voters) == BIG
    assert len({v.manntallsnummer for v in voters}) == BIG
    assert len({v.fodselsnummer for v in voters}) == BIG


def test_every_manntallsnummer_is_valid_for_the_election(big: tuple[synthetic.SyntheticRegister, list[Voter]]) -> None:
    _, voters = big
    for v in voters:
        number = manntallsnummer.parse(v.manntallsnummer, election_year=2025)
        assert manntallsnummer.make(number.serial, 2025).digits == v.manntallsnummer
    serials = sorted(int(v.manntallsnummer[:10]) for v in voters[:1000])
    assert serials[-1] - serials[0] > 10**9  # spread out, not 1, 2, 3, …


def test_every_fodselsnummer_is_valid_and_matches_the_birth_date(
        big: tuple[synthetic.SyntheticRegister, list[Voter]]) -> None:
    register, voters = big
    for v in voters:
        assert fodselsnummer.is_valid(v.fodselsnummer), v.fodselsnummer
        assert fodselsnummer.get_birth_date(v.fodselsnummer) == v.fodselsdato
        assert v.fodselsnummer[:6] == f"{v.fodselsdato:%d%m%y}"
    ages = [age_on(v.fodselsdato, register.election_date) for v in voters]
    assert min(ages) >= 18 and max(ages) <= 100
    assert min(ages) <= 19 and max(ages) >= 95  # the whole range is used


def test_ages_follow_a_population_pyramid(big: tuple[synthetic.SyntheticRegister, list[Voter]]) -> None:
    register, voters = big
    ages = Counter(age_on(v.fodselsdato, register.election_date) // 10 for v in voters)
    assert ages[9] + ages[10] < ages[3] / 3  # far fewer 90-somethings than 30-somethings
    assert 0.5 < ages[2] / ages[5] < 1.5


def test_given_names_match_the_gender_in_the_fodselsnummer(
        big: tuple[synthetic.SyntheticRegister, list[Voter]]) -> None:
    _, voters = big
    for v in voters[:5_000]:
        names = synthetic.GIVEN_MALE if fodselsnummer.get_gender(v.fodselsnummer) == "M" else synthetic.GIVEN_FEMALE
        assert all(part in names for part in v.fornavn.split(" ")), v


def test_names_are_obviously_fake_and_varied(big: tuple[synthetic.SyntheticRegister, list[Voter]]) -> None:
    _, voters = big
    stems = ("Prøve", "Test", "Øving", "Demo", "Fiktiv", "Eksempel")
    assert all(v.etternavn.startswith(stems) for v in voters)
    assert len({v.etternavn for v in voters}) >= 100
    assert len({v.fornavn for v in voters}) >= 100
    text = " ".join(v.navn for v in voters[:2_000])
    assert all(letter in text for letter in "æøå")
    assert all(v.adresse.startswith(("Øvings", "Test", "Prøve", "Demo", "Fiktiv", "Eksempel"))
               for v in voters)


def test_sami_share_is_about_one_and_a_half_percent(
        big: tuple[synthetic.SyntheticRegister, list[Voter]]) -> None:
    _, voters = big
    share = sum(v.sami for v in voters) / len(voters)
    assert 0.012 < share < 0.018


def test_places_are_consistent(big: tuple[synthetic.SyntheticRegister, list[Voter]]) -> None:
    register, voters = big
    assert len(register.kommuner) == 5 and len(register.kretser) == 30
    numbers = [k.kommune for k in register.kommuner]
    assert len(set(numbers)) == 5 and all(len(n) == 4 and n.isdigit() for n in numbers)
    assert all(k.navn.startswith("Øvingskommune ") for k in register.kommuner)
    stations = {(s.kommune, s.krets) for s in register.kretser}
    assert len(stations) == 30 and {k for k, _ in stations} == set(numbers)
    for kommune in numbers:
        names = [s.navn for s in register.kretser if s.kommune == kommune]
        assert len(set(names)) == len(names)
    poststed_of: dict[str, set[str]] = {}
    postnummer_of: dict[tuple[str, str], set[str]] = {}
    for v in voters:
        assert (v.kommune, v.krets) in stations
        assert len(v.postnummer) == 4 and v.postnummer.isdigit()
        poststed_of.setdefault(v.postnummer, set()).add(v.poststed)
        postnummer_of.setdefault((v.kommune, v.krets), set()).add(v.postnummer)
    assert all(len(p) == 1 for p in poststed_of.values())
    assert all(len(p) == 1 for p in postnummer_of.values())
    assert {(v.kommune, v.krets) for v in voters} == stations  # every station has voters


def test_municipality_rule_is_applied() -> None:
    strict = synthetic.generate(voters=10, kommuner=2, own_station_required=True)
    relaxed = synthetic.generate(voters=10, kommuner=2)
    assert all(k.own_station_required for k in strict.kommuner)
    assert not any(k.own_station_required for k in relaxed.kommuner)


def test_many_stations_per_kommune_keep_unique_names() -> None:
    register = synthetic.generate(voters=1, kretser_per_kommune=120)
    assert len({s.navn for s in register.kretser}) == 120
    assert len({s.krets for s in register.kretser}) == 120


@pytest.mark.parametrize("year", [2027, 2029, 2039])
def test_other_election_years(year: int) -> None:
    register = synthetic.generate(voters=3_000, seed=year, election_year=year)
    assert register.election_date.year == year and register.election_date.weekday() == 0
    for v in register.voters():
        manntallsnummer.parse(v.manntallsnummer, election_year=year)
        assert fodselsnummer.get_birth_date(v.fodselsnummer) == v.fodselsdato
        assert 18 <= age_on(v.fodselsdato, register.election_date) <= 100


def test_election_date_can_be_given() -> None:
    day = date(2025, 9, 20)
    register = synthetic.generate(voters=2_000, election_date=day)
    assert all(18 <= age_on(v.fodselsdato, day) <= 100 for v in register.voters())
    with pytest.raises(ValueError):
        synthetic.generate(voters=1, election_year=2025, election_date=date(2024, 9, 9))


def test_default_election_day_is_the_second_monday_of_september() -> None:
    assert synthetic.default_election_date(2025) == date(2025, 9, 8)
    assert synthetic.default_election_date(2023) == date(2023, 9, 11)
    assert synthetic.default_election_date(2021) == date(2021, 9, 13)


@pytest.mark.parametrize("params", [
    dict(voters=-1), dict(voters=1, kommuner=0), dict(voters=1, kommuner=1000),
    dict(voters=1, kretser_per_kommune=0), dict(voters=1, election_year=2070),
    dict(voters=50_000_000),  # more than there are valid fødselsnummer for adults
])
def test_impossible_parameters_are_refused(params: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        synthetic.generate(**params)


def test_capacity_is_enough_for_norway_and_is_enforced() -> None:
    day = date(2025, 9, 8)
    limit = synthetic.capacity(day)
    assert limit > 4_300_000
    with pytest.raises(ValueError):
        synthetic.generate(voters=limit + 1, election_date=day)
    # At full capacity every slot is taken: a stretch of the permutation never repeats.
    voters = synthetic.generate(voters=limit, seed=5, election_date=day).voters()
    numbers = [next(voters).fodselsnummer for _ in range(20_000)]
    assert len(set(numbers)) == len(numbers)
    assert all(fodselsnummer.is_valid(n) for n in numbers)


def test_populate_fills_a_store(store: SqlStore) -> None:
    store.set_election(Election("stortingsvalg", 2025, date(2025, 9, 8)))
    count = synthetic.populate(store, voters=300, seed=9, kommuner=2, kretser_per_kommune=2,
                               own_station_required=True)
    assert count == 300 == store.voter_count()
    assert len(store.kretser()) == 4 and all(k.own_station_required for k in store.kommuner())
    expected = list(synthetic.generate(voters=300, seed=9, kommuner=2, kretser_per_kommune=2,
                                       election_date=date(2025, 9, 8)).voters())
    for v in random.Random(1).sample(expected, 20):
        found = store.voter_by_fodselsnummer(v.fodselsnummer)
        assert found is not None and found[0] == v


def test_populate_needs_an_election(store: SqlStore) -> None:
    with pytest.raises(ValueError, match="valg"):
        synthetic.populate(store, voters=10)
    assert store.voter_count() == 0
