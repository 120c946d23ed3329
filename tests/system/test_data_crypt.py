"""The data partition's encryption bound to the board (issue 13): the key derived from the
Pi's OTP secret (valgkiosk.datakey: the reader of the valgkiosk_otp module's nvmem file
over a fake /sys, the mailbox reader against a stand-in ``vcmailbox`` that answers as the
firmware does, ``auto``'s choice between them, a file-backed secret), otp-load (the module
loaded on a Pi only), and image-build/data-crypt.sh,
which formats, opens and erases the LUKS2 volume: its wiring checked against a recording
``cryptsetup``, and for real on a loop device where the kernel has device-mapper."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from valgkiosk import datakey

REPO = Path(__file__).parents[2]
SCRIPT = REPO / "image-build" / "data-crypt.sh"
SECRET = bytes.fromhex("f8dbc7b0a4fcfb1d706e298ac9d0485c2226ce8df7f7596ac77337bd09fbe160")
#: What `vcmailbox 0x00030081 40 40 0 8 0 …` prints on a Pi whose OTP key holds SECRET
#: (the documented example of the Raspberry Pi documentation's "Device private key").
ANSWER = ("0x00000040 0x80000000 0x00030081 0x00000028 0x80000028 0x00000000 0x00000008 0xf8dbc7b0 "
          "0xa4fcfb1d 0x706e298a 0xc9d0485c 0x2226ce8d 0xf7f7596a 0xc77337bd 0x09fbe160 0x00000000\n")


def rfc5869(ikm: bytes, info: bytes, length: int) -> bytes:
    """HKDF-SHA256 with an empty salt, written out from RFC 5869 (independent of the code)."""
    prk = hmac.new(b"\0" * 32, ikm, hashlib.sha256).digest()
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out, i = out + block, i + 1
    return out[:length]


def test_the_key_is_hkdf_sha256_of_the_secret_for_this_purpose() -> None:
    key = datakey.derive(SECRET)
    assert key == rfc5869(SECRET, b"valgkiosk data partition v1", 32)
    assert key != rfc5869(SECRET, b"valgkiosk data partition v2", 32)
    assert datakey.derive(bytes(31) + b"\1") != key


def test_an_unprogrammed_or_wrong_sized_secret_is_never_a_key() -> None:
    with pytest.raises(datakey.BoardSecretError, match="ikke programmert"):
        datakey.derive(bytes(32))
    with pytest.raises(datakey.BoardSecretError, match="32 byte"):
        datakey.derive(SECRET[:16])


def fake_tool(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / name
    tool.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    tool.chmod(0o755)
    return tool


def test_the_mailbox_reader_asks_as_rpi_otp_private_key_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_ = tmp_path / "bin"
    fake_tool(bin_, "vcmailbox", f'echo "$@" > {tmp_path}/asked\nprintf "%s" "{ANSWER.strip()}"')
    monkeypatch.setenv("PATH", f"{bin_}:{os.environ['PATH']}")
    assert datakey.MailboxOtp().read() == SECRET
    assert (tmp_path / "asked").read_text(encoding="ascii").split() == datakey.MAILBOX_REQUEST


@pytest.mark.parametrize(("answer", "message"), [
    (ANSWER.replace("0x80000000 0x00030081", "0x80000001 0x00030081"), "avviste"),
    (ANSWER.replace("0x00030081", "0x00030021"), "noe annet"),
    ("0x00000040 0x80000000", "for kort"),
    ("vcmailbox: mmap failed", "ikke tall"),
])
def test_a_firmware_answer_that_is_not_the_key_is_refused(answer: str, message: str) -> None:
    with pytest.raises(datakey.BoardSecretError, match=message):
        datakey.parse_mailbox_answer(answer)


def test_no_mailbox_says_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no vcmailbox: a Debian kernel, QEMU, a laptop
    with pytest.raises(datakey.BoardSecretError, match="/dev/vcio"):
        datakey.MailboxOtp().read()
    fake_tool(tmp_path, "vcmailbox", 'echo "Failed to open /dev/vcio" >&2; exit 1')
    with pytest.raises(datakey.BoardSecretError, match="Failed to open /dev/vcio"):
        datakey.MailboxOtp().read()


#: The eight rows of ANSWER as the firmware writes them and valgkiosk_otp's nvmem file holds
#: them: 32-bit words, little-endian.
ROWS = [int(word, 16) for word in ANSWER.split()[7:15]]
NVMEM_FILE = struct.pack("<8I", *ROWS)


def fake_sysfs(root: Path, content: bytes | None = NVMEM_FILE) -> Path:
    """A /sys with the module's nvmem device (as the kernel lays it out), ``content`` in its file."""
    device = root / "bus" / "nvmem" / "devices" / "valgkiosk-otp-private"
    device.mkdir(parents=True)
    if content is not None:
        (device / "nvmem").write_bytes(content)
    return root


