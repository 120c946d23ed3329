"""Per-table provisioning helpers that ``image-build/provision.sh`` runs on the IT team's
machine: the kiosk's loggbok signing key, made (or taken from a file) into the staged
boot-partition folder, and ``[log] signing_key`` set in that folder's station.toml.

On the image the key travels like the register credential: the boot partition's
``valgkiosk/loggbok.key`` is copied at boot to ``/run/valgkiosk`` (mode 0640, group
valgkiosk) and read through ``/etc/valgkiosk/loggbok.key``. Its public half is printed
(and written beside it as ``loggbok.key.pub``) so the register can be told it:
``valgkiosk register issue-credential … --public-key HEX`` or, after the credential,
``valgkiosk register kiosk-key --kiosk-id ID --public-key HEX|FILE`` (docs/loggbok.md).

Command line (for provision.sh): ``python -m valgkiosk.provisioning loggbok-key FOLDER
[--from KEY]`` prints the public key (64 hex digits) and exits 0, or prints a Norwegian
sentence on stderr and exits 1.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tomllib
from pathlib import Path

from valgkiosk import signing

#: Where the kiosk reads its key on the image (a link into /run/valgkiosk).
IMAGE_KEY_PATH = "/etc/valgkiosk/loggbok.key"
#: The key's file name in the boot partition's valgkiosk/ folder.
KEY_NAME = "loggbok.key"

_LOG_HEADER = re.compile(r"^\[log\][ \t]*(#.*)?$", re.M)


class ProvisioningError(ValueError):
    """Something the IT team must fix; the message is Norwegian."""


def with_signing_key(text: str, value: str = IMAGE_KEY_PATH) -> str:
    """``text`` (a station.toml) with ``[log] signing_key`` set to ``value`` when it sets
    none; one that already names a key is returned unchanged. The edit is textual, so the
    IT team's comments and layout stay as written."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProvisioningError(f"station.toml er ikke gyldig TOML ({exc})") from None
    log = data.get("log", {})
    if isinstance(log, dict) and "signing_key" in log:
        return text
    line = f'signing_key = "{value}"  # the loggbok\'s signing key, made at provisioning'
    header = _LOG_HEADER.search(text)
    if header is not None:
        edited = text[:header.end()] + "\n" + line + text[header.end():]
    elif "log" in data:
        raise ProvisioningError("station.toml har [log] i en form provisjoneringen ikke kan endre; "
                                f'skriv signing_key = "{value}" i [log] selv')
    else:
        edited = text.rstrip("\n") + f"\n\n[log]\n{line}\n"
    got = tomllib.loads(edited).get("log", {})
    if not isinstance(got, dict) or got.get("signing_key") != value:  # pragma: no cover - defensive
        raise ProvisioningError(f'kunne ikke sette signing_key i [log]; skriv signing_key = "{value}" selv')
    return edited


def stage_loggbok_key(folder: Path, source: Path | None = None) -> str:
    """Put the table's key into ``folder`` (made new, or copied from ``source``), point
    ``folder/station.toml`` at it, and return the public key (hex)."""
    target = folder / KEY_NAME
    if target.exists():
        raise ProvisioningError(f"{target} finnes allerede")
    if source is None:
        public = signing.generate(target)
    else:
        try:
            _, public = signing.load_signer(source)
        except signing.SigningKeyError as exc:
            raise ProvisioningError(str(exc)) from None
        shutil.copyfile(source, target)
        target.chmod(0o600)
        Path(f"{target}.pub").write_text(public + "\n", encoding="ascii")
    config = folder / "station.toml"
    config.write_text(with_signing_key(config.read_text(encoding="utf-8")), encoding="utf-8")
    return public


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m valgkiosk.provisioning")
    commands = parser.add_subparsers(dest="command", required=True)
    key = commands.add_parser("loggbok-key", help="the table's loggbok key into a staged boot folder")
    key.add_argument("folder", type=Path)
    key.add_argument("--from", dest="source", type=Path, help="an existing key (valgkiosk log keygen)")
    args = parser.parse_args(argv)
    try:
        public = stage_loggbok_key(args.folder, args.source)
    except (ProvisioningError, OSError) as exc:
        print(f"loggboknøkkelen: {exc}", file=sys.stderr)
        return 1
    print(public)
    return 0


if __name__ == "__main__":
    sys.exit(main())
