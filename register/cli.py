"""``valgkiosk register …``: set up, fill, serve and report on a register."""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from valgkiosk.register import credentials
from valgkiosk.register.access import LOOKUP_LIMIT, SEARCH_LIMIT
from valgkiosk.register.model import ELECTION_TYPES, Election, Kiosk, Role
from valgkiosk.register.store import SqlStore, StoreError, open_store

DB_ENV = "VALGKIOSK_REGISTER_DB"


class CliError(Exception):
    """A problem the operator must fix; printed without a traceback."""


def _db_url(args: argparse.Namespace) -> str:
    url = args.db or os.environ.get(DB_ENV)
    if not url:
        raise CliError(f"Oppgi databasen med --db eller miljøvariabelen {DB_ENV}.")
    return str(url)


@contextlib.contextmanager
def _store(args: argparse.Namespace, *, migrate: bool = False) -> Iterator[SqlStore]:
    """The register named on the command line, set up (or migrated when asked), then closed."""
    store = open_store(_db_url(args))
    try:
        _check_connection(store)
        if migrate:
            store.migrate()
        elif store.schema_version() == 0:
            raise CliError("Databasen er ikke satt opp: kjør først «valgkiosk register init».")
        yield store
    finally:
        store.close()


def _check_connection(store: SqlStore) -> None:
    """Fail at once with the server's own reason (e.g. peer authentication as the wrong
    user) instead of the pool's "PoolTimeout" after ten seconds of retries."""
    dsn = getattr(store, "dsn", None)
    if dsn is None:
        return
    import psycopg

    try:
        psycopg.connect(dsn, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
        hint = ""
        if "peer authentication failed" in reason.lower():
            import getpass

            hint = (f" Du kjører som «{getpass.getuser()}»: kjør kommandoen som brukeren i "
                    "databaseadressen (f.eks. «sudo -u valgkiosk-register …»).")
        raise CliError(f"Får ikke kontakt med databasen: {reason}.{hint}") from None


def _progress() -> Callable[[Iterable[Any], int, str], Iterator[Any]]:
    """A ``track(items, total, description)`` drawing a progress bar with rate and time left
    on stderr (rich, which Textual already brings; a plain final line when not a terminal)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn
    from rich.progress import TimeRemainingColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(f"{task.speed:,.0f} rader/s".replace(",", " ") if task.speed else "")

    def track(items: Iterable[Any], total: int, description: str) -> Iterator[Any]:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), Rate(),
                      TimeRemainingColumn(), console=Console(stderr=True)) as bar:
            task = bar.add_task(description, total=total)
            step = 0
            for item in items:
                yield item
                step += 1
                if step == 5000:
                    bar.advance(task, step)
                    step = 0
            bar.advance(task, step)
    return track


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"«{text}» er ikke en dato (ÅÅÅÅ-MM-DD)") from None


def cmd_init(args: argparse.Namespace) -> int:
    with _store(args, migrate=True) as store:
        existing = store.election()
        election = Election(args.election_type, args.election_date.year, args.election_date,
                            training=bool(getattr(args, "training", False)))
        if existing is not None and existing != election and store.voter_count() > 0:
            raise CliError(f"Registeret er allerede satt opp for {existing.title} og har velgere.")
        store.set_election(election)
        print(f"Registeret er satt opp for {election.title} ({election.date}); "
              f"valgårssiffer {election.year_digit}.")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    with contextlib.closing(open_store(_db_url(args))) as store:
        applied = store.migrate()
        print(f"Skjemaversjon {store.schema_version()} (nye migreringer: {applied or 'ingen'}).")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from valgkiosk.register.importer import import_csv

    with _store(args) as store:
        count = import_csv(store, Path(args.file), track=_progress())
        print(f"Importerte {count} velgere fra {args.file}.")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from valgkiosk.register import synthetic

    with _store(args) as store:
        election = store.election()
        if election is None:
            raise CliError("Registeret har ikke noe valg: kjør først «valgkiosk register init».")
        count = synthetic.populate(
            store, voters=args.voters, seed=args.seed, election_year=election.year,
            kommuner=args.kommuner, kretser_per_kommune=args.kretser,
            own_station_required=args.own_station_required, track=_progress(),
        )
        print(f"Laget et syntetisk manntall med {count} velgere (frø {args.seed}).")
    return 0


def cmd_issue(args: argparse.Namespace) -> int:
    with _store(args) as store:
        if args.admin:
            kiosk = Kiosk(args.kiosk_id, Role.ADMIN)
        else:
            if not (args.kommune and args.krets and args.bord):
                raise CliError("En kiosk trenger --kommune, --krets og --bord (eller --admin).")
            known = {(k.kommune, k.krets) for k in store.kretser()}
            if (args.kommune, args.krets) not in known:
                raise CliError(f"Valgkrets {args.kommune}/{args.krets} finnes ikke i registeret.")
            kiosk = Kiosk(args.kiosk_id, Role.KIOSK, args.kommune, args.krets, args.bord)
        public = _public_key(args.public_key) if args.public_key else None
        try:
            token = credentials.issue(store, kiosk, training=bool(getattr(args, "training", False)) or None)
        except credentials.NotTrainingElection as exc:
            raise CliError(str(exc)) from None
        if public is not None:
            store.save_kiosk_key(args.kiosk_id, public, datetime.now(timezone.utc))
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.touch(mode=0o600)
        out.write_text(token + "\n", encoding="utf-8")
        print(f"Tilgangsnøkkelen for {args.kiosk_id} er skrevet til {out} (vises ikke igjen).")
    else:
        print(token)
    return 0


def _public_key(value: str) -> str:
    """A loggbok public key given as 64 hex digits or as a file holding them (the
    ``loggbok.key.pub`` or ``NAME.loggbok.pub`` that keygen and provisioning write)."""
    from valgkiosk.signing import parse_public

    text = value.strip()
    if len(text) != 64 and Path(value).is_file():
        text = Path(value).read_text(encoding="ascii", errors="replace").strip()
    try:
        parse_public(text)
    except ValueError as exc:
        raise CliError(f"--public-key: {exc}.") from None
    return text.lower()


def cmd_kiosk_key(args: argparse.Namespace) -> int:
    if args.public_key is None:  # the auditor's question: which key must this kiosk's loggbok carry?
        with _store(args) as store:
            known = store.kiosk_key(args.kiosk_id)
        if known is None:
            raise CliError(f"Ingen loggboknøkkel er registrert for {args.kiosk_id}.")
        print(known)
        return 0
    public = _public_key(args.public_key)
    with _store(args) as store:
        valid = {k.kiosk_id for k, _issued, revoked in store.credentials() if revoked is None}
        if args.kiosk_id not in valid:
            raise CliError(f"Kiosken {args.kiosk_id} har ingen gyldig tilgangsnøkkel (issue-credential først).")
        store.save_kiosk_key(args.kiosk_id, public, datetime.now(timezone.utc))
    print(f"Loggboknøkkelen til {args.kiosk_id} er registrert: {public}.")
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    with _store(args) as store:
        if not store.revoke_credential(args.kiosk_id, datetime.now(timezone.utc)):
            raise CliError(f"Kiosken {args.kiosk_id} har ingen gyldig tilgangsnøkkel.")
    print(f"Tilgangsnøkkelen til {args.kiosk_id} er tilbakekalt.")
    return 0


def cmd_credentials(args: argparse.Namespace) -> int:
    with _store(args) as store:
        for kiosk, issued, revoked in store.credentials():
            where = f"{kiosk.kommune}/{kiosk.krets} bord {kiosk.bord}" if kiosk.role is Role.KIOSK else "admin"
            state = f"tilbakekalt {revoked:%Y-%m-%d %H:%M}" if revoked else "gyldig"
            print(f"{kiosk.kiosk_id:30} {where:28} utstedt {issued:%Y-%m-%d %H:%M}  {state}")
    return 0


def cmd_counts(args: argparse.Namespace) -> int:
    with _store(args) as store:
        rows = store.counts(kommune=args.kommune, krets=args.krets)
    print(f"{'kommune':8} {'krets':10} {'bord':>4} {'avkrysninger':>13} {'beredskap':>10} {'feilreg.':>9}")
    for r in rows:
        print(f"{r.kommune:8} {r.krets:10} {r.bord:>4} {r.checkoffs:>13} {r.emergency_votes:>10} "
              f"{r.misregistrations:>9}")
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    with _store(args) as store:
        duplicates = store.reconciliation()
    if args.format == "json":
        print(json.dumps([{"manntallsnummer": d.manntallsnummer, "appearances": [
            {"kind": a.kind, "at": a.at.isoformat(), "kiosk_id": a.kiosk_id, "krets": a.krets,
             "bord": a.bord} for a in d.appearances]} for d in duplicates], indent=2))
        return 0
    if not duplicates:
        print("Ingen velgere er registrert mer enn én gang.")
    for d in duplicates:
        print(f"{d.manntallsnummer[:10]} {d.manntallsnummer[10:]}:")
        for a in d.appearances:
            kind = "avkrysning" if a.kind == "checkoff" else "beredskapsstemme"
            print(f"    {a.at:%Y-%m-%d %H:%M:%S} {kind:17} krets {a.krets} bord {a.bord} ({a.kiosk_id})")
    with _store(args) as store:
        chain_conflicts = store.chain_conflicts()
    if not chain_conflicts:
        print("Kjedehodene fra alle kioskene henger sammen.")
    else:
        print("Kiosker med kjedehoder som ikke henger sammen (sammenlign loggboken med "
              "«valgkiosk log verify --expect»):")
    for c in chain_conflicts:
        print(f"  {c.kiosk_id}: {c.message}")
        for h in c.heads:
            print(f"    {h.received_at:%Y-%m-%d %H:%M:%S} {h.text()}")
    return 0


def cmd_chain_heads(args: argparse.Namespace) -> int:
    with _store(args) as store:
        heads = store.chain_heads(args.kiosk_id)
    for h in heads:
        sig = {True: "signert", False: "IKKE kioskens signatur", None: "ingen nøkkel registrert"}[h.signature_ok]
        source = {"status": "statusrapport", "emergency_upload": "opplasting"}.get(h.source, h.source)
        print(f"{h.kiosk_id:24} {h.received_at:%Y-%m-%d %H:%M:%S} {h.text()} ({sig}; {source})")
    if not heads:
        print("Ingen kjedehoder er mottatt.")
    return 0


def cmd_stations(args: argparse.Namespace) -> int:
    with _store(args) as store:
        rules = {k.kommune: k for k in store.kommuner()}
        for s in store.kretser():
            k = rules.get(s.kommune)
            rule = "eget valglokale påkrevd" if k and k.own_station_required else "hvilket som helst valglokale"
            print(f"kommune {s.kommune} ({k.navn if k else '?'})  krets {s.krets}  {s.navn}  [{rule}]")
    return 0


def cmd_set_rule(args: argparse.Namespace) -> int:
    from valgkiosk.register.model import Kommune

    with _store(args) as store:
        found = {k.kommune: k for k in store.kommuner()}.get(args.kommune)
        if found is None:
            raise CliError(f"Kommune {args.kommune} finnes ikke i registeret (se «valgkiosk register stations»).")
        required = args.own_station_required == "ja"
        store.save_places([Kommune(found.kommune, found.navn, required)], [])
        print(f"Kommune {found.kommune} ({found.navn}): "
              f"{'velgerne må stemme i sitt eget valglokale' if required else 'velgerne kan stemme i hvilket som helst valglokale'}.")
    return 0


def cmd_access_report(args: argparse.Namespace) -> int:
    from valgkiosk.register.access import alerts

    since = datetime.now(timezone.utc) - timedelta(minutes=args.minutes)
    with _store(args) as store:
        rows = store.access_summary(since)
    for r in rows:
        reasons = alerts(r, args.minutes)
        mark = "VARSEL" if reasons else "ok"
        print(f"{mark:6} {r.kiosk_id}: {r.lookups} oppslag, {r.searches} søk, {r.checkoffs} avkrysninger, "
              f"{r.rate_limited} avvist" + (f" — {'; '.join(reasons)}" if reasons else ""))
    return 1 if any(alerts(r, args.minutes) for r in rows) else 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    url = _db_url(args)
    with _store(args, migrate=True) as store:
        if store.election() is None:
            raise CliError("Registeret har ikke noe valg: kjør først «valgkiosk register init».")
    if url.startswith("sqlite") and args.workers != 1:
        raise CliError("Et SQLite-register kan bare ha én arbeidsprosess (--workers 1); "
                       "bruk PostgreSQL for flere.")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise CliError("TLS trenger både --tls-cert og --tls-key.")
    os.environ[DB_ENV] = url
    for kind in ("lookup", "search"):  # read by every worker (valgkiosk.register.asgi)
        os.environ[f"VALGKIOSK_REGISTER_{kind.upper()}_RATE"] = str(getattr(args, f"{kind}_rate"))
        os.environ[f"VALGKIOSK_REGISTER_{kind.upper()}_BURST"] = str(getattr(args, f"{kind}_burst"))
    uvicorn.run(
        "valgkiosk.register.asgi:create_from_env", factory=True,
        host=args.host, port=args.port, workers=args.workers, http=_http_protocol(),
        ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key,
        access_log=args.access_log, log_level=args.log_level, server_header=False,
        timeout_graceful_shutdown=5, log_config=log_config(args.log_level),
    )
    return 0


def _http_protocol() -> str:
    """uvicorn's HTTP protocol: httptools with one socket write per answer
    (valgkiosk.register.http_protocol), or uvicorn's own choice without httptools."""
    import importlib.util

    if importlib.util.find_spec("httptools") is None:
        return "auto"
    return "valgkiosk.register.http_protocol:CoalescingHttpToolsProtocol"


def log_config(level: str) -> dict[str, Any]:
    """Logging for ``serve``, applied by uvicorn in every worker process.

    With ``--workers`` above 1 each worker is a fresh process: the configuration
    uvicorn hands each of them must name the register's own logger too, or its lines
    reach only Python's last-resort handler (warnings and above, without time or level).
    """
    line = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": line},
            "access": {"()": "uvicorn.logging.AccessFormatter",
                       "fmt": '%(asctime)s %(levelname)s [%(process)d] uvicorn.access: '
                              '%(client_addr)s "%(request_line)s" %(status_code)s',
                       "use_colors": False},
        },
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
            "access": {"class": "logging.StreamHandler", "formatter": "access", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "valgkiosk": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn": {"handlers": ["stderr"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "psycopg": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        },
    }


