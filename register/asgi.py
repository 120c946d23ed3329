"""ASGI entry point for uvicorn: the register over the database in VALGKIOSK_REGISTER_DB."""

from __future__ import annotations

import os

from fastapi import FastAPI

from valgkiosk.register.api import create_app
from valgkiosk.register.store import open_store


def create_from_env() -> FastAPI:
    """The app for ``uvicorn --factory valgkiosk.register.asgi:create_from_env``."""
    url = os.environ.get("VALGKIOSK_REGISTER_DB")
    if not url:
        raise SystemExit("VALGKIOSK_REGISTER_DB er ikke satt (f.eks. sqlite:////var/lib/valgkiosk/register.db).")
    store = open_store(url)
    app = create_app(store)
    app.router.on_shutdown.append(store.close)
    return app
