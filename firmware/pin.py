"""The chair's PIN: stored only as a salted scrypt hash in the station configuration.

scrypt from Python's standard library (``hashlib.scrypt``, OpenSSL underneath) is a
memory-hard password hash: a four-to-eight digit PIN has few enough values that a fast
hash could be reversed from a copied configuration file in seconds; scrypt at these
parameters makes every guess cost ~16 MB and tens of milliseconds. No extra dependency.

Format: ``scrypt$<log2 n>$<r>$<p>$<salt, base64>$<hash, base64>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re

PIN_PATTERN = re.compile(r"^[0-9]{4,8}$")
_FORMAT = re.compile(r"^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")
_LOG_N, _R, _P = 14, 8, 1


class BadPinHash(ValueError):
    """A stored value that is not a PIN hash this module made."""


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """The stored form of ``pin`` (4 to 8 digits)."""
    if not PIN_PATTERN.match(pin):
        raise ValueError("PIN-koden må være 4 til 8 sifre")
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**_LOG_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_LOG_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


#: scrypt's memory for one guess must stay within OpenSSL's default limit (32 MiB).
_MAX_MEMORY = 32 * 1024 * 1024
_NOT_OURS = "ikke en PIN-hash laget av «valgkiosk pin-hash»"


def _parts(stored: str) -> tuple[int, int, int, bytes, bytes]:
    """The parameters, salt and hash of ``stored``; BadPinHash when any part is off."""
    m = _FORMAT.match(stored)
    if not m:
        raise BadPinHash(_NOT_OURS)
    log_n, r, p = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (10 <= log_n <= 20 and 1 <= r <= 32 and 1 <= p <= 16) or 128 * r * (2**log_n + p) > _MAX_MEMORY:
        raise BadPinHash(f"{_NOT_OURS} (parameterne er utenfor det kiosken kan regne ut)")
    try:
        salt = base64.b64decode(m.group(4), validate=True)
        expected = base64.b64decode(m.group(5), validate=True)
    except (binascii.Error, ValueError):
        raise BadPinHash(f"{_NOT_OURS} (ødelagt base64)") from None
    if len(salt) < 8 or not 16 <= len(expected) <= 64:
        raise BadPinHash(f"{_NOT_OURS} (salt eller hash har feil lengde)")
    return log_n, r, p, salt, expected


def check_format(stored: str) -> None:
    """Raise :class:`BadPinHash` unless ``stored`` is :func:`hash_pin`'s output in form:
    every part decoded and its parameters within what the kiosk can compute."""
    _parts(stored)


def validate(stored: str) -> None:
    """:func:`check_format`, then one trial hash: a stored value that passes has been
    computed with, so the chair's PIN cannot end in an error on election day.

    Parameters other than :func:`hash_pin`'s own get the trial. :func:`hash_pin`'s own
    (what ``valgkiosk pin-hash`` writes) are the ones this module computes with whenever a
    PIN is hashed, so their trial is skipped: it was 50-70 ms (and a 16 MB peak) of every
    kiosk start, as the configuration is read (docs/benchmarks.md)."""
    log_n, r, p, salt, expected = _parts(stored)
    if (log_n, r, p) == (_LOG_N, _R, _P):
        return
    try:
        hashlib.scrypt(b"0000", salt=salt, n=2**log_n, r=r, p=p, dklen=len(expected))
    except (ValueError, MemoryError) as exc:
        raise BadPinHash(f"{_NOT_OURS} ({exc})") from None


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` is the PIN behind ``stored`` (compared in constant time)."""
    log_n, r, p, salt, expected = _parts(stored)
    if not PIN_PATTERN.match(pin):
        return False
    try:
        digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**log_n, r=r, p=p, dklen=len(expected))
    except (ValueError, MemoryError) as exc:
        raise BadPinHash(f"{_NOT_OURS} ({exc})") from None
    return hmac.compare_digest(digest, expected)
