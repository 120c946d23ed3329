"""The ``valgkiosk`` command: one entry point for the kiosk, its register and its tools."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from valgkiosk import __version__

DEFAULT_LOGGBOK = "/var/lib/valgkiosk/loggbok.jsonl"


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = argparse.ArgumentParser(prog="valgkiosk", description=__doc__)
    parser.add_argument("--version", action="version", version=f"valgkiosk {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from valgkiosk.register import cli as register_cli

    register_cli.add_parser(sub)

    log = sub.add_parser("log", help="the kiosk's loggbok: show, verify, export")
    log.add_argument("--file", default=os.environ.get("VALGKIOSK_LOGGBOK", DEFAULT_LOGGBOK),
                     help=f"the loggbok file (default: $VALGKIOSK_LOGGBOK or {DEFAULT_LOGGBOK})")
    log_cmds = log.add_subparsers(dest="log_command", required=True, metavar="COMMAND")
    show = log_cmds.add_parser("show", help="print every entry as a sentence (times on the election's clock)")
    show.add_argument("--json", action="store_true", help="the machine form instead: one JSON object per entry")
    show.add_argument("--time-zone", default=None,
                      help="the people's clock (default: the station file's, else Europe/Oslo)")
    verify = log_cmds.add_parser("verify", help="check the hash chain; exit 1 if broken")
    verify.add_argument("--expect", action="append", default=[], metavar="COUNT:HASH",
                        help="a chain head printed on a receipt or kept by the register; the loggbok "
                             "must reach it (may be given several times)")
    verify.add_argument("--public-key", metavar="HEX|FILE",
                        help="the kiosk's public key (from the register); every entry must be signed by it")
    keygen = log_cmds.add_parser("keygen", help="make the kiosk's loggbok signing key (at provisioning)")
    keygen.add_argument("--key", required=True, help="where the private key goes (the public key: KEY.pub)")
    export = log_cmds.add_parser("export", help="write the loggbok as CSV or JSON")
    export.add_argument("--format", choices=["csv", "json"], default="csv")

    wipe = sub.add_parser("wipe", help="after the election: export and verify the loggbok, then destroy the "
                                       "personal data on the data partition")
    wipe.add_argument("--data", default="/var/lib/valgkiosk", help="the data partition's folder (default: %(default)s)")
    wipe.add_argument("--loggbok", help="the loggbok (default: DATA/loggbok.jsonl)")
    wipe.add_argument("--export-to", required=True, help="a folder outside the data partition (a USB stick)")
    wipe.add_argument("--expect", action="append", default=[], metavar="COUNT:HASH",
                      help="a printed or registered chain head the loggbok must reach")
    wipe.add_argument("--public-key", metavar="HEX|FILE", help="the kiosk's public key from the register")
    wipe.add_argument("--also", action="append", default=[], metavar="FILE",
                      help="another file to destroy (e.g. a technical log outside DATA)")
    wipe.add_argument("--even-if-damaged", action="store_true",
                      help="export and wipe a loggbok that does not verify (the problems go into the export)")
    wipe.add_argument("--luks-device", metavar="DEVICE",
                      help="the encrypted data partition: its keyslots are destroyed last (cryptsetup luksErase)")
    wipe.add_argument("--yes", action="store_true", help="really destroy (without it: only say what would go)")

    demo = sub.add_parser("demo", help="run the demo: a synthetic register (and the kiosk in sim mode)")
    demo.add_argument("--folder", default=".demo", help="where the demo keeps its files")
    demo.add_argument("--port", type=int, default=8470)
    demo.add_argument("--register-only", action="store_true",
                      help="serve only the demo register (no kiosk)")

    pin = sub.add_parser("pin-hash", help="make the [emergency] chair_pin_hash for the chair's PIN")
    pin.add_argument("--stdin", action="store_true", help="read the PIN from standard input (for scripts)")

    from valgkiosk import clockservice

    clockservice.add_parser(sub)
    from valgkiosk.training import cli as training_cli

    training_cli.add_parser(sub)
    add_run_arguments(sub.add_parser("run", help="run the kiosk on this table's screen"))
    add_run_arguments(sub.add_parser("selftest", help="the IT team's self-test of this kiosk (stop the kiosk first); "
                                                      "exit 0 only when every required check passed"))
    return parser


def run_pin_hash(args: argparse.Namespace) -> int:
    """``valgkiosk pin-hash``: ask for the PIN twice (or read it from stdin), print its hash."""
    import getpass

    from valgkiosk.pin import hash_pin

    if args.stdin:
        pin = sys.stdin.readline().strip()
    else:
        pin = getpass.getpass("PIN-kode for stemmestyrets leder (4–8 sifre): ")
        if getpass.getpass("Gjenta PIN-koden: ") != pin:
            print("Feil: PIN-kodene er ikke like.", file=sys.stderr)
            return 2
    try:
        stored = hash_pin(pin)
    except ValueError as exc:
        print(f"Feil: {exc}.", file=sys.stderr)
        return 2
    print(f'chair_pin_hash = "{stored}"')
    return 0


def add_run_arguments(run: argparse.ArgumentParser) -> None:
    """The options of ``valgkiosk run``."""
    run.add_argument("--sim", action="store_true", help="simulated hardware (a laptop, the demo, tests)")
    run.add_argument("--config", help="station configuration (default: /etc/valgkiosk/station.toml; "
                                      "with --sim: config/sim-offline.toml)")


def run_log(args: argparse.Namespace) -> int:
    """``valgkiosk log …``: read the loggbok without changing it (``keygen`` makes a key)."""
    from pathlib import Path

    from valgkiosk.core.loggbok import BadLine, Head, from_line, verify
    from valgkiosk.journal import export, read_lines

    if args.log_command == "keygen":
        from valgkiosk import signing

        try:
            public = signing.generate(args.key)
        except FileExistsError:
            print(f"Feil: {args.key} finnes allerede; en kiosk har én nøkkel.", file=sys.stderr)
            return 2
        print(public)
        return 0
    path = Path(args.file)
    try:
        lines = read_lines(path)
    except FileNotFoundError:
        print(f"Feil: finner ikke loggboken {path}.", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"Feil: loggboken {path} kan ikke leses ({exc.strerror}).", file=sys.stderr)
        return 2
    if args.log_command == "verify":
        try:
            heads = [Head.parse(text) for text in args.expect]
            check = _public_key_check(args.public_key) if args.public_key else None
        except ValueError as exc:
            print(f"Feil: {exc}.", file=sys.stderr)
            return 2
        problems = verify(lines, expect=heads, check_signature=check)
        for problem in problems:
            print(problem.message)
        if problems:
            print(f"Loggboken {path} er IKKE intakt ({len(problems)} feil).")
            return 1
        signed = "alle signert med kioskens nøkkel" if check else "signaturene er ikke kontrollert (--public-key)"
        reached = f", når kjedehodet {', '.join(h.short() for h in heads)}" if heads else ""
        print(f"Loggboken {path} er intakt: {len(lines)} føringer, kjeden er hel{reached}; {signed}.")
        if not heads:
            print("Merk: uten --expect (et kjedehode fra avslutningsrapporten eller manntallet) kan kjeden ikke "
                  "vise om føringer er slettet fra slutten.")
        return 0
    entries = []
    for number, line in enumerate(lines, start=1):
        try:
            entries.append(from_line(line))
        except BadLine:
            print(f"Advarsel: linje {number} er ødelagt og er utelatt.", file=sys.stderr)
    if args.log_command == "export":
        sys.stdout.write(export(entries, args.format))
        return 0
    if args.json:
        sys.stdout.write(export(entries, "json") + "\n")
        return 0
    from valgkiosk.core import peopletime, sentences

    try:
        peopletime.configure(args.time_zone or _configured_zone())
    except ValueError as exc:
        print(f"Feil: {exc}.", file=sys.stderr)
        return 2
    for e in entries:
        print(f"{e.seq:>5}  {sentences.sentence(e)}")
    return 0


def _public_key_check(value: str):  # type: ignore[no-untyped-def]
    """The signature check for ``--public-key``: 64 hex digits, or a file holding them."""
    from pathlib import Path

    from valgkiosk import signing

    text = value
    if len(value.strip()) != 64 and Path(value).exists():
        text = Path(value).read_text(encoding="ascii", errors="replace")
    return signing.checker(text)


def _configured_zone() -> str:
    """The station file's ``[election] time_zone`` if the file is there and says one."""
    import tomllib
    from pathlib import Path

    from valgkiosk.config import DEFAULT_PATH
    from valgkiosk.core.peopletime import DEFAULT_ZONE

    try:
        zone = tomllib.loads(Path(DEFAULT_PATH).read_text(encoding="utf-8")).get("election", {}).get("time_zone")
    except (OSError, ValueError):
        return DEFAULT_ZONE
    return zone if isinstance(zone, str) and zone else DEFAULT_ZONE


