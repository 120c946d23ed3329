"""The whole image, as the IT team builds it and a clerk meets it: built with
image-build/build.sh, provisioned for one table with provision.sh, booted in
qemu-system-aarch64 (Debian's generic arm64 kernel on the virt machine, an i6300esb
watchdog, a virtio GPU as the table's screen) and used at the table.

What the test sees is what a person sees: the image's screen-watch helper (switched on by
``valgkiosk.screenwatch`` on the kernel command line) prints the text of tty1 and tty3
on the serial console whenever it changes, and the test's screendumps come from QEMU's
monitor. The VM's only network is a tap device in a network namespace made here: the
register serves on its host end (10.213.0.1, DHCP from dnsmasq there), so no packet
leaves the namespace. On the VM's USB controller: the clerk's keyboard (QEMU's usb-kbd on
port 1), the hand scanner as a USB-serial device in serial mode (port 2; the test writes
the valgkort number into its socket) and a second keyboard the station config does not
name (port 3), which USBGuard must refuse. The test types on the keyboards through QMP.

The steps, on one boot: the self-test's report; the idle screen on tty1 and no kernel
message on it (they go to tty3); a scan and Enter check the voter off once in the register
and tty1 says KRYSSET AV; the unlisted keyboard's keys reach nothing; cutting the tap link
raises the alarm with the router's diagnosis, and the chair's F5 and PIN start the
emergency routine, an emergency vote for the same voter is recorded and F11 shows the
loggbok's chain intact; SSH with the provisioned key runs the self-test and sees the data
partition as LUKS2. Then the VM is stopped and the raw disk image searched: the kiosk's
credential and loggbok key are nowhere in it in clear text, nor the voter's name or numbers
on the partitions the kiosk writes (boot and data; the read-only root is the public image)
(both were, on the boot partition, before the first boot), and the boot partition no
longer holds the two secrets (the data partition is encrypted at first boot with a key
from the provisioned file secret, ``provision.sh --data-secret new``: QEMU has no OTP).

The production image has no serial console: the test boots the image's own kernel command
line with ``console=ttyAMA0`` added after its ``console=tty3``.

Slow (a build takes minutes, the boot under TCG a few more) and needs root for the build
and the namespace. ``VALGKIOSK_IMAGE_DIR=DIR`` reuses a build in DIR (or builds into it
when empty); ``VALGKIOSK_SKIP_IMAGE=1`` skips it. Screens and screendumps go to
build/image-screens/.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from image_stations import REPO

from tests.register.factory import KARI, fill
from valgkiosk.register.store import open_store

BUILD_TIMEOUT_S = 50 * 60  # a build with a cold cache (a fresh CI machine) on a busy machine took over 35 min
BOOT_TIMEOUT_S = 12 * 60
REQUIRED = ("kiosk-ready", "kiosk-command", "root-read-only", "data-mounted", "state-on-data", "journal-on-data", "no-getty",
            "kiosk-on-tty1", "watchdog-armed", "sysrq-off", "ctrl-alt-del-masked", "usbguard-active",
            "ssh-only-if-asked", "usb-only-allowed", "console-never-blanks", "kernel-messages-quiet",
            "kiosk-logs-to-journal")
#: The Pi platform's checks (valgkiosk-selftest-platform.service, issue 17): lgpio opens the
#: virt machine's PL061 gpiochip and gpiozero's lgpio pins read it; the clock's source by
#: the clock rules; Europe/Oslo; the data partition grown into the enlarged disk.
PLATFORM_REQUIRED = ("lgpio-gpiochip", "clock-source", "timezone-oslo", "data-grown", "data-encrypted", "data-private")
#: How much larger than the image the test's disk is: the room the data partition must grow into.
DISK_GROWTH_MIB = 256


HOST_ADDR, VM_ADDR, PREFIX = "10.213.0.1", "10.213.0.10", 24
TAP = "vktap0"
REGISTER_PORT = 8470
ROUTER_PORT = 80  # nothing listens: a refused connection proves the router is there
CHAIR_PIN = "4321"
SCREENS = REPO / "build" / "image-screens"

#: The table booted in the VM. Probe timeouts are wider than a Pi's: the VM is emulated.
BOOT_STATION = """\
[station]
kommune = "0301"
krets = "0101"
bord = 1
navn = "Oppstartsprøven"

[election]
year = 2025

[register]
url = "http://{host}:{port}"
credential_file = "/etc/valgkiosk/credential"
insecure_http = true  # the test's own network inside its namespace: no TLS there

[scanner]
kind = "serial"
device = "/dev/valgkiosk-scanner"
vendor = 0x0403
product = 0x6001
port = "1-2"

[keyboard]
vendor = 0x0627
product = 0x0001
port = "1-1"

[log]
loggbok = "/var/lib/valgkiosk/loggbok.jsonl"

[network]
interface = "eth0"
gateway_port = {router_port}
probe_interval_seconds = 0.5
link_timeout_seconds = 2
gateway_timeout_seconds = 2
dns_timeout_seconds = 2
tcp_timeout_seconds = 2
health_timeout_seconds = 4

