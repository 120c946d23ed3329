"""A synthetic electoral register for the demo, training and benchmarks.

Everything is deterministic from the seed and the parameters, and the voters come
from a lazy iterator, so a register the size of Norway's (4.3 million voters) never
sits in memory. The people are obviously fake (surnames such as «Prøvesen» and
«Testdal», addresses such as «Øvingsveien 12», municipalities «Øvingskommune 1»),
but every number is valid: each fødselsnummer passes python-stdnum and agrees with
the birth date, and each manntallsnummer is the one ``manntallsnummer.make`` gives
for its serial and the election year (through tables built with ``make``, for speed).

How numbers stay unique without remembering them: the manntallsnummer serials are an
affine permutation of 0..10**10-1, and the fødselsnummer are drawn by an affine
permutation over a table of (birth date, valid individual number) slots, in which
each birth date has as many slots as its age cohort's weight allows. A fødselsnummer
is DDMMYY + individual number + two mod-11 check digits; which individual numbers
give usable check digits depends only on the date's weighted digit sums mod 11, so
the valid suffixes are computed once per (sum, sum, century) and shared.
"""

from __future__ import annotations

import bisect
import functools
import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from valgkiosk.core import manntallsnummer
from valgkiosk.register.importer import write_csv
from valgkiosk.register.model import Kommune, Krets, Voter
from valgkiosk.register.store import SqlStore

__all__ = [
    "MAX_KOMMUNER", "SAMI_SHARE", "SyntheticRegister", "capacity", "default_election_date",
    "generate", "populate", "write_csv",
]

MAX_KOMMUNER = 999
SAMI_SHARE = 0.015
MIN_AGE = 18
MAX_AGE = 100

GIVEN_FEMALE = (
    "Anne", "Inger", "Kari", "Marit", "Ingrid", "Liv", "Eva", "Berit", "Astrid", "Bjørg",
    "Hilde", "Anna", "Solveig", "Marianne", "Randi", "Ida", "Nina", "Elisabeth", "Kristin",
    "Ragnhild", "Åse", "Sølvi", "Gro", "Tone", "Silje", "Nora", "Emma", "Sofie", "Ingeborg",
    "Maja", "Sara", "Thea", "Ellinor", "Vigdis", "Torild", "Gunvor", "Åshild", "Kjellaug",
    "Jorunn", "Signe", "Synnøve", "Mette", "Heidi", "Turid", "Bodil", "Guro", "Linnea",
    "Frøydis", "Dagny", "Borghild",
)
GIVEN_MALE = (
    "Jan", "Per", "Bjørn", "Ole", "Lars", "Kjell", "Knut", "Arne", "Svein", "Hans",
    "Geir", "Tor", "Morten", "Terje", "Odd", "Erik", "Martin", "Andreas", "Jon", "Øystein",
    "Ørjan", "Kåre", "Håkon", "Åsmund", "Gunnar", "Nils", "Magnus", "Jakob", "Emil",
    "Henrik", "Sindre", "Even", "Torbjørn", "Kristoffer", "Trond", "Stian", "Eirik",
    "Halvard", "Sigurd", "Ivar", "Håvard", "Øyvind", "Steinar", "Rune", "Aksel", "Filip",
    "Mathias", "Olav", "Ragnar", "Sverre",
)
_STEMS = ("Prøve", "Test", "Øving", "Demo", "Fiktiv", "Eksempel")
_SURNAME_ENDINGS = (
    "sen", "dal", "berg", "strand", "haug", "bakken", "rud", "vik", "lie", "nes",
    "mo", "heim", "stad", "bø", "land", "gård", "aas", "sæter", "øy", "li",
)
SURNAMES = tuple(stem + end for stem in _STEMS for end in _SURNAME_ENDINGS)
_PLACE_STEMS = ("Øvings", "Test", "Prøve", "Demo", "Fiktiv", "Eksempel")
_STREET_ENDINGS = ("veien", "gata", "vegen", "bakken", "stien", "lia", "tunet", "svingen",
                   "plassen", "haugen")
