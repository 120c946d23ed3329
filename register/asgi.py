"""ASGI entry point for uvicorn: the register over the database in VALGKIOSK_REGISTER_DB."""

from __future__ import annotations

import os

from fastapi import FastAPI

from valgkiosk.register.access import LOOKUP_LIMIT, SEARCH_LIMIT, Limit
from valgkiosk.register.api import create_app
from valgkiosk.register.store import open_store


def create_from_env() -> FastAPI:
    """The app for ``uvicorn --factory valgkiosk.register.asgi:create_from_env``."""
    url = os.environ.get("VALGKIOSK_REGISTER_DB")
    if not url:
        raise SystemExit("VALGKIOSK_REGISTER_DB er ikke satt (f.eks. sqlite:////var/lib/valgkiosk/register.db).")
    store = open_store(url)
    app = create_app(store, lookup_limit=_limit("LOOKUP", LOOKUP_LIMIT), search_limit=_limit("SEARCH", SEARCH_LIMIT))
    app.router.on_shutdown.append(store.close)
    return app


def _limit(kind: str, default: Limit) -> Limit:
    """A rate limit from VALGKIOSK_REGISTER_<KIND>_RATE (a minute) and _BURST (set by ``serve``)."""
    rate = os.environ.get(f"VALGKIOSK_REGISTER_{kind}_RATE")
    burst = os.environ.get(f"VALGKIOSK_REGISTER_{kind}_BURST")
    return Limit(float(rate) if rate else default.per_minute, int(burst) if burst else default.burst)