[emergency]
chair_pin_hash = "{pin_hash}"
"""

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("VALGKIOSK_SKIP_IMAGE") == "1", reason="VALGKIOSK_SKIP_IMAGE=1"),
    pytest.mark.skipif(os.geteuid() != 0, reason="the image build and the VM's namespace need root"),
    pytest.mark.skipif(shutil.which("qemu-system-aarch64") is None, reason="qemu-system-aarch64 is not installed"),
    pytest.mark.skipif(shutil.which("dnsmasq") is None, reason="dnsmasq (dnsmasq-base) is not installed"),
]


def run(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    kw.setdefault("timeout", 120)
    return subprocess.run(list(args), check=True, capture_output=True, text=True, **kw)  # type: ignore[call-overload]


# -- the build, the table, the network -----------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build's output folder (valgkiosk.img, vmlinuz, initrd.img, build-times.txt)."""
    reuse = os.environ.get("VALGKIOSK_IMAGE_DIR")
    out = Path(reuse) if reuse else tmp_path_factory.mktemp("image")
    if not (out / "valgkiosk.img").is_file():
        subprocess.run([str(REPO / "image-build" / "build.sh"), "--out", str(out)], check=True,
                       timeout=BUILD_TIMEOUT_S)
    return out


class Table:
    """The station's network as a namespace: a tap device for the VM, dnsmasq handing it
    its address, and the register serving on the host end."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.ns = f"vk-img-{os.getpid()}"
        self.db = work / "register.db"
        self.procs: list[subprocess.Popen[bytes]] = []
        run("ip", "netns", "add", self.ns)
        try:
            run("ip", "-n", self.ns, "link", "set", "lo", "up")
            run("ip", "-n", self.ns, "tuntap", "add", "dev", TAP, "mode", "tap")
            run("ip", "-n", self.ns, "addr", "add", f"{HOST_ADDR}/{PREFIX}", "dev", TAP)
            run("ip", "-n", self.ns, "link", "set", TAP, "up")
            store = open_store(f"sqlite:///{self.db}")
            store.migrate()
            fill(store)
            store.close()
            self.credential = work / "bord1.credential"
            self.in_ns(sys.executable, "-m", "valgkiosk", "register", "issue-credential", "--db",
                       f"sqlite:///{self.db}", "--kiosk-id", "prove-bord1", "--kommune", "0301", "--krets", "0101",
                       "--bord", "1", "--out", str(self.credential))
            self.start("dnsmasq", "--no-daemon", "--conf-file=/dev/null", f"--interface={TAP}", "--bind-interfaces",
                       "--port=0", "--no-resolv", "--no-hosts", f"--dhcp-range={VM_ADDR},{VM_ADDR},255.255.255.0,1h",
                       f"--dhcp-option=3,{HOST_ADDR}", f"--dhcp-leasefile={work / 'leases'}",
                       log="dnsmasq.log")
            self.start(sys.executable, "-m", "valgkiosk", "register", "serve", "--db", f"sqlite:///{self.db}",
                       "--host", HOST_ADDR, "--port", str(REGISTER_PORT), "--log-level", "warning",
                       log="register.log")
        except BaseException:
            self.close()
            raise

    def in_ns(self, *command: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return run("ip", "netns", "exec", self.ns, *command, **kw)

    def start(self, *command: str, log: str) -> subprocess.Popen[bytes]:
        with open(self.work / log, "ab") as out:
            proc = subprocess.Popen(["ip", "netns", "exec", self.ns, *command], stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.procs.append(proc)
        return proc

    def checkoffs(self, manntallsnummer: str) -> int:
        with sqlite3.connect(self.db) as db:
            return db.execute("SELECT count(*) FROM checkoffs c JOIN voters v ON v.id = c.voter_id "
                              "WHERE v.manntallsnummer = ?", (manntallsnummer,)).fetchone()[0]

    def cut(self) -> None:
        """The router's end of the cable goes dark."""
        run("ip", "-n", self.ns, "link", "set", TAP, "down")

    def close(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        subprocess.run(["ip", "netns", "del", self.ns], capture_output=True, timeout=30)


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Table]:
    t = Table(tmp_path_factory.mktemp("table-net"))
    try:
        yield t
    finally:
        t.close()


@pytest.fixture(scope="module")
def ikt_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = tmp_path_factory.mktemp("ikt") / "id_ed25519"
    run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ikt@kommune", "-f", str(key))
    return key


