"""The whole image: built with image-build/build.sh, provisioned for one table with
provision.sh, and booted in qemu-system-aarch64 (Debian's generic arm64 kernel on the
virt machine, with an i6300esb watchdog). The image's self-test (valgkiosk-selftest.service,
switched on by the kernel command line) waits until the kiosk has reported READY and
prints its checks on the serial console, which this test reads.

The production image has no serial console: the test boots the image's own kernel
command line with ``console=tty3`` swapped for the virt machine's ``console=ttyAMA0``.

Slow (a cold build takes minutes, the boot under TCG a few more) and needs root for the
build. ``VALGKIOSK_IMAGE_DIR=DIR`` reuses a build in DIR (or builds into it when empty);
``VALGKIOSK_SKIP_IMAGE=1`` skips it.
"""

from __future__ import annotations

import os
import selectors
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from image_stations import REPO

BUILD_TIMEOUT_S = 35 * 60
BOOT_TIMEOUT_S = 12 * 60
REQUIRED = ("kiosk-ready", "root-read-only", "data-mounted", "state-on-data", "journal-on-data", "no-getty",
            "kiosk-on-tty1", "watchdog-armed", "sysrq-off", "ctrl-alt-del-masked", "usbguard-active",
            "ssh-only-if-asked", "usb-only-allowed")
#: The Pi platform's checks (valgkiosk-selftest-platform.service, issue 17): lgpio opens the
#: virt machine's PL061 gpiochip and gpiozero's lgpio pins read it; the clock's source by
#: the clock rules; Europe/Oslo; the data partition grown into the enlarged disk.
PLATFORM_REQUIRED = ("lgpio-gpiochip", "clock-source", "timezone-oslo", "data-grown")
#: How much larger than the image the test's disk is: the room the data partition must grow into.
DISK_GROWTH_MIB = 256

#: The table booted in the VM: the demo register in memory, a scanner by USB ids, no
#: printer and no caretaker box (the VM has no GPIO chip).
BOOT_STATION = """\
[station]
kommune = "0301"
krets = "0101"
bord = 1
navn = "Oppstartsprøven"

[election]
year = 2025

[register]
url = "memory:"

[scanner]
kind = "evdev"
vendor = 0x05e0
product = 0x1200
layout = "no"

[log]
loggbok = "/var/lib/valgkiosk/loggbok.jsonl"
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("VALGKIOSK_SKIP_IMAGE") == "1", reason="VALGKIOSK_SKIP_IMAGE=1"),
    pytest.mark.skipif(os.geteuid() != 0, reason="the image build runs as root (it keeps the tree's owners)"),
    pytest.mark.skipif(shutil.which("qemu-system-aarch64") is None, reason="qemu-system-aarch64 is not installed"),
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build's output folder (valgkiosk.img, vmlinuz, initrd.img, build-times.txt)."""
    reuse = os.environ.get("VALGKIOSK_IMAGE_DIR")
    out = Path(reuse) if reuse else tmp_path_factory.mktemp("image")
    if not (out / "valgkiosk.img").is_file():
        subprocess.run([str(REPO / "image-build" / "build.sh"), "--out", str(out)], check=True,
                       timeout=BUILD_TIMEOUT_S)
    return out