STREETS = tuple(stem + end for stem in _PLACE_STEMS for end in _STREET_ENDINGS)
_POSTSTED_ENDINGS = ("by", "vik", "dal", "mo", "stad", "nes", "berg", "øy")
_STATION_STEMS = ("Prøve", "Test", "Øvings", "Demo", "Fiktiv", "Eksempel")
_STATION_ENDINGS = ("skolen", "hallen", "huset", "senteret", "biblioteket", "samfunnshuset",
                    "flerbrukshallen", "ungdomsskolen")

# Relative size of an age cohort (roughly Norway's population pyramid), by age.
_AGE_WEIGHTS = ((18, 1.0), (65, 1.0), (70, 0.8), (75, 0.7), (80, 0.5), (85, 0.29),
                (90, 0.14), (95, 0.04), (100, 0.008))

# Individual numbers (the 3 digits after DDMMYY) by birth years, as stdnum reads them
# (500-749 with a year of 54-99 would mean the 1800s, so those are never used).
_INDIVIDUALS: tuple[tuple[int, int, tuple[int, ...]], ...] = (
    (1900, 1939, tuple(range(0, 500))),
    (1940, 1999, tuple(range(0, 500)) + tuple(range(900, 1000))),
    (2000, 2039, tuple(range(500, 1000))),
)
_SAMI_THRESHOLD = round(SAMI_SHARE * 65536)


@dataclass(frozen=True, slots=True)
class SyntheticRegister:
    """A generated register: its places, and its voters on demand (lazily, repeatably)."""

    kommuner: list[Kommune]
    kretser: list[Krets]
    size: int
    seed: int
    election_year: int
    election_date: date

    def voters(self) -> Iterator[Voter]:
        """A fresh lazy iterator over the voters (the same voters every time)."""
        return _voters(self)


def default_election_date(year: int) -> date:
    """The second Monday of September: when Norway's elections are usually held."""
    first = date(year, 9, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7 + 7)


def generate(
    *,
    voters: int,
    seed: int = 2025,
    election_year: int = 2025,
    election_date: date | None = None,
    kommuner: int = 1,
    kretser_per_kommune: int = 4,
    own_station_required: bool = False,
) -> SyntheticRegister:
    """Plan a synthetic register of ``voters`` voters spread over the given places.

    ``own_station_required`` sets the rule for every generated municipality.
    """
    if voters < 0:
        raise ValueError("voters must not be negative")
    if not 1 <= kommuner <= MAX_KOMMUNER:
        raise ValueError(f"kommuner must be between 1 and {MAX_KOMMUNER}")
    if kretser_per_kommune < 1:
        raise ValueError("kretser_per_kommune must be at least 1")
    if election_date is None:
        election_date = default_election_date(election_year)
    if election_date.year != election_year:
        raise ValueError("election_date must fall in election_year")
    kommune_list = [
        Kommune(f"9{i + 1:03d}", f"Øvingskommune {i + 1}", own_station_required)
        for i in range(kommuner)
    ]
    krets_list = [
        Krets(k.kommune, f"{j + 1:04d}", _station_name(j))
        for k in kommune_list for j in range(kretser_per_kommune)
    ]
    limit = capacity(election_date)
    if voters > limit:
        raise ValueError(f"cannot make more than {limit} voters with unique fødselsnummer")
    return SyntheticRegister(kommune_list, krets_list, voters, seed, election_year, election_date)


def capacity(election_date: date) -> int:
    """How many voters ``generate`` can make for an election on this day."""
    return _fnr_slots(election_date).total


def populate(
    store: SqlStore,
    *,
    voters: int,
    seed: int = 2025,
    election_year: int | None = None,
    kommuner: int = 1,
    kretser_per_kommune: int = 4,
    own_station_required: bool = False,
    track: Callable[[Iterable[Voter], int, str], Iterable[Voter]] = lambda items, total, what: items,
) -> int:
    """Generate a register and import it into ``store`` in one transaction.

    ``track`` wraps the voters for a progress bar (``rich.progress.track``'s shape).

    Without ``election_year`` the store's configured election is used; when the years
    agree, the store's election day decides who is old enough.
    """
    election = store.election()
    if election_year is None:
        if election is None:
            raise ValueError("Registeret har ikke noe valg: kjør først «valgkiosk register init».")
        election_year = election.year
    on = election.date if election is not None and election.year == election_year else None
    register = generate(
        voters=voters, seed=seed, election_year=election_year, election_date=on,
        kommuner=kommuner, kretser_per_kommune=kretser_per_kommune,
        own_station_required=own_station_required,
    )
    return store.import_voters(track(register.voters(), voters, "Lager velgere"), kommuner=register.kommuner,
                               kretser=register.kretser)