@pytest.fixture(scope="module")
def provisioned(built: Path, table: Table, ikt_key: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the image with the table's config, credential and the IT team's key,
    made as the guide says (provision.sh; the file name is the table's)."""
    work = tmp_path_factory.mktemp("table")
    pin_hash = run(sys.executable, "-m", "valgkiosk", "pin-hash", "--stdin", input=CHAIR_PIN + "\n").stdout
    config = work / "bord1.toml"
    config.write_text(BOOT_STATION.format(host=HOST_ADDR, port=REGISTER_PORT, router_port=ROUTER_PORT,
                                          pin_hash=pin_hash.split('"')[1]), encoding="utf-8")
    out = work / "ut"
    result = run(str(REPO / "image-build" / "provision.sh"), "--image", str(built / "valgkiosk.img"), "--out", str(out),
                 "--config", str(config), "--credential", str(table.credential),
                 "--authorized-keys", f"{ikt_key}.pub", "--data-secret", "new", timeout=600)
    image = out / "valgkiosk-0301-0101-bord1.img"
    assert result.stdout.splitlines()[0] == str(image), result.stdout
    assert image.is_file() and (out / "valgkiosk-0301-0101-bord1.img.bmap").is_file()
    return image


# -- the VM ---------------------------------------------------------------------------------------

#: A self-test's line as journald forwards it to the console: "[   79.39] selftest-platform[671]: CHECK …".
SELFTEST_LINE = re.compile(r"(?:^|\s)(?P<ident>[\w.@-]*selftest[\w.@-]*)\[\d+\]: (?P<message>.*)$")

QCODES = {**{c: c for c in "0123456789abcdefghijklmnopqrstuvwxyz"}, "\n": "ret"}


class Qmp:
    """QEMU's machine protocol on a unix socket: commands, one answer each."""

    def __init__(self, path: Path) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.file = self.sock.makefile("rw", encoding="utf-8")
        json.loads(self.file.readline())  # the greeting
        self("qmp_capabilities")

    def __call__(self, command: str, **arguments: object) -> object:
        self.file.write(json.dumps({"execute": command, "arguments": arguments}) + "\n")
        self.file.flush()
        while True:
            answer = json.loads(self.file.readline())
            if "return" in answer:
                return answer["return"]
            if "error" in answer:
                raise RuntimeError(f"{command}: {answer['error']}")

    def keys(self, *names: str, device: str | None = "video0") -> None:
        """Press and release each key (a QEMU qcode: "f5", "ret", "7"), one after another,
        on the keyboard bound to ``device``'s screen (the clerk's); ``None``: the unbound one."""
        for name in names:
            for down in (True, False):
                args: dict[str, object] = {"events": [{"type": "key", "data": {
                    "down": down, "key": {"type": "qcode", "data": name}}}]}
                if device is not None:
                    args.update(device=device, head=0)
                self("input-send-event", **args)
                time.sleep(0.08)

    def type(self, text: str, **kw: object) -> None:
        self.keys(*(QCODES[c] for c in text), **kw)  # type: ignore[arg-type]


class Vm:
    """The booted table: its console read in the background, its screens, QMP."""

    def __init__(self, built: Path, img: Path, table: Table, work: Path,
                 words: str = "valgkiosk.selftest valgkiosk.screenwatch") -> None:
        self.work = work
        self.log = work / "console.log"
        self.lines: list[str] = []
        self.screens: dict[int, list[tuple[float, str]]] = {1: [], 3: []}
        self.cond = threading.Condition()
        self.started = time.monotonic()
        cmdline = image_cmdline(img) + f" console=ttyAMA0 {words} systemd.show_status=true panic=-1"
        qmp, scanner = work / "qmp.sock", work / "scanner.sock"
        qemu = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", "2", "-m", "1536",
                "-nodefaults", "-display", "none", "-serial", "stdio", "-monitor", "none", "-no-reboot",
                "-qmp", f"unix:{qmp},server=on,wait=off",
                "-kernel", str(built / "vmlinuz"), "-initrd", str(built / "initrd.img"), "-append", cmdline,
                "-drive", f"if=none,file={img},format=raw,id=disk", "-device", "virtio-blk-pci,drive=disk",
                "-device", "i6300esb",
                "-device", "virtio-gpu-pci,id=video0,xres=1024,yres=768",
                "-netdev", f"tap,id=net,ifname={TAP},script=no,downscript=no",
                "-device", "virtio-net-pci,netdev=net",
                "-device", "qemu-xhci,id=xhci",
                # the clerk's keyboard, bound to the screen: keys sent to video0 go to it
                "-device", "usb-kbd,id=kbd,bus=xhci.0,port=1,display=video0",
                "-chardev", f"socket,id=scan,path={scanner},server=on,wait=off",
                "-device", "usb-serial,id=scanner,chardev=scan,bus=xhci.0,port=2",
                # a keyboard nobody configured (keys sent to no screen go to it)
                "-device", "usb-kbd,id=rogue,bus=xhci.0,port=3"]
        self.proc = subprocess.Popen(["ip", "netns", "exec", table.ns, *qemu], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.qmp = Qmp(qmp)
        # QEMU plugs the USB-serial device in only while its socket has a client: the
        # scanner's cable is this connection
        self._scanner = socket.socket(socket.AF_UNIX)
        self._scanner.connect(str(scanner))

    def _read(self) -> None:
        assert self.proc.stdout is not None
        buffer = b""
        block: tuple[int, list[str]] | None = None
        with self.log.open("wb") as record:
            while True:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    break
                record.write(chunk)
                record.flush()
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for raw in lines:
                    text = raw.decode("utf-8", "replace").replace("\r", "")
                    # the self-tests' reports come through the journal, "[ 12.3] selftest[686]: …"
                    # and "[ 12.1] selftest-platform[671]: …": the line without that prefix
                    journal = SELFTEST_LINE.search(text)
                    if journal:
                        text = journal["message"]
                    with self.cond:
                        if text.startswith("SCREEN ") and text[7:8].isdigit():
                            block = (int(text.split()[1]), [])
                        elif text.startswith("SCREEN| ") and block is not None:
                            block[1].append(text[8:])
                        elif text == "SCREEN END" and block is not None:
                            self.screens.setdefault(block[0], []).append((time.monotonic(), "\n".join(block[1])))
                            block = None
                        else:
                            self.lines.append(text)
                        self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait(self, what: str, done: Callable[[], object], timeout: float) -> object:
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                result = done()
                if result:
                    return result
                left = deadline - time.monotonic()
                if self.proc.poll() is not None and not self.reader.is_alive():
                    raise AssertionError(f"{what}: the VM ended first (qemu exit code {self.proc.returncode}; "
                                         f"with -no-reboot a reset, e.g. by the watchdog, ends it).\n{self.tail()}")
                if left <= 0:
                    raise AssertionError(f"{what}: not within {timeout:.0f} s.\n{self.tail()}")
                self.cond.wait(min(left, 2.0))

    def screen(self, vt: int = 1) -> str:
        return self.screens[vt][-1][1] if self.screens.get(vt) else ""

    def wait_screen(self, what: str, done: Callable[[str], bool], timeout: float = 120) -> str:
        return self.wait(f"tty1 showing {what}", lambda: self.screen() if done(self.screen()) else "",
                         timeout)  # type: ignore[return-value]

    def tail(self) -> str:
        return ("--- tty1 now:\n" + self.screen() + "\n--- console tail:\n" + "\n".join(self.lines[-40:]))

    def scan(self, text: str) -> None:
        """The hand scanner in serial mode sends the barcode and CR LF."""
        self._scanner.sendall(text.encode() + b"\r\n")

    def screendump(self, name: str) -> Path:
        SCREENS.mkdir(parents=True, exist_ok=True)
        path = SCREENS / f"{name}.png"
        self.qmp("screendump", filename=str(path), format="png")
        (SCREENS / f"{name}.txt").write_text(self.screen() + "\n", encoding="utf-8")
        return path

    def close(self) -> None:
        self._scanner.close()
        self.proc.kill()
        self.proc.wait(timeout=30)
        self.reader.join(timeout=30)


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


# -- the OTP module (valgkiosk_otp) on the image's own kernel --------------------------------------


def partition_offset(img: Path, number: int) -> int:
    """Where partition ``number`` (1-based) starts in the image, in bytes."""
    table = json.loads(subprocess.run(["sfdisk", "--json", str(img)], capture_output=True, text=True,
                                      check=True).stdout)["partitiontable"]["partitions"]
    return int(table[number - 1]["start"]) * 512


def root_file(img: Path, path: str, out: Path) -> bytes:
    """A file from the image's read-only root (ext4, partition 2), read with debugfs."""
    where = f"{img}?offset={partition_offset(img, 2)}"
    subprocess.run(["debugfs", "-R", f"dump {path} {out}", where], capture_output=True, check=True, timeout=120)
    assert out.is_file() and out.stat().st_size > 0, f"{path} is not in the image's root"
    return out.read_bytes()


def image_kernel(built: Path) -> str:
    """The image's kernel release, as the build recorded it."""
    return re.search(r"kernel=(\S+)", (built / "build-times.txt").read_text(encoding="utf-8"))[1]  # type: ignore[index]


#: What the cheap boots run as the image's init (the kernel hands the words after "--" to it):
#: load the module, read the OTP rows, print the kernel's lines about it, power off.
OTP_PROBE = ("modprobe valgkiosk_otp; echo OTP-MODPROBE=$?; "
             "od -An -tx1 -v /sys/bus/nvmem/devices/valgkiosk-otp-private/nvmem; echo OTP-READ=$?; "
             "/opt/valgkiosk/venv/bin/python -I -m valgkiosk.datakey check; echo OTP-CHECK=$?; "
             "dmesg | grep valgkiosk_otp; rmmod valgkiosk_otp && ls /sys/bus/nvmem/devices; echo OTP-RMMOD=$?; "
             "echo OTP-END; echo o > /proc/sysrq-trigger")


def boot_otp_probe(built: Path, work: Path, machine: list[str], disk: list[str],
                   qemu_binary: str = "qemu-system-aarch64") -> str:
    """The image's kernel, initramfs and root (a throw-away overlay), booted with
    OTP_PROBE as init on ``machine``: the console's text."""
    root = next(w for w in image_cmdline(built / "valgkiosk.img").split() if w.startswith("root="))
    cmdline = f'{root} ro rootwait console=ttyAMA0 loglevel=4 panic=-1 init=/bin/sh -- -c "{OTP_PROBE}"'
    qemu = [qemu_binary, *machine, "-nodefaults", "-display", "none", "-serial", "stdio",
            "-monitor", "none", "-no-reboot", "-kernel", str(built / "vmlinuz"), "-initrd", str(built / "initrd.img"),
            "-append", cmdline, *disk]
    done = subprocess.run(qemu, stdin=subprocess.DEVNULL, capture_output=True, timeout=900, cwd=work)
    console = done.stdout.decode("utf-8", "replace").replace("\r", "")
    SCREENS.mkdir(parents=True, exist_ok=True)
    version = qemu_version(qemu_binary)
    (SCREENS / f"otp-{machine[1]}-qemu{version[0]}.{version[1]}.log").write_text(console, encoding="utf-8")
    # (the kernel's command line, which the console shows too, names every marker: whole lines only)
    lines = {line.strip() for line in console.splitlines()}
    assert "OTP-END" in lines, f"the probe did not run (qemu exit {done.returncode}):\n{console[-4000:]}"
    return console


def overlay(built: Path, work: Path, size: str | None = None) -> Path:
    """A qcow2 overlay on the built image (the build stays as it is); ``size`` to round it
    up (QEMU's SD card wants a power of two)."""
    disk = work / "overlay.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw", "-b", str(built / "valgkiosk.img"),
                    str(disk), *([size] if size else [])], check=True, timeout=60)
    return disk


