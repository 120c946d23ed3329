"""The chair's PIN: stored only as a salted scrypt hash in the station configuration.

scrypt from Python's standard library (``hashlib.scrypt``, OpenSSL underneath) is a
memory-hard password hash: a four-to-eight digit PIN has few enough values that a fast
hash could be reversed from a copied configuration file in seconds; scrypt at these
parameters makes every guess cost ~16 MB and tens of milliseconds. No extra dependency.

Format: ``scrypt$<log2 n>$<r>$<p>$<salt, base64>$<hash, base64>``.
"""

from __future__ import annotations

import base64
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


def check_format(stored: str) -> None:
    """Raise :class:`BadPinHash` unless ``stored`` looks like :func:`hash_pin`'s output."""
    m = _FORMAT.match(stored)
    if not m or not 10 <= int(m.group(1)) <= 20:
        raise BadPinHash("ikke en PIN-hash laget av «valgkiosk pin-hash»")


def verify_pin(pin: str, stored: str) -> bool:
    """True when ``pin`` is the PIN behind ``stored`` (compared in constant time)."""
    check_format(stored)
    m = _FORMAT.match(stored)
    assert m is not None
    log_n, r, p = int(m.group(1)), int(m.group(2)), int(m.group(3))
    salt, expected = base64.b64decode(m.group(4)), base64.b64decode(m.group(5))
    if not PIN_PATTERN.match(pin):
        return False
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=2**log_n, r=r, p=p, dklen=len(expected))
    return hmac.compare_digest(digest, expected)
