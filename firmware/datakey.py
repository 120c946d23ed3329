"""The data partition's key, bound to the board: derived from a secret in the Raspberry
Pi's one-time-programmable memory, never stored on the card (docs/personal-data.md).

- :class:`BoardSecret` is the port: ``read()`` gives the board's 32-byte secret.
  :class:`NvmemOtp` reads the Pi's OTP "private key" rows from the image's own kernel
  module (image-build/otp-module, ``valgkiosk_otp``): the nvmem file
  ``/sys/bus/nvmem/devices/valgkiosk-otp-private/nvmem``, 8 rows as little-endian words.
  :class:`MailboxOtp` reads the same rows through the firmware mailbox
  (``vcmailbox 0x00030081 …``, the call ``rpi-otp-private-key`` makes; it needs the
  Raspberry Pi kernel's ``/dev/vcio`` and the ``vcmailbox`` tool from raspi-utils). Both
  give the rows as ``rpi-otp-private-key`` prints them (each word big-endian), so one board
  has one secret whichever kernel reads it.
  :class:`FileSecret` reads 64 hex digits from a file: the tests' fake, and the only
  choice on a board or VM without OTP, where it protects nothing (whoever has the file
  has the key).
- :func:`source` with ``auto`` (the default) takes the module's file when the board has
  it, else the mailbox when there is a ``/dev/vcio``, else says that the board has no OTP.
- :func:`derive` turns the secret into the LUKS key: HKDF-SHA256 from the
  ``cryptography`` package (RFC 5869, the same well-kept OpenSSL binding the loggbok's
  signatures use), ``info = b"valgkiosk data partition v1"``, 32 bytes. A secret that was
  never programmed reads as zeros and is refused, never used as a key.

Command line (for ``image-build/data-crypt.sh``)::

    python -m valgkiosk.datakey derive [--secret auto|nvmem|mailbox|FILE]   # the key, raw, on stdout
    python -m valgkiosk.datakey check [--secret auto|nvmem|mailbox|FILE]    # exit 0: a usable secret

Errors are one Norwegian sentence on stderr and exit status 1; the key never goes
anywhere but stdout (to ``cryptsetup --key-file -``).
"""

from __future__ import annotations

import argparse
import errno
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

#: What the derived key is for; a new purpose (or a new scheme) gets a new label.
INFO = b"valgkiosk data partition v1"
KEY_BYTES = 32
SECRET_BYTES = 32

#: The firmware mailbox tag that reads the OTP private-key rows, and the request
#: ``rpi-otp-private-key`` sends: buffer 40 bytes, row offset 0, 8 rows.
OTP_PRIVATE_KEY_TAG = 0x00030081
MAILBOX_REQUEST = ["0x00030081", "40", "40", "0", "8", "0", "0", "0", "0", "0", "0", "0", "0"]

#: The OTP private-key rows as the valgkiosk_otp module exposes them, under /sys.
NVMEM_OTP = Path("bus/nvmem/devices/valgkiosk-otp-private/nvmem")
#: The Raspberry Pi kernel's mailbox device (what vcmailbox opens).
VCIO = Path("/dev/vcio")

#: What the IT team does about a board whose OTP key was never written.
NOT_PROGRAMMED = ("OTP-nøkkelen er ikke programmert (bare nuller): datapartisjonen kan ikke bindes til denne maskinen. "
                  "IKT: skriv nøkkelen én gang per kort med rpi-otp-private-key -w fra et Raspberry Pi OS-kort, "
                  "se it-team.md «Datapartisjonens nøkkel»")


class BoardSecretError(RuntimeError):
    """No usable board secret; the message is Norwegian, for the IT team."""


class BoardSecret(Protocol):
    """Where the board's secret comes from."""

    def read(self) -> bytes:
        """The 32-byte secret (BoardSecretError when it cannot be read)."""
        ...

    def describe(self) -> str:
        """Where it is read from, in Norwegian (for messages and the self-test)."""
        ...


def parse_mailbox_answer(text: str) -> bytes:
    """The 32 secret bytes from ``vcmailbox``'s answer: the buffer as 32-bit words,
    ``size, 0x80000000 (success), tag, 40, 0x80000000|length, offset, count, 8 rows, 0``."""
    try:
        words = [int(token, 16) for token in text.split()]
    except ValueError:
        raise BoardSecretError("svaret fra fastvaren (vcmailbox) er ikke tall") from None
    if len(words) < 15:
        raise BoardSecretError(f"svaret fra fastvaren (vcmailbox) er for kort ({len(words)} ord)")
    if words[1] != 0x80000000:
        raise BoardSecretError(f"fastvaren avviste lesingen av OTP (kode {words[1]:#010x})")
    if words[2] != OTP_PRIVATE_KEY_TAG or not words[4] & 0x80000000 or words[6] != 8:
        raise BoardSecretError("fastvaren svarte på noe annet enn lesingen av OTP-nøkkelen")
    return b"".join(w.to_bytes(4, "big") for w in words[7:15])


