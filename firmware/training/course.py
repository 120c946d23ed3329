"""Øvingsmodus for a course: the training kiosk in the browser, with textual-serve.

textual-serve (Textualize's own server for Textual apps) starts the command once per
browser tab, in its own process, with Textual's web driver: every tab is an independent
training kiosk with its own embedded training register. Its page is ours
(``templates/app_index.html``: textual-serve's, with the fonts it ships instead of
Google's), so the page, the terminal's script and the fonts all come from this server and
a course room needs no internet.

The course leader's page (``/kursleder``) lists the trainees by the nickname each chose,
with the drill they are at and their scores; each session posts its progress to
``/progress`` on this server (loopback only). No personal data: the voters are synthetic
and none of them is sent, and the trainees are nicknames.
"""

from __future__ import annotations

import html
import shlex
import sys
import time
from pathlib import Path
from typing import Any

TEMPLATES = Path(__file__).resolve().parent / "templates"
LOOPBACK = ("127.0.0.1", "::1")
#: A session that has said nothing for this long is shown as gone.
QUIET_AFTER_S = 120.0


def training_command(port: int, drills: list[str]) -> str:
    """The command textual-serve starts for each tab."""
    parts = [sys.executable, "-m", "valgkiosk", "train", "--course-url", f"http://127.0.0.1:{port}/progress"]
    for folder in drills:
        parts += ["--drills", str(Path(folder).resolve())]
    return shlex.join(parts)


def leader_page(progress: dict[str, dict[str, Any]], *, now: float) -> str:
    """The course leader's page: one row per trainee (nickname, drill, scores)."""
    rows = []
    for entry in sorted(progress.values(), key=lambda e: (e.get("nickname", ""), e.get("session", ""))):
        results = entry.get("results", [])
        earned = sum(int(r.get("earned", 0)) for r in results)
        total = sum(int(r.get("total", 0)) for r in results)
        done = ", ".join(f"{html.escape(str(r.get('drill', '')))}: {int(r.get('earned', 0))}/{int(r.get('total', 0))}"
                         + (" ✔" if r.get("full") else "") for r in results) or "–"
        quiet = now - float(entry.get("seen", now)) > QUIET_AFTER_S
        rows.append(
            "<tr%s><td class='nick'>%s</td><td>%d av %d: %s</td><td>%d</td><td>%s</td><td>%s</td></tr>" % (
                " class='quiet'" if quiet else "", html.escape(str(entry.get("nickname", ""))),
                int(entry.get("drill_number", 0)), int(entry.get("drills", 0)),
                html.escape(str(entry.get("drill", ""))), len(results),
                f"{earned} av {total}" if total else "–", done))
    body = "\n".join(rows) or "<tr><td colspan='5'>Ingen deltakere ennå. Be dem åpne øvingssiden.</td></tr>"
    return f"""<!DOCTYPE html>
<html lang="nb"><head><meta charset="utf-8"><meta http-equiv="refresh" content="3">
<title>Kursleder – øvingsmodus</title>
<style>
body {{ font-family: sans-serif; margin: 2em; background: #f6f6f4; color: #222; }}
table {{ border-collapse: collapse; width: 100%; background: white; }}
th, td {{ border: 1px solid #ccc; padding: .4em .6em; text-align: left; vertical-align: top; }}
th {{ background: #2b4a6f; color: white; }}
tr.quiet {{ color: #999; }}
.mark {{ background: #b00020; color: white; padding: .2em .6em; font-weight: bold; }}
</style></head><body>
<p><span class="mark">ØVING – ikke et ekte valg</span></p>
<h1>Kursleder: deltakernes fremdrift</h1>
<p>Deltakerne velger et kallenavn når de åpner øvingssiden. Ingen personopplysninger vises her.
Siden oppdateres hvert tredje sekund.</p>
<table id="trainees"><thead><tr><th>Kallenavn</th><th>Øvelse nå</th><th>Fullført</th><th>Poeng</th>
<th>Resultater</th></tr></thead>
<tbody>
{body}
</tbody></table></body></html>
"""


def make_server(*, host: str, port: int, drills: list[str], public_url: str | None = None) -> Any:
    """The textual-serve server with the course leader's page beside it."""
    from aiohttp import web
    from textual_serve.server import Server

    progress: dict[str, dict[str, Any]] = {}

    class CourseServer(Server):
        """textual-serve's server, plus /kursleder and /progress."""

        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.add_routes([
                web.get("/kursleder", self.leader),
                web.get("/kursleder.json", self.leader_json),
                web.post("/progress", self.progress),
            ])
            return app

        async def leader(self, request: web.Request) -> web.Response:
            return web.Response(text=leader_page(progress, now=time.time()), content_type="text/html")

        async def leader_json(self, request: web.Request) -> web.Response:
            return web.json_response(sorted(progress.values(), key=lambda e: str(e.get("nickname", ""))))

        async def progress(self, request: web.Request) -> web.Response:
            if request.remote not in LOOPBACK:
                raise web.HTTPForbidden(text="Bare øvingskioskene på denne maskinen kan melde fremdrift.")
            try:
                entry = await request.json()
                session = str(entry["session"])[:64]
            except (ValueError, KeyError, TypeError):
                raise web.HTTPBadRequest(text="Ugyldig fremdriftsmelding.") from None
            keep = {k: entry.get(k) for k in ("session", "nickname", "drill", "drill_number", "drills", "results")}
            keep["nickname"] = str(keep.get("nickname") or "")[:24]
            keep["seen"] = time.time()
            progress[session] = keep
            return web.json_response({"ok": True})

    return CourseServer(training_command(port, drills), host=host, port=port, title="Valgkiosk – øvingsmodus",
                        public_url=public_url, templates_path=TEMPLATES)


def serve(*, host: str, port: int, drills: list[str], public_url: str | None = None) -> int:
    """``valgkiosk train-serve``: serve until Ctrl+C."""
    try:
        server = make_server(host=host, port=port, drills=drills, public_url=public_url)
    except ImportError:
        print("Feil: textual-serve er ikke installert (pip install 'valgkiosk[training]', eller scripts/train --serve).",
              file=sys.stderr)
        return 2
    print(f"Øvingssiden: {server.public_url}/   Kurslederens side: {server.public_url}/kursleder", flush=True)
    server.serve()
    return 0