@pytest.mark.timeout(BUILD_TIMEOUT_S + 600)
def test_the_otp_module_is_in_the_image_for_its_kernel(built: Path, tmp_path: Path) -> None:
    kver = image_kernel(built)
    ko = root_file(built / "valgkiosk.img", f"/lib/modules/{kver}/updates/valgkiosk_otp.ko", tmp_path / "otp.ko")
    info = dict(field.split(b"=", 1) for field in re.findall(rb"(?<=\0)(?:vermagic|license|name)=[^\0]*", ko))
    assert info[b"vermagic"].split()[0].decode() == kver, info
    assert info[b"name"] == b"valgkiosk_otp" and info[b"license"] == b"GPL", info
    deps = root_file(built / "valgkiosk.img", f"/lib/modules/{kver}/modules.dep", tmp_path / "modules.dep")
    assert b"updates/valgkiosk_otp.ko:" in deps  # depmod ran: modprobe finds it by name


@pytest.mark.timeout(BUILD_TIMEOUT_S + 900)
def test_on_qemu_virt_the_otp_module_refuses_to_load(built: Path, tmp_path: Path) -> None:
    """No Raspberry Pi firmware node: the module says so and refuses (ENODEV), nothing to read."""
    console = boot_otp_probe(built, tmp_path, ["-M", "virt", "-cpu", "cortex-a72", "-smp", "2", "-m", "1024"],
                             ["-drive", f"if=none,file={overlay(built, tmp_path)},format=qcow2,id=disk",
                              "-device", "virtio-blk-pci,drive=disk"])
    lines = console.splitlines()
    assert "OTP-MODPROBE=1" in lines and "No such device" in console, console[-3000:]
    assert "no Raspberry Pi firmware node" in console, console[-3000:]
    assert "OTP-READ=0" not in lines


