"""The manntallsnummer: the 12-digit register number in the valgkort barcode.

EVA's format: a 10-digit zero-padded serial number, one election-year digit (the
digit sum of the election year, repeated until one digit is left) and a Luhn check
digit over the whole number. Shown to people as ``0000012345 82``.

Pure: used by the kiosk before it asks the register and by the register itself.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

LENGTH = 12


class Problem(enum.Enum):
    """Why a scanned or typed number is not a manntallsnummer for this election."""

    EMPTY = "empty"
    NOT_DIGITS = "not_digits"
    WRONG_LENGTH = "wrong_length"
    CHECK_DIGIT = "check_digit"
    OTHER_ELECTION = "other_election"


MESSAGES_NB: dict[Problem, str] = {
    Problem.EMPTY: "Ingen strekkode lest.",
    Problem.NOT_DIGITS: "Strekkoden inneholder tegn som ikke er sifre: ugyldig valgkort.",
    Problem.WRONG_LENGTH: "Manntallsnummeret må ha 12 sifre.",
    Problem.CHECK_DIGIT: "Kontrollsifferet stemmer ikke: feillest eller ugyldig valgkort.",
    Problem.OTHER_ELECTION: "Valgkort fra et annet valg.",
}


class InvalidManntallsnummer(ValueError):
    """Raised for a number that is not a valid manntallsnummer for this election."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(MESSAGES_NB[problem])
        self.problem = problem


def year_digit(year: int) -> int:
    """The election-year digit: the repeated digit sum of the year (2025 -> 9)."""
    if year <= 0:
        raise ValueError("year must be positive")
    return 1 + (year - 1) % 9


@dataclass(frozen=True, slots=True)
class Manntallsnummer:
    """A well-formed manntallsnummer (12 digits, Luhn check digit correct)."""

    digits: str

    @property
    def serial(self) -> int:
        """The 10-digit serial number."""
        return int(self.digits[:10])

    @property
    def year_digit(self) -> int:
        """The election-year digit the card was made for."""
        return int(self.digits[10])

    def display(self) -> str:
        """The number as EVA shows it: ``0000012345 82``."""
        return f"{self.digits[:10]} {self.digits[10:]}"

    def __str__(self) -> str:
        return self.digits


# A digit doubled as the Luhn algorithm doubles every second one (its digit sum: 7 -> 14 -> 5).
_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


def luhn_valid(digits: str) -> bool:
    """Whether a string of ASCII digits ends in a correct Luhn check digit.

    The same answer as python-stdnum's ``luhn.checksum(digits) == 0`` (a test compares
    them), in a few microseconds: it runs on every check-off the register answers."""
    doubled = _LUHN_DOUBLED
    total = sum(map(int, digits[-1::-2])) + sum(doubled[int(d)] for d in digits[-2::-2])
    return total % 10 == 0


def parse(text: str, *, election_year: int | None = None) -> Manntallsnummer:
    """Parse a scanned or typed number; with ``election_year``, also check the year digit.

    Surrounding white space and the single space of EVA's display form are accepted.
    """
    digits = text.strip().replace(" ", "")
    if not digits:
        raise InvalidManntallsnummer(Problem.EMPTY)
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidManntallsnummer(Problem.NOT_DIGITS)
    if len(digits) != LENGTH:
        raise InvalidManntallsnummer(Problem.WRONG_LENGTH)
    if not luhn_valid(digits):
        raise InvalidManntallsnummer(Problem.CHECK_DIGIT)
    number = Manntallsnummer(digits)
    if election_year is not None and number.year_digit != year_digit(election_year):
        raise InvalidManntallsnummer(Problem.OTHER_ELECTION)
    return number


def make(serial: int, election_year: int) -> Manntallsnummer:
    """Build the manntallsnummer for ``serial`` in the election of ``election_year``."""
    if not 0 <= serial < 10**10:
        raise ValueError("serial must have at most 10 digits")
    # (python-stdnum when first needed: importing it loads its whole utility module, with
    # pydoc and ssl, ~1.3 MB and ~10 ms the kiosk's first screen need not wait for)
    from stdnum import luhn

    body = f"{serial:010d}{year_digit(election_year)}"
    return Manntallsnummer(body + luhn.calc_check_digit(body))
