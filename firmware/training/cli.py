"""``valgkiosk train``: the training kiosk in this terminal, and ``valgkiosk train serve`` for a
course in the browser (valgkiosk.training.course)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any


def add_parser(sub: Any) -> None:
    """The ``train`` command and its options."""
    p = sub.add_parser("train", help="øvingsmodus: the kiosk against a training register, with scored drills")
    p.add_argument("--drill", help="start with this drill (its id; default: the first)")
    p.add_argument("--drills", action="append", default=[], metavar="DIR",
                   help="a folder of the municipality's own drill files (may be given several times)")
    p.add_argument("--nickname", default="", help="the trainee's nickname (on the course leader's page)")
    p.add_argument("--list", action="store_true", help="list the drills and exit")
    p.add_argument("--course-url", default="", help=argparse.SUPPRESS)  # set by `train serve` for each tab
    p.add_argument("--register", metavar="URL",
                   help="a training register served elsewhere (default: the embedded one); refused unless it "
                        "holds a training election")
    p.add_argument("--credential-file", help="the training credential for --register")
    p.add_argument("--folder", help="where the session keeps its files (default: a new temporary folder)")
    serve = sub.add_parser("train-serve", help="serve the training kiosk to browsers for a course (textual-serve)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8480)
    serve.add_argument("--drills", action="append", default=[], metavar="DIR")
    serve.add_argument("--public-url", default=None, help="the address trainees' browsers use")


def _external_register(url: str, credential_file: str | None) -> tuple[Any, str]:
    """The Register port of a training register elsewhere, or why it is refused."""
    from valgkiosk.register_client import HttpRegister

    from .register import REAL_CREDENTIAL_REFUSED, check_register, credential_is_training

    if not credential_file:
        return None, "--register trenger --credential-file (øvingsnøkkelen)."
    try:
        token = Path(credential_file).read_text(encoding="utf-8").strip()
    except OSError as exc:
        return None, f"Filen med øvingsnøkkelen, {credential_file}, kan ikke leses ({exc.strerror})."
    if not credential_is_training(token):
        return None, REAL_CREDENTIAL_REFUSED
    register = HttpRegister(url, token)

    async def check() -> str:
        return await check_register(register)

    problem = asyncio.run(check())
    if problem:
        return None, problem
    return HttpRegister(url, token), ""


def run(args: argparse.Namespace) -> int:
    """``valgkiosk train``."""
    from . import drills as dr
    from .app import build_training_app

    if getattr(args, "command", "") == "train-serve":
        from .course import serve

        return serve(host=args.host, port=args.port, drills=args.drills, public_url=args.public_url)
    catalogue = dr.load(args.drills)
    for problem in catalogue.problems:
        print(f"Merk: {problem}", file=sys.stderr)
    if args.list:
        for n, drill in enumerate(catalogue.drills, 1):
            print(f"{n:>2}. {drill.id:<32} {drill.title}")
        return 0
    first = 0
    if args.drill:
        ids = [d.id for d in catalogue.drills]
        if args.drill not in ids:
            print(f"Feil: finner ingen øvelse «{args.drill}» (valgkiosk train --list).", file=sys.stderr)
            return 2
        first = ids.index(args.drill)
    register = None
    if args.register:
        register, problem = _external_register(args.register, args.credential_file)
        if problem:
            print(f"Feil: {problem}", file=sys.stderr)
            return 2
    import logging
    import tempfile

    from valgkiosk.bootstrap import _setup_logging

    with tempfile.TemporaryDirectory(prefix="valgkiosk-oving-") as scratch:
        folder = Path(args.folder) if args.folder else Path(scratch)
        if args.course_url:  # a browser tab: the log goes to the session's folder, not to the page
            root = logging.getLogger()
            for handler in list(root.handlers):
                root.removeHandler(handler)
            logging.basicConfig(filename=folder / "oving.log", level=logging.INFO, force=True)
        else:
            _setup_logging(None)
        app = build_training_app(catalogue, folder=folder, first=first, nickname=args.nickname,
                                 course_url=args.course_url, register=register)
        return int(app.run() or 0)
