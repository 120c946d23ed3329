"""The election office's live dashboard (``/kontor``), served by the register.

Server-rendered with Jinja2; a few lines of JavaScript (``assets/kontor.js``) fetch the
page's content again every two seconds and send acknowledgements, so the page updates
by itself without a reload. Every asset is served from here: it works on a network with
no internet. The chart of check-offs per hour is inline SVG made here.

Access: valgstyret's admin credential, pasted once into the log-in form and kept in an
HttpOnly, SameSite=Strict cookie for this path (or sent as ``Authorization: Bearer``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from valgkiosk.register.model import Kiosk, Role
from valgkiosk.register.office import ALERT_KIND_NB, MODE_NB, PAPER_NB, clock, local
from valgkiosk.register.store import SqlStore
from valgkiosk.register.store.status import ChainView, KioskView, Overview, StatusStore

HERE = Path(__file__).parent
COOKIE = "vk_kontor"
BASE = "/kontor"
REFRESH_MS = 2000


# -- words and pictures ---------------------------------------------------------------------
def age_text(age_s: float | None) -> str:
    """How long ago, as the office says it."""
    if age_s is None:
        return "aldri"
    if age_s < 60:
        return f"{int(age_s)} s siden"
    if age_s < 3600:
        return f"{int(age_s // 60)} min siden"
    return f"{int(age_s // 3600)} t {int(age_s % 3600 // 60)} min siden"


def yes_no(value: bool | None, yes: str, no: str) -> str:
    return "Ukjent" if value is None else (yes if value else no)


def table_state(view: KioskView) -> str:
    """The row's colour class: ok, warn, alarm, silent or unknown."""
    if view.report is None:
        return "unknown"
    if view.silent:
        return "silent"
    r = view.report
    if r.mode in ("alarm", "acknowledged", "routine") or r.mains is False or r.router_power is False:
        return "alarm"
    if (r.mode == "register_back" or r.printer_paper in ("out", "low") or r.scanner_connected is False
            or r.simula_power is False or r.counts.pending_uploads > 0):
        return "warn"
    return "ok"


STATE_RANK = ["alarm", "silent", "warn", "unknown", "ok"]
STATE_NB = {"alarm": "Alarm", "silent": "Taus", "warn": "Se til", "unknown": "Ikke meldt", "ok": "I orden"}


def hour_chart(counts: list[int], hours: list[datetime], title: str) -> Markup:
    """Check-offs per hour as an inline SVG bar chart (the latest hour on the right)."""
    width, height, pad_bottom, pad_top = 240, 64, 14, 10
    n = max(1, len(hours))
    slot = width / n
    top = max(counts) if counts and max(counts) > 0 else 1
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" preserveAspectRatio="none"><title>{escape(title)}</title>']
    for i, (hour, count) in enumerate(zip(hours, counts or [0] * n)):
        h = (height - pad_bottom - pad_top) * count / top
        x = i * slot + 1
        y = height - pad_bottom - h
        cls = "bar now" if i == n - 1 else "bar"
        parts.append(f'<rect class="{cls}" x="{x:.1f}" y="{y:.1f}" width="{slot - 2:.1f}" height="{max(h, 0.5):.1f}">'
                     f'<title>kl. {local(hour):%H}: {count}</title></rect>')
        if n <= 8 or i % 3 == 0 or i == n - 1:
            parts.append(f'<text x="{x + (slot - 2) / 2:.1f}" y="{height - 2}" text-anchor="middle">'
                         f'{local(hour):%H}</text>')
    parts.append(f'<text x="2" y="8" class="max">maks {top if any(counts) else 0}/t</text></svg>')
    return Markup("".join(parts))


def chain_text(view: KioskView, chain: ChainView | None) -> tuple[str, str, bool]:
    """The loggbok cell: the head the kiosk reports, whether its kept heads (status reports
    and emergency uploads) extend each other, and True when they do not."""
    r = view.report
    head = r.chain_head if r is not None else None
    if head is None and chain is None:
        return ("Ingen føringer" if r is not None and r.loggbok_entries == 0 else "", "", False)
    now_text = f"nr. {head.entries} ({head.hash[:8]})" if head is not None else \
        f"nr. {chain.last_kept.entries} ({chain.last_kept.hash[:8]})" if chain and chain.last_kept else ""
    if chain is not None and chain.conflicts:
        return now_text, "Avvik: " + " ".join(chain.conflicts), True
    if chain is None or chain.last_kept is None:
        return now_text, "", False
    signed = {True: "signert med kioskens nøkkel", False: "ikke kioskens signatur",
              None: "nøkkelen er ikke registrert"}[chain.last_kept.signature_ok]
    if chain.last_upload is None:
        return now_text, f"ingen opplasting å sammenligne med; {signed}", False
    return now_text, f"stemmer med opplastingene (siste nr. {chain.last_upload.entries}); {signed}", False