def test_the_module_file_gives_the_secret_rpi_otp_private_key_prints(tmp_path: Path) -> None:
    sysfs = fake_sysfs(tmp_path / "sys")
    secret = datakey.NvmemOtp(sysfs).read()
    # the same secret as the mailbox's answer for the same rows: one board, one key, whichever kernel
    assert secret == SECRET == datakey.parse_mailbox_answer(ANSWER)
    assert secret.hex() == "".join(f"{row:08x}" for row in ROWS)  # rpi-otp-private-key's output
    assert datakey.NvmemOtp(sysfs).read() != NVMEM_FILE  # the words turned, not the file as it is


@pytest.mark.parametrize(("content", "message"), [
    (NVMEM_FILE[:16], "ga 16 byte"),
    (b"", "ga 0 byte"),
    (NVMEM_FILE + b"\0", "ga 33 byte"),
])
def test_a_module_file_that_is_not_eight_rows_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(datakey.BoardSecretError, match=message):
        datakey.NvmemOtp(fake_sysfs(tmp_path / "sys", content)).read()


def test_a_failed_firmware_read_is_an_error_not_zeros(tmp_path: Path) -> None:
    # the module answers EIO when the firmware did not answer; here: a file that cannot be read
    sysfs = fake_sysfs(tmp_path / "sys", None)
    (sysfs / datakey.NVMEM_OTP).mkdir()
    with pytest.raises(datakey.BoardSecretError, match="fastvaren svarte ikke.*EISDIR.*dmesg"):
        datakey.NvmemOtp(sysfs).read()
    with pytest.raises(datakey.BoardSecretError, match="valgkiosk_otp er ikke lastet"):
        datakey.NvmemOtp(tmp_path / "no-sys").read()


def test_auto_takes_the_module_then_the_mailbox_then_says_there_is_no_otp(tmp_path: Path) -> None:
    sysfs, vcio = fake_sysfs(tmp_path / "sys"), tmp_path / "vcio"
    assert isinstance(datakey.source("auto", sysfs=sysfs, vcio=vcio), datakey.NvmemOtp)
    vcio.touch()
    assert isinstance(datakey.source("auto", sysfs=sysfs, vcio=vcio), datakey.NvmemOtp)  # the module first
    assert isinstance(datakey.source("auto", sysfs=tmp_path / "bare", vcio=vcio), datakey.MailboxOtp)
    vcio.unlink()
    none = datakey.source("auto", sysfs=tmp_path / "bare", vcio=vcio)
    with pytest.raises(datakey.BoardSecretError, match="ikke noe OTP-minne"):
        none.read()
    assert isinstance(datakey.source("nvmem", sysfs=sysfs), datakey.NvmemOtp)
    assert isinstance(datakey.source("mailbox"), datakey.MailboxOtp)
    assert isinstance(datakey.source(str(tmp_path / "otp.hex")), datakey.FileSecret)


