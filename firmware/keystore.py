"""The kiosk's secrets moved off the boot partition (docs/personal-data.md).

Provisioning (``image-build/provision.sh``) writes the register credential and the
loggbok's signing key into the boot partition's ``valgkiosk/`` folder: a FAT file system
that anyone holding the card can read. At every boot, ``valgkiosk-keys.service`` moves
them onto the encrypted data partition (``/data/keys``, root only) before the config
import reads them from there: each file is written whole (fsynced, read back) before
the boot partition's copy is overwritten in place with zeros, synced and deleted, so
that neither the file system nor a raw read of the card holds it afterwards. (An SD
card's controller may keep the old flash pages; see the doc.)

Command line: ``python -m valgkiosk.keystore move BOOT_FOLDER KEYS_FOLDER`` prints one
line per moved file and exits 0, or a Norwegian sentence on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from valgkiosk import printqueue

#: The secrets among the boot partition's files (the CA and the public key are not).
SECRETS = ("credential", "loggbok.key")
#: Where they live on the image, on the encrypted data partition.
KEYS_DIR = Path("/data/keys")


class KeystoreError(OSError):
    """A secret that could not be moved; the message is Norwegian, for the IT team."""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # not every file system syncs a folder (FAT may refuse); os.sync() follows
    finally:
        os.close(fd)


def destroy(path: Path) -> None:
    """Overwrite ``path``'s bytes in place with zeros, sync, then delete it (the print
    queue's destroyer, which ``valgkiosk wipe`` uses too; then the folder synced)."""
    if not printqueue.destroy(path):
        raise FileNotFoundError(f"{path} finnes ikke")
    _sync_folder(path.parent)


def store(data: bytes, target: Path) -> None:
    """``data`` into ``target`` (mode 0600), whole on disk before this returns."""
    temporary = target.with_name(f".{target.name}.new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, target)
    _sync_folder(target.parent)


def move_secrets(boot: Path, keys: Path = KEYS_DIR, names: tuple[str, ...] = SECRETS) -> list[str]:
    """Move each of ``names`` found in ``boot`` into ``keys`` (a newer copy on the boot
    partition, from provisioning the card again, replaces the one there) and destroy the
    boot partition's copy. Returns the names moved."""
    try:
        keys.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(keys, 0o700)
    except OSError as exc:
        raise KeystoreError(f"{keys} kan ikke lages ({exc.strerror or exc}); nøklene er beholdt på "
                            "oppstartspartisjonen") from None
    moved = []
    for name in names:
        source = boot / name
        if not source.is_file():
            continue
        try:
            data = source.read_bytes()
            store(data, keys / name)
            if (keys / name).read_bytes() != data:
                raise KeystoreError(f"{keys / name} ble ikke skrevet riktig; {source} er beholdt")
        except KeystoreError:
            raise
        except OSError as exc:
            raise KeystoreError(f"{source} kunne ikke flyttes til {keys} ({exc.strerror or exc}); "
                                "den er beholdt på oppstartspartisjonen") from None
        try:
            destroy(source)
        except OSError as exc:
            raise KeystoreError(f"{name} er flyttet til {keys}, men kopien på oppstartspartisjonen kunne ikke "
                                f"slettes ({exc.strerror or exc})") from None
        moved.append(name)
    os.sync()
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m valgkiosk.keystore")
    commands = parser.add_subparsers(dest="command", required=True)
    move = commands.add_parser("move", help="move the secrets from the boot partition's folder into KEYS")
    move.add_argument("boot", type=Path)
    move.add_argument("keys", type=Path, nargs="?", default=KEYS_DIR)
    args = parser.parse_args(argv)
    try:
        moved = move_secrets(args.boot, args.keys)
    except KeystoreError as exc:
        print(f"nøklene: {exc}", file=sys.stderr)
        return 1
    for name in moved:
        print(f"moved {name} to {args.keys}; the boot partition's copy overwritten and deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
