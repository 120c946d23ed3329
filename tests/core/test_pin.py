"""The chair's PIN hash."""

from __future__ import annotations

import pytest

from valgkiosk.pin import BadPinHash, check_format, hash_pin, verify_pin


def test_the_right_pin_verifies_and_others_do_not() -> None:
    stored = hash_pin("2468")
    assert "2468" not in stored and verify_pin("2468", stored)
    assert not verify_pin("2469", stored) and not verify_pin("", stored) and not verify_pin("24680", stored)


def test_the_same_pin_hashes_differently_each_time() -> None:
    assert hash_pin("2468") != hash_pin("2468")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", " 1234"])
def test_only_four_to_eight_digits_are_a_pin(pin: str) -> None:
    with pytest.raises(ValueError):
        hash_pin(pin)


@pytest.mark.parametrize("stored", ["1234", "scrypt$14$8$1$abc", "bcrypt$14$8$1$YWJj$YWJj", "scrypt$30$8$1$YWJj$YWJj"])
def test_anything_else_is_not_a_pin_hash(stored: str) -> None:
    with pytest.raises(BadPinHash):
        check_format(stored)


def test_a_trial_hash_at_load_only_for_parameters_the_kiosk_does_not_hash_with(monkeypatch: pytest.MonkeyPatch) -> None:
    """The configuration's PIN hash is tried once as it loads (so the chair's PIN cannot end
    in an error); ``valgkiosk pin-hash``'s own parameters are what every PIN hash here
    computes with, so they skip the trial (start-up cost, docs/benchmarks.md)."""
    import base64

    from valgkiosk import pin

    own = hash_pin("1234")
    other = f"scrypt$12$8$1${base64.b64encode(b'saltsalt').decode()}${base64.b64encode(b'x' * 32).decode()}"
    pin.validate(other)  # tried, and computable
    tried: list[int] = []

    def scrypt(*args: object, n: int, **kwargs: object) -> bytes:
        tried.append(n)
        raise MemoryError

    monkeypatch.setattr(pin.hashlib, "scrypt", scrypt)
    pin.validate(own)
    with pytest.raises(BadPinHash):
        pin.validate(other)
    assert tried == [2**12]