def run_demo(args: argparse.Namespace) -> int:
    """The demo: the register on loopback and the kiosk in sim mode (or the register alone)."""
    from pathlib import Path

    from valgkiosk import demo

    if not args.register_only:
        return demo.run(Path(args.folder), args.port)
    prepared = demo.prepare(Path(args.folder))
    demo.print_cards(prepared)
    print(f"Manntallet svarer på http://127.0.0.1:{args.port} (API: /docs); "
          f"kioskens tilgangsnøkkel ligger i {prepared.credential_file}. Stopp med Ctrl+C.")
    from valgkiosk.register import cli as register_cli

    return register_cli.run(register_cli.serve_args(prepared.db_url, port=args.port))


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["run"]:
        # The kiosk's own start on tty1: skip building the register's commands (their
        # imports are start-up time the kiosk never uses).
        run = argparse.ArgumentParser(prog="valgkiosk run")
        add_run_arguments(run)
        options = run.parse_args(argv[1:])
        from valgkiosk.bootstrap import run_kiosk

        return run_kiosk(options.config, options.sim)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    if args.command == "register":
        from valgkiosk.register import cli as register_cli

        return register_cli.run(args)
    if args.command == "demo":
        return run_demo(args)
    if args.command == "log":
        return run_log(args)
    if args.command == "selftest":
        from valgkiosk.bootstrap import run_selftest

        return run_selftest(args.config, args.sim)
    if args.command == "clock":
        from valgkiosk import clockservice

        return clockservice.run(args)
    if args.command == "pin-hash":
        return run_pin_hash(args)
    if args.command == "wipe":
        return run_wipe(args)
    if args.command in ("train", "train-serve"):
        from valgkiosk.training import cli as training_cli

        return training_cli.run(args)
    return 2


