"""The kiosks' status reports and the office's alert API (``/v1/status``, ``/v1/office/…``).

Installed into the register's app by :func:`install_office`, which also mounts the
election office's dashboard (:mod:`valgkiosk.register.dashboard`) and the API docs with
their assets served locally (:mod:`valgkiosk.register.docs`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from valgkiosk.register.api import Admin, ApiError, ErrorOut, TableKiosk
from valgkiosk.register.office import MODE_NB, StatusReport, report_json, ts
from valgkiosk.register.store import SqlStore
from valgkiosk.register.chains import ChainHead
from valgkiosk.register.store.status import Alert, ChainView, Overview, StatusAnswer, StatusStore

log = logging.getLogger("valgkiosk.register.status")


class StatusAnswerOut(BaseModel):
    received_at: datetime
    office_acknowledged_at: datetime | None
    office_acknowledged_by: str | None


def answer_json(answer: StatusAnswer) -> dict[str, Any]:
    return {"received_at": ts(answer.received_at),
            "office_acknowledged_at": None if answer.acknowledged_at is None else ts(answer.acknowledged_at),
            "office_acknowledged_by": answer.acknowledged_by}


def alert_json(a: Alert) -> dict[str, Any]:
    def opt(v: datetime | None) -> str | None:
        return None if v is None else ts(v)

    return {"id": a.id, "kiosk_id": a.kiosk_id, "kommune": a.kommune, "krets": a.krets, "bord": a.bord,
            "kind": a.kind, "detail": a.detail, "opened_at": ts(a.opened_at), "closed_at": opt(a.closed_at),
            "acknowledged_at": opt(a.acknowledged_at), "acknowledged_by": a.acknowledged_by}


def chain_json(view: ChainView | None) -> dict[str, Any] | None:
    """A kiosk's kept chain heads in brief: the latest, the latest upload's, the conflicts."""
    if view is None:
        return None

    def head(h: ChainHead | None) -> dict[str, Any] | None:
        return None if h is None else {"entries": h.entries, "hash": h.hash, "source": h.source,
                                       "signature_ok": h.signature_ok, "received_at": ts(h.received_at)}

    return {"last": head(view.last_kept), "last_upload": head(view.last_upload), "conflicts": list(view.conflicts)}


def overview_json(o: Overview, station_names: dict[tuple[str, str], str]) -> dict[str, Any]:
    return {
        "now": ts(o.now),
        "kiosks": [{
            "kiosk_id": k.kiosk_id, "kommune": k.kommune, "krets": k.krets,
            "krets_navn": station_names.get((k.kommune, k.krets), ""), "bord": k.bord,
            "mode": "silent" if k.silent else (k.report.mode if k.report else None),
            "mode_nb": MODE_NB["silent"] if k.silent else (MODE_NB[k.report.mode] if k.report else "Har aldri meldt seg"),
            "last_seen": None if k.last_seen is None else ts(k.last_seen),
            "age_s": k.age_s, "report": None if k.report is None else report_json(k.report),
            "chain": chain_json(o.chains.get(k.kiosk_id)),
        } for k in o.kiosks],
        "alerts": [alert_json(a) for a in o.alerts],
        "hours": [ts(h) for h in o.hours],
        "checkoffs_per_hour": [{"kommune": k, "krets": s, "counts": c} for (k, s), c in sorted(o.per_hour.items())],
    }


def install_office(app: FastAPI, store: SqlStore, *, now: Callable[[], datetime],
                   heartbeat_s: float = 10.0) -> StatusStore:
    """Add the status report, the office API, the dashboard and local API docs to ``app``."""
    from valgkiosk.register import dashboard, docs

    statuses = StatusStore(store, heartbeat_s=heartbeat_s)
    app.state.statuses = statuses
    router = APIRouter()
    errors: dict[int | str, dict[str, Any]] = {s: {"model": ErrorOut} for s in (401, 403, 404, 413, 422, 503)}

    @router.post("/v1/status", tags=["status"], response_model=StatusAnswerOut, responses=errors)
    async def status(body: StatusReport, kiosk: TableKiosk) -> JSONResponse:
        """The kiosk's state (mode, power, printer, counters; no personal data). Cheap: a report
        that changes nothing is answered from memory. The answer says whether the office
        has acknowledged the kiosk's current incident."""
        at = now()
        answer = statuses.answer_from_memory(kiosk, body, at)
        if answer is None:
            answer = await anyio.to_thread.run_sync(statuses.record, kiosk, body, at)
        heads = statuses.heads_to_keep(kiosk, body, at)
        if heads:
            for head in await anyio.to_thread.run_sync(statuses.keep_heads, kiosk, heads):
                if head.signature_ok is False:
                    log.warning("chain head from %s is not signed by its registered key", kiosk.kiosk_id)
        return JSONResponse(answer_json(answer))

    @router.get("/v1/office/overview", tags=["office"], responses=errors)
    def overview(admin: Admin) -> JSONResponse:
        """Every table's latest state, the open alerts and check-offs per hour per station."""
        names = {(k.kommune, k.krets): k.navn for k in store.kretser()}
        return JSONResponse(overview_json(statuses.overview(now()), names))

    @router.post("/v1/office/alerts/{alert_id}/acknowledge", tags=["office"], responses=errors)
    def acknowledge(alert_id: int, admin: Admin) -> JSONResponse:
        """The office has seen this alert (the kiosk learns it with its next report)."""
        alert = statuses.acknowledge(alert_id, admin.kiosk_id, now())
        if alert is None:
            raise ApiError(404, "not_found", "Finner ikke varselet.")
        log.info("alert %d (%s, %s) acknowledged by %s", alert.id, alert.kind, alert.kiosk_id, admin.kiosk_id)
        return JSONResponse({"alert": alert_json(alert)})

    @router.get("/v1/office/kiosks/{kiosk_id}/history", tags=["office"], responses=errors)
    def history(kiosk_id: str, admin: Admin) -> JSONResponse:
        """A kiosk's changes of state, newest first."""
        return JSONResponse({"changes": [{"received_at": ts(at), "report": report_json(r)}
                                         for at, r in statuses.history(kiosk_id)]})

    app.include_router(router)
    dashboard.install(app, store, statuses, now=now)
    docs.install(app)
    return statuses