def qemu_version(binary: str) -> tuple[int, int]:
    found = re.search(r"version (\d+)\.(\d+)", subprocess.run([binary, "--version"], capture_output=True, text=True,
                                                             timeout=30).stdout)
    assert found is not None, binary
    return int(found[1]), int(found[2])


#: The QEMUs for the emulated Pi: the system's, and one that emulates the OTP (>= 9.1) when
#: scripts/test found one (VALGKIOSK_QEMU_OTP, bookworm-backports' on a bookworm host).
PI_QEMUS = ["qemu-system-aarch64", *([os.environ["VALGKIOSK_QEMU_OTP"]] if os.environ.get("VALGKIOSK_QEMU_OTP") else [])]


@pytest.mark.timeout(BUILD_TIMEOUT_S + 900)
@pytest.mark.parametrize("qemu_binary", PI_QEMUS, ids=lambda b: "system-qemu" if "/" not in b else "otp-qemu")
def test_on_an_emulated_pi_3_the_otp_module_reads_only_what_the_firmware_answers(built: Path, tmp_path: Path,
                                                                                 qemu_binary: str) -> None:
    """QEMU's raspi3b: the image's kernel and its device tree for the Pi 3 B, whose firmware
    node the module finds. QEMU before 9.1 answers the OTP tag with length 0: the read must
    fail (EIO) rather than give zeros, and datakey says the firmware did not answer. From
    9.1 QEMU emulates the OTP (rows of zeros, never programmed): the read gives the 32
    bytes, and datakey refuses them as not programmed, saying what the IT team does."""
    dtb = tmp_path / "bcm2837-rpi-3-b.dtb"
    dtb.write_bytes(boot_partition_bytes(built / "valgkiosk.img", "bcm2837-rpi-3-b.dtb"))
    console = boot_otp_probe(built, tmp_path, ["-M", "raspi3b", "-dtb", str(dtb)],
                             ["-drive", f"if=sd,file={overlay(built, tmp_path, '4G')},format=qcow2"], qemu_binary)
    lines = [line.strip() for line in console.splitlines()]
    assert "OTP-MODPROBE=0" in lines and "OTP rows (read only, root only)" in console, console[-3000:]
    assert "OTP-CHECK=1" in lines, console[-3000:]  # no usable key either way
    # unloaded cleanly: its nvmem devices go with it (nothing left to call into a module that is gone)
    after = lines[lines.index("OTP-CHECK=1") + 1:lines.index("OTP-RMMOD=0")]
    assert not any("valgkiosk-otp" in line for line in after if not line.startswith("[")), console[-3000:]
    if qemu_version(qemu_binary) < (9, 1):
        assert "OTP-READ=1" in lines and "Input/output error" in console, console[-3000:]
        assert "did not answer tag 0x00030081" in console, console[-3000:]
        assert "fastvaren svarte ikke på lesingen av OTP-minnet (EIO" in console, console[-3000:]
    else:
        assert "OTP-READ=0" in lines, console[-3000:]
        rows = lines[lines.index("OTP-MODPROBE=0") + 1:lines.index("OTP-READ=0")]
        assert [b for row in rows for b in row.split()] == ["00"] * 32, rows  # what QEMU's OTP holds
        assert "ikke programmert" in console and "rpi-otp-private-key -w" in console, console[-3000:]


def boot_partition_bytes(img: Path, name: str) -> bytes:
    """A binary file from the image's boot FAT."""
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    return subprocess.run(["mtype", "-i", f"{img}@@{partition_offset(img, 1)}", f"::/{name}"], capture_output=True,
                          check=True, env=env).stdout


#: The kiosk's secrets that provisioning puts on the boot partition, and first boot moves.
SECRETS = ("credential", "loggbok.key")


def in_raw_image(img: Path, needles: dict[str, bytes], partitions: tuple[int, ...] | None = None) -> set[str]:
    """Which of ``needles`` occur in the raw disk image, or only in the given partitions
    (1-based), read in overlapping chunks."""
    table = json.loads(subprocess.run(["sfdisk", "--json", str(img)], capture_output=True, text=True,
                                      check=True).stdout)["partitiontable"]["partitions"]
    if partitions is None:
        ranges = [(0, img.stat().st_size)]
    else:
        ranges = [(table[n - 1]["start"] * 512, table[n - 1]["size"] * 512) for n in partitions]
    found: set[str] = set()
    overlap = max(len(n) for n in needles.values())
    with img.open("rb") as f:
        for start, size in ranges:
            f.seek(start)
            tail, left = b"", size
            while left > 0 and (chunk := f.read(min(64 << 20, left))):
                left -= len(chunk)
                window = tail + chunk
                found |= {name for name, needle in needles.items() if needle in window}
                tail = window[-overlap:]
    return found


