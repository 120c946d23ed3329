"""The manntallsnummer rules, from the published test vectors and EVA's format."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valgkiosk.core import manntallsnummer as m


@pytest.mark.parametrize("number", ["123456789080", "000001234582", "000000012344"])
def test_published_vectors_pass(number: str) -> None:
    assert m.parse(number).digits == number


@pytest.mark.parametrize(("year", "digit"), [(2025, 9), (2027, 2), (2029, 4), (2023, 7), (2000, 2)])
def test_year_digit_is_the_repeated_digit_sum(year: int, digit: int) -> None:
    assert m.year_digit(year) == digit


@pytest.mark.parametrize(("text", "problem"), [
    ("", m.Problem.EMPTY), ("   ", m.Problem.EMPTY),
    ("12345678908", m.Problem.WRONG_LENGTH), ("1234567890800", m.Problem.WRONG_LENGTH),
    ("12345678908O", m.Problem.NOT_DIGITS), ("١٢٣٤٥٦٧٨٩٠٨٠", m.Problem.NOT_DIGITS),
    ("123456789081", m.Problem.CHECK_DIGIT),
])
def test_bad_numbers_say_why(text: str, problem: m.Problem) -> None:
    with pytest.raises(m.InvalidManntallsnummer) as caught:
        m.parse(text)
    assert caught.value.problem is problem
    assert str(caught.value) == m.MESSAGES_NB[problem]


def test_display_form_and_white_space_are_accepted() -> None:
    n = m.parse(" 0000012345 25\n")
    assert n.digits == "000001234525" and n.display() == "0000012345 25"
    assert n.serial == 12345 and n.year_digit == 2


def test_card_from_another_election_is_refused() -> None:
    card_2023 = m.make(12345, 2023)
    assert m.parse(card_2023.digits, election_year=2023) == card_2023
    with pytest.raises(m.InvalidManntallsnummer) as caught:
        m.parse(card_2023.digits, election_year=2025)
    assert caught.value.problem is m.Problem.OTHER_ELECTION
    assert "annet valg" in str(caught.value)


@given(st.integers(0, 10**10 - 1), st.integers(1900, 2100))
def test_made_numbers_parse_back(serial: int, year: int) -> None:
    number = m.make(serial, year)
    assert m.parse(number.digits, election_year=year) == number
    assert number.serial == serial


@given(st.integers(0, 10**10 - 1), st.integers(0, 11), st.integers(1, 9))
def test_any_single_digit_misread_is_caught(serial: int, position: int, delta: int) -> None:
    digits = m.make(serial, 2025).digits
    wrong = digits[:position] + str((int(digits[position]) + delta) % 10) + digits[position + 1:]
    with pytest.raises(m.InvalidManntallsnummer) as caught:
        m.parse(wrong)
    assert caught.value.problem is m.Problem.CHECK_DIGIT


@given(st.text(alphabet="0123456789", min_size=1, max_size=20))
def test_the_luhn_check_agrees_with_python_stdnum(digits: str) -> None:
    from stdnum import luhn

    assert m.luhn_valid(digits) is (luhn.checksum(digits) == 0)


def test_every_wrong_check_digit_is_refused() -> None:
    good = m.make(12345, 2025).digits
    for wrong in (str(d) for d in range(10) if str(d) != good[-1]):
        assert not m.luhn_valid(good[:-1] + wrong)
        with pytest.raises(m.InvalidManntallsnummer):
            m.parse(good[:-1] + wrong)