def view_model(o: Overview, names: dict[tuple[str, str], str], admin: Kiosk) -> dict[str, Any]:
    """What the templates need, in the office's words."""
    stations: dict[tuple[str, str], dict[str, Any]] = {}
    for v in o.kiosks:
        key = (v.kommune, v.krets)
        station = stations.setdefault(key, {
            "kommune": v.kommune, "krets": v.krets, "navn": names.get(key, "") or f"Krets {v.krets}",
            "tables": [], "state": "ok"})
        state = table_state(v)
        chain_now, chain_check, chain_conflict = chain_text(v, o.chains.get(v.kiosk_id))
        if chain_conflict and state in ("ok", "unknown"):
            state = "warn"
        r = v.report
        mode = "silent" if v.silent else (r.mode if r else None)
        station["tables"].append({
            "view": v, "state": state, "state_nb": STATE_NB[state],
            "mode_nb": MODE_NB[mode] if mode else "Har aldri meldt seg",
            "since": clock((r.outage_started_at or r.mode_since) if r and r.mode != "normal" else None)
                     if r else "",
            "diagnosis": r.diagnosis() if r else "",
            "power": yes_no(r.mains, "Strøm", "Batteri") if r else "",
            "router": yes_no(r.router_power, "På", "Uten strøm") if r else "",
            "simula": yes_no(r.simula_power, "På", "Uten strøm") if r else "",
            "printer": PAPER_NB[r.printer_paper] if r else "",
            "scanner": yes_no(r.scanner_connected, "Tilkoblet", "Frakoblet") if r else "",
            "age": age_text(v.age_s),
            "chain_now": chain_now, "chain_check": chain_check, "chain_conflict": chain_conflict,
        })
        if STATE_RANK.index(state) < STATE_RANK.index(station["state"]):
            station["state"] = state
    for key, station in stations.items():
        counts = o.per_hour.get(key, [0] * len(o.hours))
        station["chart"] = hour_chart(counts, o.hours, f"Avkrysninger per time, {station['navn']}")
        station["checkoffs_hour"] = counts[-1] if counts else 0
        station["state_nb"] = STATE_NB[station["state"]]
        station["tables"].sort(key=lambda t: t["view"].bord)
    ordered = sorted(stations.values(), key=lambda s: (STATE_RANK.index(s["state"]), s["kommune"], s["krets"]))
    alerts = [{
        "a": a, "kind_nb": ALERT_KIND_NB.get(a.kind, a.kind),
        "place": f"{names.get((a.kommune, a.krets), '') or 'Krets ' + a.krets}, bord {a.bord}",
        "opened": clock(a.opened_at), "closed": clock(a.closed_at), "acknowledged": clock(a.acknowledged_at),
    } for a in o.alerts]
    summary = {s: sum(1 for st in stations.values() for t in st["tables"] if t["state"] == s) for s in STATE_RANK}
    return {"stations": ordered, "alerts": alerts, "now": local(o.now), "summary": summary,
            "open_alerts": sum(1 for a in o.alerts if a.acknowledged_at is None),
            "admin": admin.kiosk_id, "refresh_ms": REFRESH_MS, "state_nb": STATE_NB}


# -- the routes --------------------------------------------------------------------------------
def install(app: FastAPI, store: SqlStore, statuses: StatusStore, *, now: Callable[[], datetime]) -> None:
    """Mount the dashboard at ``/kontor``."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    app.mount(f"{BASE}/assets", StaticFiles(directory=HERE / "static"), name="kontor-assets")

    def admin_of(request: Request) -> Kiosk | None:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            token = request.cookies.get(COOKIE, "")
        if not token.strip():
            return None
        kiosk = request.app.state.credentials.kiosk(token.strip())
        return kiosk if kiosk is not None and kiosk.role is Role.ADMIN else None

    def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(base=BASE, **context)
        return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store",
                                                               "X-Frame-Options": "DENY"})

    def same_origin(request: Request) -> bool:
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return origin is None
        host = request.headers.get("host", "")
        return origin.split("://", 1)[-1] == host

    def content(admin: Kiosk) -> dict[str, Any]:
        names = {(k.kommune, k.krets): k.navn for k in store.kretser()}
        return view_model(statuses.overview(now()), names, admin)

    @app.get(BASE, include_in_schema=False)
    async def dashboard(request: Request) -> Response:
        admin = admin_of(request)
        if admin is None:
            return page("login.html", error=request.query_params.get("feil") is not None)
        ctx = await anyio.to_thread.run_sync(content, admin)
        return page("dashboard.html", **ctx)

    @app.get(f"{BASE}/innhold", include_in_schema=False)
    async def fragment(request: Request) -> Response:
        admin = admin_of(request)
        if admin is None:
            return HTMLResponse("", status_code=401)
        ctx = await anyio.to_thread.run_sync(content, admin)
        return page("content.html", **ctx)

    @app.post(f"{BASE}/logg-inn", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", errors="replace"))
        nokkel = (form.get("nokkel") or [""])[0][:200]
        kiosk = request.app.state.credentials.kiosk(nokkel.strip()) if nokkel.strip() else None
        if kiosk is None or kiosk.role is not Role.ADMIN or not same_origin(request):
            return RedirectResponse(f"{BASE}?feil=1", status_code=303)
        response = RedirectResponse(BASE, status_code=303)
        response.set_cookie(COOKIE, nokkel.strip(), httponly=True, samesite="strict", path=BASE,
                            secure=request.url.scheme == "https", max_age=24 * 3600)
        return response

    @app.post(f"{BASE}/logg-ut", include_in_schema=False)
    async def logout() -> Response:
        response = RedirectResponse(BASE, status_code=303)
        response.delete_cookie(COOKIE, path=BASE)
        return response

    @app.post(f"{BASE}/varsler/{{alert_id}}/kvitter", include_in_schema=False)
    async def acknowledge(alert_id: int, request: Request) -> Response:
        admin = admin_of(request)
        if admin is None or not same_origin(request):
            return HTMLResponse("Ikke innlogget.", status_code=401)
        await anyio.to_thread.run_sync(statuses.acknowledge, alert_id, admin.kiosk_id, now())
        if request.headers.get("x-kontor") == "1":
            return Response(status_code=204)
        return RedirectResponse(BASE, status_code=303)