@pytest.fixture(scope="module")
def card_secrets(provisioned: Path) -> dict[str, bytes]:
    """The credential and the loggbok key as provisioned (a recognisable line of each),
    found in the raw image before the first boot: the search that must later find nothing
    can find them."""
    secrets = {}
    for name in SECRETS:
        text = boot_partition_file(provisioned, f"valgkiosk/{name}")
        secrets[name] = max(text.strip().splitlines(), key=len).encode()
    assert in_raw_image(provisioned, secrets) == set(SECRETS)
    return secrets


@pytest.fixture(scope="module")
def vm(built: Path, provisioned: Path, card_secrets: dict[str, bytes], table: Table,
       tmp_path_factory: pytest.TempPathFactory) -> Iterator[Vm]:
    enlarge_disk(provisioned)  # as an SD card is larger than the image: the data partition grows
    machine = Vm(built, provisioned, table, tmp_path_factory.mktemp("vm"))
    try:
        yield machine
    finally:
        machine.close()
        SCREENS.mkdir(parents=True, exist_ok=True)
        shutil.copy(machine.log, SCREENS / "console.log")


def report(vm: Vm) -> dict[str, str]:
    checks = {}
    for line in vm.lines:
        if line.startswith("CHECK "):
            _, name, verdict, *detail = line.split(" ")
            checks[name] = verdict + " " + " ".join(detail)
    return checks