def serve_args(db_url: str, *, host: str = "127.0.0.1", port: int = 8470) -> argparse.Namespace:
    """Arguments for ``cmd_serve`` when another command starts the register."""
    return argparse.Namespace(func=cmd_serve, db=db_url, host=host, port=port, workers=1, tls_cert=None,
                              tls_key=None, access_log=False, log_level="warning",
                              lookup_rate=LOOKUP_LIMIT.per_minute, lookup_burst=LOOKUP_LIMIT.burst,
                              search_rate=SEARCH_LIMIT.per_minute, search_burst=SEARCH_LIMIT.burst)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``register`` and its subcommands to the ``valgkiosk`` command."""
    reg = sub.add_parser("register", help="the electronic register service")
    cmds = reg.add_subparsers(dest="register_command", required=True, metavar="COMMAND")

    def command(name: str, func: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = cmds.add_parser(name, help=help, description=help)
        p.add_argument("--db", help=f"database: sqlite:///fil.db or postgresql://… (default: ${DB_ENV})")
        p.set_defaults(func=func)
        return p

    p = command("init", cmd_init, "create or migrate the schema and set the election")
    p.add_argument("--election-type", choices=sorted(ELECTION_TYPES), default="stortingsvalg")
    p.add_argument("--election-date", type=_date, required=True, help="election day, YYYY-MM-DD")
    p.add_argument("--training", action="store_true",
                   help="a training election (øvingsvalg): only training kiosks, never a real one")

    command("migrate", cmd_migrate, "apply schema migrations")

    p = command("import", cmd_import, "import voters from a CSV file (all rows or none)")
    p.add_argument("file")

    p = command("generate", cmd_generate, "fill the register with a synthetic register")
    p.add_argument("--voters", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=2025)
    p.add_argument("--kommuner", type=int, default=1)
    p.add_argument("--kretser", type=int, default=4, help="stations per kommune")
    p.add_argument("--own-station-required", action="store_true")

    p = command("issue-credential", cmd_issue, "issue (or replace) a kiosk's credential")
    p.add_argument("--kiosk-id", required=True)
    p.add_argument("--kommune")
    p.add_argument("--krets")
    p.add_argument("--bord", type=int)
    p.add_argument("--admin", action="store_true", help="a credential for valgstyret's reports")
    p.add_argument("--training", action="store_true",
                   help="insist on a training credential (refused unless the election is a training election)")
    p.add_argument("--out", help="write the credential to this file (mode 600) instead of printing it")
    p.add_argument("--public-key", metavar="HEX|FILE",
                   help="the kiosk's loggbok public key (from provision.sh or «valgkiosk log keygen»)")

    p = command("kiosk-key", cmd_kiosk_key,
                "register (or replace) a kiosk's loggbok public key; without --public-key, print it")
    p.add_argument("--kiosk-id", required=True)
    p.add_argument("--public-key", metavar="HEX|FILE",
                   help="64 hex digits, or the NAME.loggbok.pub that provision.sh wrote")

    p = command("revoke-credential", cmd_revoke, "revoke a kiosk's credential")
    p.add_argument("--kiosk-id", required=True)

    command("credentials", cmd_credentials, "list issued credentials")
    command("stations", cmd_stations, "list the municipalities and stations (for issue-credential)")
    p = command("set-rule", cmd_set_rule, "whether a municipality's voters must vote at their own station")
    p.add_argument("--kommune", required=True)
    p.add_argument("--own-station-required", choices=["ja", "nei"], required=True)
    p = command("access-report", cmd_access_report,
                "lookups and searches per credential; exit 1 when one looks like a scraper")
    p.add_argument("--minutes", type=int, default=60)

    p = command("counts", cmd_counts, "check-offs, emergency votes and misregistrations per table")
    p.add_argument("--kommune")
    p.add_argument("--krets")

    p = command("reconcile", cmd_reconcile, "voters recorded more than once, for valgstyret")
    p.add_argument("--format", choices=["text", "json"], default="text")

    p = command("chain-heads", cmd_chain_heads, "the loggbok heads each kiosk sent (for log verify --expect)")
    p.add_argument("--kiosk-id")

    p = command("serve", cmd_serve, "serve the register's HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8470)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--access-log", action="store_true")
    p.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--lookup-rate", type=float, default=LOOKUP_LIMIT.per_minute,
                   help="lookups a minute per credential and process (0: no limit; default %(default)g)")
    p.add_argument("--lookup-burst", type=int, default=LOOKUP_LIMIT.burst, help="default %(default)d")
    p.add_argument("--search-rate", type=float, default=SEARCH_LIMIT.per_minute,
                   help="searches a minute per credential and process (0: no limit; default %(default)g)")
    p.add_argument("--search-burst", type=int, default=SEARCH_LIMIT.burst, help="default %(default)d")


def run(args: argparse.Namespace) -> int:
    """Run a ``register`` subcommand, turning operator errors into clear messages."""
    if args.func is not cmd_serve:  # one clear line below instead of the pool's retries
        logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)
    try:
        return int(args.func(args))
    except (CliError, StoreError) as exc:
        print(f"Feil: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # import validation errors carry their own Norwegian text
        print(f"Feil: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not isinstance(exc, (sqlite3.OperationalError, *_pg_errors())):
            raise
        print(f"Feil: får ikke kontakt med databasen ({type(exc).__name__}).", file=sys.stderr)
        return 3


def _pg_errors() -> tuple[type[Exception], ...]:
    import psycopg
    import psycopg_pool

    return (psycopg.OperationalError, psycopg_pool.PoolTimeout)


logging.getLogger("valgkiosk").addHandler(logging.NullHandler())