def test_unprogrammed_rows_say_what_the_it_team_does(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "valgkiosk.datakey"]
    sysfs = fake_sysfs(tmp_path / "sys", bytes(32))
    done = subprocess.run([*run, "derive", "--sysfs", str(sysfs)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and done.stdout == "", done
    assert "ikke programmert" in done.stderr and "rpi-otp-private-key -w" in done.stderr
    assert "Traceback" not in done.stderr
    good = fake_sysfs(tmp_path / "sys2")
    key = subprocess.run([*run, "derive", "--sysfs", str(good)], capture_output=True, check=True, timeout=30)
    assert key.stdout == datakey.derive(SECRET)
    check = subprocess.run([*run, "check", "--sysfs", str(good)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0 and "valgkiosk_otp" in check.stdout


OTP_LOAD = REPO / "image-build" / "rootfs" / "usr" / "lib" / "valgkiosk" / "otp-load"


@pytest.mark.parametrize(("compatible", "loads"), [
    (b"raspberrypi,4-model-b\0brcm,bcm2711\0", True),
    (b"raspberrypi,5-model-b\0brcm,bcm2712\0", True),
    (b"raspberrypi,3-model-b\0brcm,bcm2837\0", True),
    (b"linux,dummy-virt\0", False),  # QEMU's virt machine
    (None, False),  # no device tree at all
])
def test_otp_load_loads_the_module_on_a_pi_only(tmp_path: Path, compatible: bytes | None, loads: bool) -> None:
    dt = tmp_path / "compatible"
    if compatible is not None:
        dt.write_bytes(compatible)
    modprobe = fake_tool(tmp_path / "bin", "modprobe", f'echo "$@" >> {tmp_path}/loaded\nexit ${{FAIL:-0}}')
    env = {"PATH": "/usr/bin:/bin", "VALGKIOSK_DT_COMPATIBLE": str(dt), "VALGKIOSK_MODPROBE": str(modprobe)}
    done = subprocess.run([str(OTP_LOAD)], capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 0, done
    if loads:
        assert (tmp_path / "loaded").read_text(encoding="ascii").split() == ["valgkiosk_otp"]
        assert "valgkiosk_otp loaded" in done.stdout
        # a module that does not load never fails the unit: data-unlock refuses with the reason
        failed = subprocess.run([str(OTP_LOAD)], capture_output=True, text=True, timeout=30, env={**env, "FAIL": "1"})
        assert failed.returncode == 0 and "did not load" in failed.stderr
    else:
        assert not (tmp_path / "loaded").exists() and "not a Raspberry Pi" in done.stdout


MODULE_SOURCE = REPO / "image-build" / "otp-module" / "valgkiosk_otp.c"


def test_the_module_only_reads_otp() -> None:
    """The kernel module asks the firmware with read tags only: never one that programs OTP
    (0x00038021 customer rows, 0x00038081 private key), and it has no nvmem write hook."""
    text = MODULE_SOURCE.read_text(encoding="utf-8").lower()
    tags = set(re.findall(r"0x000[0-9a-f]{5}", text))
    assert tags == {"0x00030021", "0x00030081"}, tags
    assert "reg_write" not in text and "read_only = true" in text and "root_only = true" in text
    assert "-eio" in text  # an answer it did not get is an error, not zeros


def test_the_command_line_gives_the_key_on_stdout_only(tmp_path: Path) -> None:
    secret = tmp_path / "otp.hex"
    secret.write_text(SECRET.hex() + "\n", encoding="ascii")
    run = [sys.executable, "-m", "valgkiosk.datakey"]
    got = subprocess.run([*run, "derive", "--secret", str(secret)], capture_output=True, check=True, timeout=30)
    assert got.stdout == datakey.derive(SECRET) and got.stderr == b""
    check = subprocess.run([*run, "check", "--secret", str(secret)], capture_output=True, text=True, timeout=30)
    assert check.returncode == 0 and "ikke bundet til maskinvaren" in check.stdout
    secret.write_text("00" * 32, encoding="ascii")
    zero = subprocess.run([*run, "derive", "--secret", str(secret)], capture_output=True, text=True, timeout=30)
    assert zero.returncode == 1 and zero.stdout == "" and "ikke programmert" in zero.stderr


# -- data-crypt.sh ----------------------------------------------------------------------------
def script(*args: str | Path, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VALGKIOSK_PYTHON": sys.executable}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([str(SCRIPT), *map(str, args)], capture_output=True, text=True, timeout=120, env=env)


@pytest.fixture
def recording_cryptsetup(tmp_path: Path) -> tuple[str, Path]:
    """A ``cryptsetup`` that records its arguments and the key it is given on stdin."""
    log = tmp_path / "calls"
    fake_tool(tmp_path / "bin", "cryptsetup", f'''echo "$@" >> {log}
case "$1" in isLuks) exit 1 ;; esac
case " $* " in *" --key-file - "*) cat > {tmp_path}/key-given ;; esac''')
    return f"{tmp_path / 'bin'}:{os.environ['PATH']}", log


def test_format_passes_the_derived_key_and_the_cipher_for_the_cpu(tmp_path: Path,
                                                                   recording_cryptsetup: tuple[str, Path]) -> None:
    path, log = recording_cryptsetup
    secret = tmp_path / "otp.hex"
    secret.write_text(SECRET.hex(), encoding="ascii")
    device = tmp_path / "data.img"
    device.write_bytes(bytes(1 << 20))
    done = script("format", device, "--secret", secret, "--cipher", "adiantum", path=path)
    assert done.returncode == 0, done.stderr
    call = log.read_text(encoding="utf-8").splitlines()[-1].split()
    assert call[:3] == ["luksFormat", "--batch-mode", "--type"] and call[-1] == str(device)
    assert "xchacha12,aes-adiantum-plain64" in call and "--label" in call
    assert (tmp_path / "key-given").read_bytes() == datakey.derive(SECRET)
    assert script("format", device, "--secret", secret, "--cipher", "aes", path=path).returncode == 0
    assert "aes-xts-plain64" in log.read_text(encoding="utf-8").splitlines()[-1]


def test_format_refuses_without_a_secret_or_over_a_file_system(tmp_path: Path,
                                                               recording_cryptsetup: tuple[str, Path]) -> None:
    path, log = recording_cryptsetup
    zeros = tmp_path / "otp.hex"
    zeros.write_text("00" * 32, encoding="ascii")
    device = tmp_path / "data.img"
    device.write_bytes(bytes(4 << 20))
    done = script("format", device, "--secret", zeros, path=path)
    assert done.returncode == 1 and "ikke programmert" in done.stderr and "ikke endret" in done.stderr
    assert "luksFormat" not in (log.read_text(encoding="utf-8") if log.exists() else "")
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("mkfs.ext4 (e2fsprogs) is not installed")
    subprocess.run(["mkfs.ext4", "-q", "-F", str(device)], check=True, timeout=60)
    zeros.write_text(SECRET.hex(), encoding="ascii")
    kept = script("format", device, "--secret", zeros, path=path)
    assert kept.returncode == 1 and "har allerede et filsystem" in kept.stderr


def dm_crypt_missing() -> str | None:
    """Why the loop-device test cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (losetup, device-mapper)"
    if shutil.which("cryptsetup") is None or shutil.which("losetup") is None:
        return "needs cryptsetup (cryptsetup-bin) and losetup"
    if "device-mapper" not in Path("/proc/misc").read_text(encoding="ascii", errors="replace"):
        return "this kernel has no device-mapper (dm_mod, not in /proc/misc): cryptsetup can neither format nor open"
    return None


@pytest.mark.skipif(dm_crypt_missing() is not None, reason=str(dm_crypt_missing()))
@pytest.mark.timeout(300)
def test_on_a_loop_device_only_this_boards_secret_opens_it_and_erase_ends_it(tmp_path: Path) -> None:
    secret, other = tmp_path / "otp.hex", tmp_path / "other.hex"
    secret.write_text(SECRET.hex(), encoding="ascii")
    other.write_text("11" * 32, encoding="ascii")
    backing = tmp_path / "data.img"
    subprocess.run(["truncate", "-s", "64M", str(backing)], check=True)
    loop = subprocess.run(["losetup", "--find", "--show", str(backing)], capture_output=True, text=True,
                          check=True).stdout.strip()
    name = f"vk-test-{os.getpid()}"
    try:
        made = script("format", loop, "--secret", secret, "--cipher", "adiantum")
        if made.returncode != 0 and "cipher" in made.stderr.lower():
            pytest.skip(f"this kernel has no Adiantum for dm-crypt: {made.stderr.strip()[:200]}")
        assert made.returncode == 0, made.stderr
        assert script("open", loop, name, "--secret", other).returncode == 1  # another board's secret
        assert script("open", loop, name, "--secret", secret).returncode == 0
        mapped = f"/dev/mapper/{name}"
        with open(mapped, "r+b") as volume:
            volume.write(b"manntallsnummer 000001234582" * 100)
            volume.flush()
            os.fsync(volume.fileno())
        assert script("close", name).returncode == 0
        assert b"manntallsnummer" not in backing.read_bytes()  # ciphertext on the card
        assert script("erase", loop).returncode == 0
        assert script("open", loop, name, "--secret", secret).returncode == 1  # gone for good
    finally:
        subprocess.run(["cryptsetup", "close", name], capture_output=True)
        subprocess.run(["losetup", "-d", loop], capture_output=True)