# -- places ------------------------------------------------------------------------------

def _station_name(j: int) -> str:
    """A station name unique within its municipality: «Prøveskolen», «Testhallen», …"""
    per_round = len(_STATION_STEMS) * len(_STATION_ENDINGS)
    k = j % per_round
    stem = _STATION_STEMS[k % len(_STATION_STEMS)]
    # k and k + 6m (m < 8) land on different endings because 7m is never 0 mod 8.
    name = stem + _STATION_ENDINGS[(k + k // len(_STATION_STEMS)) % len(_STATION_ENDINGS)]
    return name if j < per_round else f"{name} {j // per_round + 1}"


def _postnummer(station_index: int) -> str:
    return f"{1000 + (station_index * 37) % 9000:04d}"


def _poststed(postnummer: str) -> str:
    """A fake poststed that depends only on the postnummer, so the pair is consistent."""
    n = int(postnummer)
    stem = _PLACE_STEMS[n % len(_PLACE_STEMS)].removesuffix("s")
    return (stem + _POSTSTED_ENDINGS[(n // len(_PLACE_STEMS)) % len(_POSTSTED_ENDINGS)]).upper()


# -- fødselsnummer slots ---------------------------------------------------------------------

def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February in a year without one
        return d.replace(year=d.year - years, day=28)


def _age_weight(age: int) -> float:
    for (a0, w0), (a1, w1) in zip(_AGE_WEIGHTS, _AGE_WEIGHTS[1:]):
        if a0 <= age <= a1:
            return w0 + (w1 - w0) * (age - a0) / (a1 - a0)
    raise AssertionError(age)


def _century(year: int) -> int:
    """Which range of individual numbers people born in ``year`` get (see _INDIVIDUALS)."""
    for i, (first, last, _) in enumerate(_INDIVIDUALS):
        if first <= year <= last:
            return i
    raise ValueError(f"no fødselsnummer for people born in {year} (supported: 1900–2039)")


def _individual_groups(century: int) -> list[tuple[int, int, list[str]]]:
    """The century's individual numbers grouped by their weighted digit sums mod 11."""
    groups: dict[tuple[int, int], list[str]] = {}
    for ind in _INDIVIDUALS[century][2]:
        i0, i1, i2 = ind // 100, ind // 10 % 10, ind % 10
        key = ((4 * i0 + 5 * i1 + 2 * i2) % 11, (5 * i0 + 4 * i1 + 3 * i2) % 11)
        groups.setdefault(key, []).append(f"{ind:03d}")
    return [(a1, a2, members) for (a1, a2), members in sorted(groups.items())]


_GROUPS = [_individual_groups(c) for c in range(len(_INDIVIDUALS))]


def _valid_suffixes(s1: int, s2: int, century: int) -> list[str]:
    """The 5-digit endings (individual number + check digits) valid for a date.

    ``s1`` and ``s2`` are the date digits' weighted sums (mod 11) for the two check
    digits (stdnum's ``calc_check_digit1/2``); an individual number is skipped when
    either check digit would be 10.
    """
    out: list[str] = []
    for a1, a2, members in _GROUPS[century]:
        k1 = (11 - (s1 + a1)) % 11
        if k1 == 10:
            continue
        k2 = (11 - (s2 + a2 + 2 * k1)) % 11
        if k2 == 10:
            continue
        check = f"{k1}{k2}"
        out += [ind + check for ind in members]
    return out


@dataclass(frozen=True, slots=True)
class _FnrSlots:
    """Every (birth date, ending) slot a voter may take, numbered 0..total-1.

    Dates with the same digit sums share one list of endings; a seed later picks, per
    list, a stride that permutes it and, per date, where in it to start.
    """

    starts: list[int]  # first slot number of each date
    dates: list[date]
    prefixes: list[str]  # DDMMYY
    endings: list[list[str]]  # valid endings of each date (shared between dates)
    total: int


@functools.lru_cache(maxsize=4)
def _fnr_slots(election: date) -> _FnrSlots:
    """Number the slots for voters aged 18–100 on ``election`` (the day); read-only."""
    first = _years_before(election, MAX_AGE + 1) + timedelta(days=1)
    last = _years_before(election, MIN_AGE)
    shared: dict[tuple[int, int, int], list[str]] = {}
    starts, dates, prefixes, endings_of = [], [], [], []
    total = 0
    day = first
    one_day = timedelta(days=1)
    weights = {age: _age_weight(age) for age in range(MIN_AGE, MAX_AGE + 1)}
    while day <= last:
        d, m, y = day.day, day.month, day.year % 100
        d0, d1, m0, m1, y0, y1 = d // 10, d % 10, m // 10, m % 10, y // 10, y % 10
        s1 = (3 * d0 + 7 * d1 + 6 * m0 + m1 + 8 * y0 + 9 * y1) % 11
        s2 = (5 * d0 + 4 * d1 + 3 * m0 + 2 * m1 + 7 * y0 + 6 * y1) % 11
        key = (s1, s2, _century(day.year))
        endings = shared.get(key)
        if endings is None:
            endings = shared[key] = _valid_suffixes(*key)
        age = election.year - day.year - ((election.month, election.day) < (m, d))
        starts.append(total)
        dates.append(day)
        prefixes.append(f"{d:02d}{m:02d}{y:02d}")
        endings_of.append(endings)
        total += max(1, int(len(endings) * weights[age]))
        day += one_day
    return _FnrSlots(starts, dates, prefixes, endings_of, total)


def _multiplier(rng: random.Random, modulus: int) -> int:
    """A multiplier coprime to ``modulus`` near the golden section (spreads values well)."""
    a = int(modulus * 0.6180339887) + rng.randrange(max(1, modulus // 1000))
    while math.gcd(a, modulus) != 1:
        a += 1
    return a % modulus or 1


def _stride(rng: random.Random, modulus: int) -> int:
    """A random multiplier coprime to ``modulus``: it permutes 0..modulus-1."""
    if modulus <= 2:
        return 1
    while True:
        a = rng.randrange(1, modulus)
        if math.gcd(a, modulus) == 1:
            return a


# -- manntallsnummer ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def _manntallsnummer_maker(election_year: int) -> Callable[[int], str]:
    """A fast equivalent of ``manntallsnummer.make(serial, election_year).digits``.

    ``make`` costs ~8 µs (half the generator's time at 4.3 million voters). The Luhn
    sum is additive over digit positions, so the check digit of a serial split into
    groups (4 + 3 + 3 digits) follows from the check digits ``make`` gives to each
    group alone: check = (u(g1·10⁶) + u(g2·10³) + u(g3) − 2·u(0)) mod 10.
    """
    def check(serial: int) -> int:
        return int(manntallsnummer.make(serial, election_year).digits[-1])

    high = [check(x * 10**6) for x in range(10**4)]
    mid = [check(x * 10**3) for x in range(10**3)]
    low = [check(x) for x in range(10**3)]
    base = -2 * low[0]
    digit = manntallsnummer.year_digit(election_year)
    high_text = [f"{x:04d}" for x in range(10**4)]
    mid_text = [f"{x:03d}" for x in range(10**3)]
    low_text = [f"{x:03d}{digit}" for x in range(10**3)]
    check_text = "0123456789"

    def fast(serial: int) -> str:
        g1, rest = divmod(serial, 1_000_000)
        g2, g3 = divmod(rest, 1000)
        return (high_text[g1] + mid_text[g2] + low_text[g3]
                + check_text[(high[g1] + mid[g2] + low[g3] + base) % 10])

    return fast


# -- voters ----------------------------------------------------------------------------------

def _cumulative(weights: list[float], scale: int) -> list[int]:
    """Cumulative upper bounds in 0..scale for picking an index with bisect."""
    total = sum(weights)
    out, running = [], 0.0
    for w in weights:
        running += w
        out.append(round(running / total * scale))
    out[-1] = scale
    return out


def _voters(register: SyntheticRegister) -> Iterator[Voter]:
    rng = random.Random(register.seed)
    getrandbits, bisect_right = rng.getrandbits, bisect.bisect_right
    slots = _fnr_slots(register.election_date)
    total = slots.total
    fnr_a = _multiplier(rng, total)
    fnr_b = rng.randrange(total) if total else 0
    serial_mod = 10**10
    serial_a = _multiplier(rng, serial_mod)
    serial_b = rng.randrange(serial_mod)

    # Uneven municipalities (lognormal sizes), stations within a municipality a little uneven.
    kommune_w = {k.kommune: rng.lognormvariate(0.0, 1.0) for k in register.kommuner}
    per_kommune: dict[str, int] = {}
    for s in register.kretser:
        per_kommune[s.kommune] = per_kommune.get(s.kommune, 0) + 1
    station_w = [kommune_w[s.kommune] / per_kommune[s.kommune] * rng.uniform(0.6, 1.4)
                 for s in register.kretser]
    # A lookup table instead of a bisect per voter: 20 random bits pick the station.
    station_of: list[int] = []
    for i, upper in enumerate(_cumulative(station_w, 1 << 20)):
        station_of.extend([i] * (upper - len(station_of)))
    # Every address a voter can get, indexed by 17 random bits (one in eight has a letter).
    addresses = [f"{street} {number}{letter}" for street in STREETS for number in range(1, 129)
                 for letter in ("", "", "", "", "", "", " A", " B")]
    stations = [
        (s.kommune, s.krets, _postnummer(i), _poststed(_postnummer(i)))
        for i, s in enumerate(register.kretser)
    ]

    # Within a date, slot j takes ending (stride * (j + rotation)) mod n of its shared list:
    # a permutation, so the individual numbers look random but never repeat.
    strides = {id(e): _stride(rng, len(e)) for e in {id(e): e for e in slots.endings}.values()}
    starts, prefixes, endings_of = slots.starts, slots.prefixes, slots.endings
    date_stride = [strides[id(e)] for e in endings_of]
    shifts = [getrandbits(32) % len(e) - start for e, start in zip(endings_of, starts)]
    dates = slots.dates
    make = _manntallsnummer_maker(register.election_year)
    female, male, surnames = GIVEN_FEMALE, GIVEN_MALE, SURNAMES
    n_female, n_male, n_surnames, n_addresses = len(female), len(male), len(surnames), len(addresses)
    sami_threshold = _SAMI_THRESHOLD
    fnr_slot, serial = fnr_b, serial_b
    for _ in range(register.size):
        d = bisect_right(starts, fnr_slot) - 1
        endings = endings_of[d]
        ending = endings[date_stride[d] * (fnr_slot + shifts[d]) % len(endings)]
        # Two draws of 64 bits decide everything random about the voter.
        r = getrandbits(64)
        q = getrandbits(64)
        kommune, krets, postnummer, poststed = stations[station_of[q & 0xFFFFF]]
        if ending[2] in "13579":  # the third individual digit: odd for men
            names, n_names = male, n_male
        else:
            names, n_names = female, n_female
        fornavn = names[(r & 0xFFFF) % n_names]
        if (r >> 16) & 0x7 == 0:  # one in eight has two given names
            second = names[((r >> 19) & 0xFFFF) % n_names]
            if second != fornavn:
                fornavn = f"{fornavn} {second}"
        yield Voter(  # positional: keyword arguments cost twice as much here
            make(serial),  # manntallsnummer
            prefixes[d] + ending,  # fodselsnummer
            fornavn,
            surnames[((r >> 35) & 0xFFFF) % n_surnames],  # etternavn
            dates[d],  # fodselsdato
            addresses[((q >> 20) & 0xFFFFF) % n_addresses],  # adresse
            postnummer,
            poststed,
            kommune,
            krets,
            (q >> 40) & 0xFFFF < sami_threshold,  # sami
        )
        fnr_slot = (fnr_slot + fnr_a) % total
        serial = (serial + serial_a) % serial_mod