class MailboxOtp:
    """The Pi's OTP private-key rows, read through the firmware mailbox."""

    def __init__(self, command: str = "vcmailbox", *, timeout: float = 10.0) -> None:
        self.command, self.timeout = command, timeout

    def describe(self) -> str:
        return "kortets OTP-minne (fastvarens postkasse, vcmailbox)"

    def read(self) -> bytes:
        tool = shutil.which(self.command)
        if tool is None:
            raise BoardSecretError(f"finner ikke {self.command}: OTP-minnet kan bare leses med Raspberry Pi-kjernens "
                                   "/dev/vcio og vcmailbox (raspi-utils)")
        try:
            done = subprocess.run([tool, *MAILBOX_REQUEST], capture_output=True, text=True, timeout=self.timeout,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BoardSecretError(f"{self.command} kunne ikke kjøres ({type(exc).__name__})") from None
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or [f"status {done.returncode}"])[-1][:200]
            raise BoardSecretError(f"{self.command} kunne ikke lese OTP-minnet ({why})")
        return parse_mailbox_answer(done.stdout)


class NvmemOtp:
    """The Pi's OTP private-key rows from the valgkiosk_otp kernel module's nvmem file."""

    def __init__(self, sysfs: str | Path = "/sys") -> None:
        self.path = Path(sysfs) / NVMEM_OTP

    def describe(self) -> str:
        return "kortets OTP-minne (kjernemodulen valgkiosk_otp)"

    def present(self) -> bool:
        """Whether the module is loaded and exposes the rows."""
        return self.path.exists()

    def read(self) -> bytes:
        try:
            with self.path.open("rb") as rows:
                data = rows.read(SECRET_BYTES + 1)
        except FileNotFoundError:
            raise BoardSecretError(f"finner ikke {self.path}: kjernemodulen valgkiosk_otp er ikke lastet "
                                   "(den lastes bare på en Raspberry Pi)") from None
        except OSError as exc:
            # EIO: the firmware did not answer the read (the module says why in dmesg)
            why = errno.errorcode.get(exc.errno or 0, type(exc).__name__)
            raise BoardSecretError(f"fastvaren svarte ikke på lesingen av OTP-minnet ({why}; se dmesg, "
                                   "valgkiosk_otp)") from None
        if len(data) != SECRET_BYTES:
            raise BoardSecretError(f"{self.path} ga {len(data)} byte, ikke {SECRET_BYTES}")
        # the file holds the rows as the firmware wrote them (little-endian words); the
        # secret is the rows as rpi-otp-private-key and vcmailbox print them
        return struct.pack(">8I", *struct.unpack("<8I", data))


class NoOtp:
    """A board (or VM) with neither the module's file nor the firmware mailbox."""

    def describe(self) -> str:
        return "ingen OTP på denne maskinen"

    def read(self) -> bytes:
        raise BoardSecretError("denne maskinen har ikke noe OTP-minne å lese (ingen valgkiosk_otp, ingen /dev/vcio og "
                               "vcmailbox): det er ikke en Raspberry Pi, eller modulen lastet ikke (se dmesg)")


class FileSecret:
    """A secret written as 64 hex digits in a file: tests, and boards without OTP."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return f"filen {self.path} (ikke bundet til maskinvaren)"

    def read(self) -> bytes:
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise BoardSecretError(f"{self.path} kan ikke leses ({type(exc).__name__})") from None
        try:
            return bytes.fromhex(text)
        except ValueError:
            raise BoardSecretError(f"{self.path} skal holde 64 heksadesimale tegn") from None


def source(spec: str = "auto", *, sysfs: str | Path = "/sys", vcio: str | Path = VCIO) -> BoardSecret:
    """``auto``: the board's OTP by whichever way this kernel has (the module's file, else
    the mailbox); ``nvmem`` or ``mailbox`` for one of them; anything else a file path."""
    if spec == "nvmem":
        return NvmemOtp(sysfs)
    if spec == "mailbox":
        return MailboxOtp()
    if spec == "auto":
        nvmem = NvmemOtp(sysfs)
        if nvmem.present():
            return nvmem
        if Path(vcio).exists():
            return MailboxOtp()
        return NoOtp()
    return FileSecret(spec)


def derive(secret: bytes) -> bytes:
    """The data partition's LUKS key from the board's secret."""
    if len(secret) != SECRET_BYTES:
        raise BoardSecretError(f"hemmeligheten må være {SECRET_BYTES} byte, ikke {len(secret)}")
    if not any(secret):
        raise BoardSecretError(NOT_PROGRAMMED)
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=INFO).derive(secret)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m valgkiosk.datakey")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, what in (("derive", "write the data partition's key (raw bytes) to stdout"),
                       ("check", "exit 0 when the board has a usable secret")):
        sub = commands.add_parser(name, help=what)
        sub.add_argument("--secret", default="auto",
                         help="auto (the Pi's OTP, whichever way the kernel has), nvmem (the valgkiosk_otp module), "
                              "mailbox (vcmailbox), or a file of 64 hex digits")
        sub.add_argument("--sysfs", default="/sys", help=argparse.SUPPRESS)  # the tests' fake /sys
    args = parser.parse_args(argv)
    where = source(args.secret, sysfs=args.sysfs)
    try:
        key = derive(where.read())
    except BoardSecretError as exc:
        print(f"datanøkkelen: {exc}.", file=sys.stderr)
        return 1
    if args.command == "derive":
        sys.stdout.buffer.write(key)
        sys.stdout.buffer.flush()
    else:
        print(f"Datapartisjonens nøkkel kan utledes fra {where.describe()}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
