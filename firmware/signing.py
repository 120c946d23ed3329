"""The kiosk's loggbok key: Ed25519 from the ``cryptography`` package (OpenSSL underneath).

Made once per table at provisioning (``image-build/provision.sh`` through
:mod:`valgkiosk.provisioning`, or ``valgkiosk log keygen`` by hand), readable by the
kiosk only; its public half goes to the register (``valgkiosk register kiosk-key``, or
``issue-credential --public-key``). The kiosk signs every entry's hash, so an entry
added by someone who can write the file but does not hold the key is detected by
``valgkiosk log verify --public-key``. Why Ed25519 from ``cryptography``: small keys and
signatures (32 and 64 bytes), deterministic signing (no random numbers needed at the
table), and a well-kept binding to OpenSSL rather than hand-written crypto.

Files: the private key as PEM (PKCS#8, unencrypted: the data partition's encryption is
what protects it at rest, docs/personal-data.md), the public key as one line of hex.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


class SigningKeyError(ValueError):
    """A key file that cannot be used; the message is Norwegian."""


def generate(path: str | Path) -> str:
    """Make a new key at ``path`` (refused if one is there) and return its public key (hex)."""
    target = Path(path)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())  # fmt: skip
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    public = public_hex(key.public_key())
    Path(f"{target}.pub").write_text(public + "\n", encoding="ascii")
    return public


def public_hex(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key as 64 hex digits (how the register stores it)."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def load_signer(path: str | Path) -> tuple[Callable[[str], str], str]:
    """The signing function for the key at ``path`` and its public key (hex)."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise SigningKeyError(f"loggboknøkkelen {path} kan ikke leses ({type(exc).__name__})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"loggboknøkkelen {path} er ikke en Ed25519-nøkkel")

    def sign(digest: str) -> str:
        return key.sign(digest.encode("ascii")).hex()

    return sign, public_hex(key.public_key())


def parse_public(text: str) -> Ed25519PublicKey:
    """A public key written as 64 hex digits; ValueError (Norwegian) otherwise."""
    raw = text.strip()
    try:
        data = bytes.fromhex(raw)
        if len(data) != 32:
            raise ValueError
        return Ed25519PublicKey.from_public_bytes(data)
    except ValueError:
        raise ValueError("en offentlig nøkkel skrives som 64 heksadesimale tegn") from None


def checker(public: str) -> Callable[[str, str], bool]:
    """``check(hash, sig)`` for ``verify``: True when ``sig`` is the key's signature of ``hash``."""
    key = parse_public(public)

    def check(digest: str, sig: str) -> bool:
        try:
            key.verify(bytes.fromhex(sig), digest.encode("ascii"))
        except (InvalidSignature, ValueError):
            return False
        return True

    return check
