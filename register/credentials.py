"""Per-kiosk credentials: random bearer tokens, stored as SHA-256 hashes.

A credential is 32 random bytes (256 bits), so a plain SHA-256 of it cannot be
brute-forced; a slow password hash (bcrypt, argon2) would buy nothing and cost
milliseconds on every request. A short-lived in-process cache keeps the database
out of the hot path; revocation takes effect within ``ttl`` seconds.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

from valgkiosk.register.model import Kiosk
from valgkiosk.register.store import SqlStore

TOKEN_PREFIX = "vk1_"
#: A training kiosk's credential says so itself (issue 18): a register holding a real
#: election refuses it before looking it up, and a training register takes nothing else.
TRAINING_PREFIX = "vk1ovning_"


def new_token(*, training: bool = False) -> str:
    """A fresh credential to hand to one kiosk (shown once, never stored)."""
    return (TRAINING_PREFIX if training else TOKEN_PREFIX) + secrets.token_urlsafe(32)


def is_training(token: str) -> bool:
    """Whether ``token`` is a training credential (øvingsmodus)."""
    return token.startswith(TRAINING_PREFIX)


class NotTrainingElection(ValueError):
    """A training credential was asked for on a register that holds a real election."""


def token_hash(token: str) -> str:
    """What the register stores and looks up for a credential."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue(store: SqlStore, kiosk: Kiosk, *, training: bool | None = None) -> str:
    """Issue (or re-issue, replacing the old one) the credential of ``kiosk``: a training
    credential when the register's election is a training election (``training`` may
    only confirm that; a training credential for a real election is refused)."""
    election = store.election()
    held = bool(election is not None and election.training)
    if training and not held:
        raise NotTrainingElection("En øvingsnøkkel kan bare utstedes av et register med et øvingsvalg.")
    token = new_token(training=held)
    store.save_credential(token_hash(token), kiosk, datetime.now(timezone.utc))
    return token


class CredentialCache:
    """Resolves bearer tokens to kiosks, remembering answers for ``ttl`` seconds."""

    def __init__(self, store: SqlStore, *, ttl: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, Kiosk | None]] = {}
        self._lock = threading.Lock()

    def kiosk(self, token: str) -> Kiosk | None:
        """The kiosk behind ``token``, or None when it is unknown or revoked."""
        digest = token_hash(token)
        now = self._clock()
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        kiosk = self._store.kiosk_for(digest)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (now + self._ttl, kiosk)
        return kiosk