def ikt_ssh(table: Table, key: Path, command: str, patience: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``command`` on the VM as the IT team does (ssh ikt@… with the provisioned key),
    retrying while ssh itself fails (exit 255: the link is coming back) for ``patience`` s."""
    ssh = ["ip", "netns", "exec", table.ns, "ssh", "-i", str(key), "-o", "BatchMode=yes",
           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=20",
           f"ikt@{VM_ADDR}", command]
    deadline = time.monotonic() + patience
    while True:
        result = subprocess.run(ssh, capture_output=True, text=True, timeout=240)
        if result.returncode != 255 or time.monotonic() > deadline:
            return result
        time.sleep(5)


def scanner_diagnosis(table: Table, key: Path) -> str:
    """What the IT team would look at when a scan shows nothing: the serial devices, the
    kiosk's journal lines about its scanner."""
    result = ikt_ssh(table, key, "ls -l /dev/ttyUSB* /dev/valgkiosk-scanner 2>&1; "
                     "journalctl -b -u valgkiosk --no-pager -o cat 2>&1 | grep -i -E 'skann|scan|serial|tty' | tail -n 30",
                     patience=30)
    return f"--- on the VM (ssh exit {result.returncode}):\n{result.stdout}{result.stderr}"


# -- the steps, in order, on one boot --------------------------------------------------------------


@pytest.mark.timeout(BUILD_TIMEOUT_S + BOOT_TIMEOUT_S + 600)
def test_image_boots_into_the_hardened_kiosk(vm: Vm) -> None:
    vm.wait("the self-test's report", lambda: any(x.startswith("VALGKIOSK-SELFTEST END") for x in vm.lines),
            BOOT_TIMEOUT_S)
    ended = time.monotonic() - vm.started
    ready = next((i for i, x in enumerate(vm.lines) if "valgkiosk check-off kiosk" in x and "Started" in x), None)
    (REPO / "build").mkdir(exist_ok=True)
    (REPO / "build" / "image-boot-times.txt").write_text(f"selftest_end_s={ended:.0f} kiosk_started={ready is not None}\n",
                                                         encoding="utf-8")
    checks = report(vm)
    failed = {name: v for name, v in checks.items() if not v.startswith("ok")}
    assert set(REQUIRED) <= set(checks), f"missing checks: {set(REQUIRED) - set(checks)}\n{vm.tail()}"
    assert failed == {}, f"{failed}\n{vm.tail()}"
    check_platform(checks, vm.tail())
    # not a Pi: the data partition's unit loads no OTP module, and does not fail for it
    assert any("valgkiosk_otp not loaded" in line for line in vm.lines), vm.tail()


def check_platform(checks: dict[str, str], tail: str) -> None:
    """The Pi platform's part of the report: every check there and ok; the clock's source
    is the virt machine's PL031 RTC (no NTP: the VM's network reaches nothing)."""
    assert set(PLATFORM_REQUIRED) <= set(checks), f"missing checks: {set(PLATFORM_REQUIRED) - set(checks)}\n{tail}"
    assert "label=" in checks["lgpio-gpiochip"] and "read=[" in checks["lgpio-gpiochip"], checks["lgpio-gpiochip"]
    assert "source=rtc" in checks["clock-source"] or "source=ntp" in checks["clock-source"], checks["clock-source"]
    # the data partition encrypted at first boot, with the provisioned file secret, said plainly
    assert "fstype=crypto_LUKS" in checks["data-encrypted"] and "mapping=CRYPT-LUKS2-" in checks["data-encrypted"]
    assert "ikke bundet til maskinvaren" in checks["data-encrypted"], checks["data-encrypted"]


@pytest.mark.timeout(300)
def test_the_clerk_sees_the_idle_screen_and_no_kernel_message(vm: Vm) -> None:
    vm.wait_screen("the idle screen", lambda s: "SKANN VALGKORT" in s, timeout=180)
    # the screen-watch writes a critical kernel message every 20 s: it must land on tty3
    vm.wait("a kernel message on tty3", lambda: "kjernemelding" in vm.screen(3), timeout=90)
    time.sleep(1)
    idle = vm.screen()
    vm.screendump("idle")
    everything_on_tty1 = "\n".join(text for _, text in vm.screens[1])
    assert "kjernemelding" not in everything_on_tty1 and "valgkiosk-screenwatch" not in everything_on_tty1
    assert "Traceback" not in everything_on_tty1
    # the probes work in the unit's sandbox: no alarm on a healthy network
    assert "SKANN VALGKORT" in idle and "ALARM" not in idle, idle


@pytest.mark.timeout(300)
def test_scan_and_enter_check_the_voter_off_once(vm: Vm, table: Table, ikt_key: Path) -> None:
    number = KARI.manntallsnummer
    assert table.checkoffs(number) == 0
    vm.scan(number)
    try:
        # the confirm screen names the voter in capitals, to compare with the ID
        vm.wait_screen("the voter to confirm", lambda s: "KARI PRØVESEN" in s and "Enter" in s)
    except AssertionError as timeout:
        raise AssertionError(f"{timeout}\n{scanner_diagnosis(table, ikt_key)}") from None
    assert table.checkoffs(number) == 0  # nothing is recorded before the clerk confirms
    vm.qmp.keys("ret")
    vm.wait_screen("KRYSSET AV", lambda s: "KRYSSET AV" in s)
    vm.screendump("krysset-av")
    vm.qmp.keys("ret")  # a second Enter must not check off again
    time.sleep(3)
    assert table.checkoffs(number) == 1


@pytest.mark.timeout(300)
def test_an_unlisted_keyboard_is_refused(vm: Vm) -> None:
    before = vm.screen()
    vm.qmp.keys("f6", device=None)  # the caretaker's page, if this keyboard worked
    time.sleep(4)
    assert "Vaktmester" not in vm.screen() or "Vaktmester" in before
    devices = next(v for k, v in report(vm).items() if k == "usb-only-allowed")
    assert "1-3=0627:0001=0" in devices, devices  # the kernel never authorised it
    assert "1-1=0627:0001=1" in devices and "1-2=0403:6001=1" in devices, devices


@pytest.mark.timeout(600)
def test_cut_link_raises_the_alarm_and_the_chair_starts_the_routine(vm: Vm, table: Table) -> None:
    table.cut()
    alarm = vm.wait_screen("the alarm", lambda s: "ALARM" in s, timeout=180)
    assert "ruter" in alarm.lower(), alarm
    vm.screendump("alarm")
    vm.qmp.keys("f5")
    vm.wait_screen("the chair's PIN prompt", lambda s: "PIN" in s, timeout=60)
    vm.qmp.type(CHAIR_PIN + "\n")
    routine = vm.wait_screen("the emergency routine", lambda s: "BEREDSKAP" in s.upper() and "PIN" not in s,
                             timeout=120)
    vm.screendump("beredskap")
    assert "Traceback" not in routine


@pytest.mark.timeout(300)
def test_an_emergency_vote_is_recorded_and_the_loggbok_verifies(vm: Vm) -> None:
    """The loggbok on the encrypted partition, signed with the key moved there: Kari's
    emergency vote (her manntallsnummer goes into the loggbok), then F11's chain check."""
    vm.scan(KARI.manntallsnummer)
    flat = " ".join  # the screen's lines as one text: a sentence may wrap
    vm.wait_screen("the voter checked off here already", lambda s: "krysset av elektronisk" in flat(s.split()),
                   timeout=120)
    for _ in range(4):
        vm.qmp.keys("ret")
        time.sleep(3)
    vm.wait_screen("the emergency vote counted", lambda s: "er talt" in flat(s.split()), timeout=120)
    vm.qmp.keys("f11")
    chain = vm.wait_screen("the loggbok's chain", lambda s: "LOGGBOK" in s and "føringer" in s, timeout=120)
    vm.screendump("loggbok")
    assert "kjeden er intakt" in flat(chain.split()) and "ikke intakt" not in flat(chain.split()), chain
    vm.qmp.keys("esc")


@pytest.mark.timeout(300)
def test_ssh_with_the_provisioned_key_runs_the_selftest(vm: Vm, table: Table, ikt_key: Path) -> None:
    run("ip", "-n", table.ns, "link", "set", TAP, "up")
    result = ikt_ssh(table, ikt_key, "/usr/lib/valgkiosk/selftest", patience=180)
    assert "VALGKIOSK-SELFTEST END" in result.stdout, result.stdout + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("CHECK ") and " ok " not in line + " "]
    assert failed == [], result.stdout
    # the data partition as the IT team sees it: LUKS on the partition, the mapping's ext4 on /data
    disks = json.loads(ikt_ssh(table, ikt_key, "lsblk -J -o NAME,FSTYPE,TYPE,MOUNTPOINT").stdout)
    parts = {p["name"]: p for d in disks["blockdevices"] for p in d.get("children", [])}
    data = parts["vda3"]
    assert data["fstype"] == "crypto_LUKS", disks
    assert [(c["name"], c["type"], c["fstype"], c["mountpoint"]) for c in data["children"]] == [
        ("valgdata", "crypt", "ext4", "/data")], disks


