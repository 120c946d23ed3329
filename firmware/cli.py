"""The ``valgkiosk`` command: one entry point for the kiosk, its register and its tools."""

from __future__ import annotations

import argparse
import logging
import sys

from valgkiosk import __version__
from valgkiosk.register import cli as register_cli


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(prog="valgkiosk", description=__doc__)
    parser.add_argument("--version", action="version", version=f"valgkiosk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    register_cli.add_parser(sub)

    demo = sub.add_parser("demo", help="run the demo: a synthetic register (and the kiosk in sim mode)")
    demo.add_argument("--folder", default=".demo", help="where the demo keeps its files")
    demo.add_argument("--port", type=int, default=8470)
    return parser


def run_demo(args: argparse.Namespace) -> int:
    """Prepare the demo register and serve it on loopback."""
    from pathlib import Path

    from valgkiosk import demo

    prepared = demo.prepare(Path(args.folder))
    demo.print_cards(prepared)
    print(f"Registeret svarer på http://127.0.0.1:{args.port} (API: /docs); "
          f"kioskens legitimasjon ligger i {prepared.credential_file}. Stopp med Ctrl+C.")
    return register_cli.run(register_cli.serve_args(prepared.db_url, port=args.port))


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    if args.command == "register":
        return register_cli.run(args)
    if args.command == "demo":
        return run_demo(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