@pytest.fixture(scope="module")
def provisioned(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the image with a table's config: the demo register in memory, an evdev
    scanner by USB ids (no such device in the VM: the kiosk starts and says so). The VM has
    a USB controller with a keyboard on it, which the policy does not allow."""
    work = tmp_path_factory.mktemp("table")
    config = work / "bord1.toml"
    config.write_text(BOOT_STATION, encoding="utf-8")
    out = work / "out"
    subprocess.run([str(REPO / "image-build" / "provision.sh"), "--image", str(built / "valgkiosk.img"),
                    "--out", str(out), "--config", str(config), "--name", "bord1"], check=True, timeout=600)
    return out / "bord1.img"


def image_cmdline(img: Path) -> str:
    """The kernel command line the Pi would boot (cmdline.txt on the boot FAT)."""
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    start = int(subprocess.run(["sfdisk", "--json", str(img)], capture_output=True, text=True, check=True)
                .stdout.split('"start":')[1].split(",")[0])
    return subprocess.run(["mtype", "-i", f"{img}@@{start * 512}", "::/cmdline.txt"], capture_output=True,
                          text=True, check=True, env=env).stdout.strip()


def enlarge_disk(img: Path, mib: int = DISK_GROWTH_MIB) -> None:
    """Make the disk larger than the image, as an SD card is: the first boot must grow the
    data partition into the room."""
    with img.open("r+b") as f:
        f.truncate(img.stat().st_size + mib * 1024 * 1024)


def boot_partition_file(img: Path, name: str) -> str:
    """A file from the image's boot FAT (the Pi's firmware reads these)."""
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    start = int(subprocess.run(["sfdisk", "--json", str(img)], capture_output=True, text=True, check=True)
                .stdout.split('"start":')[1].split(",")[0])
    return subprocess.run(["mtype", "-i", f"{img}@@{start * 512}", f"::/{name}"], capture_output=True,
                          text=True, check=True, env=env).stdout


@pytest.mark.timeout(BUILD_TIMEOUT_S + 600)  # it may be the test that builds the image
def test_boot_partition_is_the_kiosks(built: Path) -> None:
    """config.txt and cmdline.txt as the Pi's firmware reads them from the built image:
    the settings of image-build/rootfs/etc/default made it through raspi-firmware."""
    from test_pi_boot_files import check_cmdline, check_config_txt

    img = built / "valgkiosk.img"
    check_config_txt(boot_partition_file(img, "config.txt"))
    check_cmdline(boot_partition_file(img, "cmdline.txt"))


def boot(built: Path, img: Path, log: Path) -> Iterator[str]:
    """Boot ``img`` and yield console lines until the self-test ends or time runs out."""
    cmdline = image_cmdline(img).replace("console=tty3", "console=ttyAMA0")
    cmdline += " valgkiosk.selftest systemd.show_status=true panic=-1"
    qemu = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", "2", "-m", "1536",
            "-nodefaults", "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
            "-kernel", str(built / "vmlinuz"), "-initrd", str(built / "initrd.img"), "-append", cmdline,
            "-drive", f"if=none,file={img},format=raw,id=disk", "-device", "virtio-blk-pci,drive=disk",
            "-device", "i6300esb", "-device", "qemu-xhci", "-device", "usb-kbd", "-netdev", "user,id=net,restrict=on", "-device", "virtio-net-pci,netdev=net"]
    proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    deadline = time.monotonic() + BOOT_TIMEOUT_S
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    buffer = b""
    try:
        with log.open("wb") as record:
            while time.monotonic() < deadline:
                if not sel.select(timeout=5):
                    continue
                chunk = os.read(proc.stdout.fileno(), 65536)
                if not chunk:
                    return  # qemu ended (a reset with -no-reboot, or a crash)
                record.write(chunk)
                record.flush()
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    # the report's lines come through the console as "[ 12.3] selftest[686]: …"
                    text = line.decode("utf-8", "replace").replace("\r", "")
                    text = text.split("selftest[", 1)[-1].split("]: ", 1)[-1] if "selftest[" in text else text
                    yield text
                    if text.startswith("VALGKIOSK-SELFTEST END"):
                        return
    finally:
        proc.kill()
        proc.wait(timeout=30)


@pytest.mark.timeout(BUILD_TIMEOUT_S + BOOT_TIMEOUT_S + 600)
def test_image_boots_into_the_hardened_kiosk(built: Path, provisioned: Path, tmp_path: Path) -> None:
    log = tmp_path / "console.log"
    enlarge_disk(provisioned)
    started = time.monotonic()
    checks: dict[str, str] = {}
    ended = ready_at = None
    for line in boot(built, provisioned, log):
        if "valgkiosk check-off kiosk" in line and "Started" in line and ready_at is None:
            ready_at = time.monotonic() - started
        if line.startswith("CHECK "):
            _, name, verdict, *detail = line.split(" ")
            checks[name] = verdict + " " + " ".join(detail)
        if line.startswith("VALGKIOSK-SELFTEST END"):
            ended = time.monotonic() - started
    tail = "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-60:])
    assert ended is not None, f"no self-test report within {BOOT_TIMEOUT_S} s; console tail:\n{tail}"
    (REPO / "build").mkdir(exist_ok=True)
    (REPO / "build" / "image-boot-times.txt").write_text(
        f"kiosk_ready_s={ready_at} selftest_end_s={ended:.0f}\n", encoding="utf-8")
    failed = {name: v for name, v in checks.items() if not v.startswith("ok")}
    assert set(REQUIRED) <= set(checks), f"missing checks: {set(REQUIRED) - set(checks)}\n{tail}"
    assert failed == {}, f"{failed}\n{tail}"
    check_platform(checks, tail)


def check_platform(checks: dict[str, str], tail: str) -> None:
    """The Pi platform's part of the report: every check there and ok; the clock's source
    is the virt machine's PL031 RTC (no NTP: the VM's network reaches nothing)."""
    assert set(PLATFORM_REQUIRED) <= set(checks), f"missing checks: {set(PLATFORM_REQUIRED) - set(checks)}\n{tail}"
    assert "label=" in checks["lgpio-gpiochip"] and "read=[" in checks["lgpio-gpiochip"], checks["lgpio-gpiochip"]
    assert "source=rtc" in checks["clock-source"] or "source=ntp" in checks["clock-source"], checks["clock-source"]
