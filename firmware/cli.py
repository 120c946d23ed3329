"""The ``valgkiosk`` command: one entry point for the kiosk, its register and its tools."""

from __future__ import annotations

import argparse
import logging
import sys

from valgkiosk import __version__


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(prog="valgkiosk", description=__doc__)
    parser.add_argument("--version", action="version", version=f"valgkiosk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from valgkiosk.register import cli as register_cli

    register_cli.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    if args.command == "register":
        from valgkiosk.register import cli as register_cli

        return register_cli.run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