@pytest.mark.timeout(300)
def test_the_card_holds_nothing_readable(vm: Vm, table: Table, ikt_key: Path, provisioned: Path,
                                         card_secrets: dict[str, bytes]) -> None:
    """After the VM stopped (everything written synced first): the raw disk holds neither
    the voter nor the kiosk's secrets in clear text; the boot partition lost the secrets
    (the file secret stays: QEMU has no OTP, the doc says what that means)."""
    ikt_ssh(table, ikt_key, "sync", patience=60)
    vm.close()
    # the secrets nowhere on the disk
    assert in_raw_image(provisioned, card_secrets) == set()
    # the voter nowhere on the partitions the kiosk writes (boot, data); the read-only root
    # is the same public image on every card, and its docs and test data do name Kari
    voter = {"name": "Prøvesen".encode(), "NAME": "PRØVESEN".encode(),
             "manntallsnummer": KARI.manntallsnummer.encode(), "fodselsnummer": KARI.fodselsnummer.encode()}
    assert in_raw_image(provisioned, voter, partitions=(1, 3)) == set()
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    start = int(subprocess.run(["sfdisk", "--json", str(provisioned)], capture_output=True, text=True, check=True)
                .stdout.split('"start":')[1].split(",")[0])
    listing = subprocess.run(["mdir", "-b", "-i", f"{provisioned}@@{start * 512}", "::/valgkiosk"],
                             capture_output=True, text=True, check=True, env=env).stdout
    names = {Path(line.strip()).name for line in listing.splitlines() if line.strip()}
    assert "station.toml" in names and "data-secret" in names, listing
    assert not names & set(SECRETS), listing


def luks2_keyslots(img: Path, number: int = 3) -> dict[str, object]:
    """The keyslots of the LUKS2 header at the start of partition ``number``, read from its
    JSON area (the binary header gives the header's size; the JSON follows at 4 KiB)."""
    with img.open("rb") as f:
        f.seek(partition_offset(img, number))
        binary = f.read(4096)
        assert binary[:6] == b"LUKS\xba\xbe" and int.from_bytes(binary[6:8], "big") == 2, binary[:8]
        header_size = int.from_bytes(binary[8:16], "big")
        metadata = json.loads(f.read(header_size - 4096).split(b"\0", 1)[0])
    return metadata["keyslots"]  # type: ignore[no-any-return]


@pytest.mark.timeout(BOOT_TIMEOUT_S + 600)
def test_after_the_election_the_wipe_boot_exports_the_loggbok_and_destroys_the_data(
        built: Path, provisioned: Path, table: Table, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The IT team adds valgkiosk.wipe to cmdline.txt and boots the card (after the steps
    above: the loggbok holds Kari's emergency vote). The kiosk does not start; the screen
    says what was done; the Pi switches itself off. On the card: the loggbok exported to
    the boot partition, verified with the key from provisioning; the file secret gone; the
    data partition's LUKS header without a keyslot, and Kari's numbers on no partition the
    kiosk writes except in the export. Booted again as a kiosk, the card says it is wiped."""
    assert luks2_keyslots(provisioned), "the data partition had a keyslot before the wipe"
    vm = Vm(built, provisioned, table, tmp_path_factory.mktemp("vm-wipe"), words="valgkiosk.wipe valgkiosk.screenwatch")
    try:
        flat = " ".join
        done = vm.wait_screen("the wipe's result", lambda s: "SLETTING ETTER VALGET: FERDIG" in s
                              or "STOPPET" in s or "IKKE FERDIG" in s, timeout=BOOT_TIMEOUT_S)
        vm.screendump("sletting")
        assert "FERDIG" in done and "kan ikke leses igjen" in flat(done.split()), vm.tail()
        vm.wait("the Pi switching itself off", lambda: vm.proc.poll() is not None, timeout=300)
        assert not any("Started" in line and "valgkiosk check-off kiosk" in line for line in vm.lines), vm.tail()
    finally:
        vm.close()
        shutil.copy(vm.log, SCREENS / "console-wipe.log")
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
    at = f"{provisioned}@@{partition_offset(provisioned, 1)}"
    listing = subprocess.run(["mdir", "-b", "-i", at, "::/valgkiosk-eksport"], capture_output=True, text=True,
                             check=True, env=env).stdout.split()
    exports = [Path(name).name for name in listing if Path(name).name.startswith("loggbok-")]
    assert len(exports) == 1, listing
    export = tmp_path_factory.mktemp("export")
    subprocess.run(["mcopy", "-s", "-i", at, f"::/valgkiosk-eksport/{exports[0]}", "::/valgkiosk-eksport/sletting.txt",
                    str(export)], check=True, env=env, timeout=60)
    copy = export / exports[0]
    public = (copy / "loggbok.key.pub").read_text(encoding="ascii").strip()
    assert public == boot_partition_file(provisioned, "valgkiosk/loggbok.key.pub").strip()
    verified = subprocess.run([sys.executable, "-m", "valgkiosk", "log", "--file", str(copy / "loggbok.jsonl"),
                               "verify", "--public-key", public], capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0 and "er intakt" in verified.stdout, verified.stdout + verified.stderr
    assert KARI.manntallsnummer in (copy / "loggbok.jsonl").read_text(encoding="utf-8")  # her emergency vote
    assert "Nøkkelplassene" in (export / "sletting.txt").read_text(encoding="utf-8")
    names = {Path(n).name for n in subprocess.run(["mdir", "-b", "-i", at, "::/valgkiosk"], capture_output=True,
                                                 text=True, check=True, env=env).stdout.split()}
    assert "data-secret" not in names and "station.toml" in names, names
    assert luks2_keyslots(provisioned) == {}
    # nothing of Kari's on the data partition now (its ciphertext has no key left either)
    voter = {"manntallsnummer": KARI.manntallsnummer.encode(), "fodselsnummer": KARI.fodselsnummer.encode()}
    assert in_raw_image(provisioned, voter, partitions=(3,)) == set()
    again = Vm(built, provisioned, table, tmp_path_factory.mktemp("vm-after"), words="valgkiosk.screenwatch")
    try:
        refused = again.wait_screen("the wiped card's refusal", lambda s: "KAN IKKE STARTE" in s, timeout=BOOT_TIMEOUT_S)
        again.screendump("slettet-kort")
        assert "slettet etter valget" in flat(refused.split()), refused
    finally:
        again.close()