def run_wipe(args: argparse.Namespace) -> int:
    """``valgkiosk wipe``: see valgkiosk.wipe."""
    from pathlib import Path

    from valgkiosk.core.loggbok import Head
    from valgkiosk.wipe import EraseFailed, WipeRefused, wipe

    data = Path(args.data)
    if not data.is_dir():
        print(f"Feil: {data} finnes ikke.", file=sys.stderr)
        return 2
    if not args.yes:
        files = sorted(p for p in data.rglob("*") if p.is_file())
        print(f"Uten --yes slettes ingenting. Med --yes eksporteres loggboken til {args.export_to}, "
              f"og disse {len(files)} filene overskrives og slettes:")
        for p in files:
            print(f"  {p}")
        return 1
    try:
        heads = [Head.parse(text) for text in args.expect]
        check = _public_key_check(args.public_key) if args.public_key else None
        key_file = Path(args.public_key) if args.public_key and Path(args.public_key).is_file() else None
        report = wipe(data, Path(args.export_to), loggbok=Path(args.loggbok) if args.loggbok else None,
                      expect=heads, check_signature=check, even_if_damaged=args.even_if_damaged,
                      extra=[Path(p) for p in args.also],
                      luks_device=Path(args.luks_device) if args.luks_device else None,
                      also_export={"loggbok.key.pub": key_file.read_bytes()} if key_file else None)  # fmt: skip
    except ValueError as exc:
        print(f"Feil: {exc}.", file=sys.stderr)
        return 2
    except WipeRefused as exc:
        print(f"Slettet ingenting: {exc}", file=sys.stderr)
        return 2
    except EraseFailed as exc:
        print(f"Ikke ferdig: {exc}", file=sys.stderr)
        return 3
    print(f"Loggboken er eksportert og kontrollert i {report.export_dir} (kjedehode {report.head.text()}).")
    print(f"{len(report.destroyed)} filer med mulige personopplysninger er overskrevet og slettet.")
    if report.luks_erased is not None:
        print(f"Nøkkelplassene på {report.luks_erased} er slettet: datapartisjonen kan ikke leses igjen.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
