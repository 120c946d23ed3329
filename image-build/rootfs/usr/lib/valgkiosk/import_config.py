"""Imports the station configuration from the boot partition at every boot.

Run by ``valgkiosk-config.service`` (with the kiosk's venv Python, so that the
configuration is validated by the very code the kiosk runs): copies
``/boot/firmware/valgkiosk/`` (station.toml, the register credential, the register's CA,
the loggbok's signing key, the IT team's SSH keys) to ``/run/valgkiosk``, validates it, and generates from it the
udev rules that give the kiosk user its scanner and printer and the USBGuard policy that
allows those and blocks every other USB device. If anything is wrong, the clerk's screen
(tty1) says so in Norwegian, the journal gets the details, and the unit fails, so the
kiosk (which Requires= this unit) never starts.

The generators are plain functions (``usbguard_policy``, ``udev_rules``) so that the
provisioning tool and the tests use exactly what the kiosk uses at boot.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from valgkiosk import config as cfg

BOOT_DIR = Path(os.environ.get("VALGKIOSK_BOOT_DIR", "/boot/firmware/valgkiosk"))
RUN_DIR = Path(os.environ.get("VALGKIOSK_RUN_DIR", "/run/valgkiosk"))
#: The secrets (credential, loggbok key) after valgkiosk-keys.service moved them off the
#: boot partition onto the encrypted data partition (valgkiosk.keystore).
KEYS_DIR = Path(os.environ.get("VALGKIOSK_KEYS_DIR", "/data/keys"))
SCREEN = os.environ.get("VALGKIOSK_SCREEN", "/dev/tty1")
KIOSK_GROUP = "valgkiosk"
ETC = Path("/etc/valgkiosk")
#: What every user may read goes to /run/PUBLIC_DIR_NAME/ (beside RUN_DIR): the IT team's
#: authorized_keys (sshd reads them as the user logging in) and a copy of the USB policy
#: in force (the self-test over SSH checks the authorised devices against it).
PUBLIC_DIR_NAME = "valgkiosk-public"

#: Files copied from the boot partition when present (the station config is required);
#: loggbok.key is the kiosk's loggbok signing key, made by provision.sh.
IMPORTED = ("station.toml", "credential", "register-ca.pem", "loggbok.key")

#: USB devices every kiosk needs whatever its config: hubs (the Pi 4's VL805, hubs in
#: between) and the Pi 3's on-board Ethernet, which sits on USB (LAN9514, LAN7515).
BASE_POLICY = """\
# Hubs: the board's own and any hub between the board and the scanner or printer.
allow with-interface equals { 09:00:* }
# Raspberry Pi 3 B / 3 B+: the on-board Ethernet adapter is a USB device.
allow id 0424:ec00
allow id 0424:7800
"""


class DeviceError(ValueError):
    """A station config that is valid for the kiosk but names a USB device the image
    cannot write a rule for; the message is Norwegian, for the IT team."""


#: What each kind of device may present (USB interface class:subclass:protocol), so that a
#: device that only claims a configured id but is something else (mass storage, a network
#: adapter) is rejected. ``match-all``: every interface the device has must be one of these.
SCANNER_HID = "03:00:* 03:01:01"          # a HID keyboard (and the non-boot HID POS interface)
SCANNER_SERIAL = "02:02:* 0a:00:* ff:*:*"  # CDC ACM, or a vendor-specific USB-serial chip
PRINTER = "07:01:*"                        # the USB printer class
MODEM = "02:02:* 0a:00:* ff:*:*"           # CDC ACM, or the vendor-specific serial ports of a modem
KEYBOARD = "03:01:01"                      # a HID boot keyboard, and nothing else (``equals``)

#: Characters that may never reach a USBGuard string or a udev match: quotes and
#: backslashes end or escape strings, glob characters and "|" widen udev matches.
_UNSAFE = set('"\\*?[]|')


def _quoted(value: str, what: str) -> str:
    """A string for a USBGuard or udev rule, or a DeviceError if it cannot be one safely."""
    if (any(c in _UNSAFE or not c.isprintable() for c in value) or not value.strip()
            or value != value.strip()):
        raise DeviceError(f"{what} «{value}» kan ikke brukes i en regel (tegn som \" \\ * ? [ ] | og "
                          "kontrolltegn er ikke lov).")
    return f'"{value}"'


def _port(port: str | None, what: str) -> str:
    """USBGuard's ``via-port`` clause for a configured port ("" without one)."""
    return "" if port is None else f" via-port {_quoted(port, what + ' port')}"


def _usb_match(vendor: int | None, product: int | None, name: str | None, what: str) -> str | None:
    """The USBGuard match for a device given by ids or by name (None: not a USB device).
    A vendor without a product would admit every device of that vendor: refused."""
    if vendor is not None:
        if product is None:
            raise DeviceError(f"{what}: «vendor» er satt uten «product»; USB-vakten ville slippe til alt "
                              "fra den produsenten. Oppgi begge.")
        return f"id {vendor:04x}:{product:04x}"
    if product is not None:
        raise DeviceError(f"{what}: «product» er satt uten «vendor»; USB-vakten trenger begge.")
    if name:
        return f"name {_quoted(name, what + ' navn')}"
    return None


def _allow(match: str, port: str | None, interfaces: str, what: str, *, exactly: bool = False) -> str:
    operator = "equals" if exactly else "match-all"
    return f"allow {match}{_port(port, what)} with-interface {operator} {{ {interfaces} }}"


def usbguard_policy(config: cfg.StationConfig) -> str:
    """The USBGuard rules for this table: the base devices, then the scanner, the clerk's
    keyboard, the printer and the modem, each by its ids (and port, if configured) and the
    interfaces its kind may present; the last rule blocks everything else."""
    lines = [BASE_POLICY.rstrip("\n")]
    sc = config.scanner
    if sc.kind in ("evdev", "serial"):
        match = _usb_match(sc.vendor, sc.product, sc.name, "skanneren")
        if match is None:
            if sc.kind == "serial" and sc.device and not _is_usb_tty(sc.device):
                pass  # a serial port on the board itself: no USB rule needed
            else:
                raise DeviceError("skanneren må angis med «vendor» og «product» (eller «name») "
                                  "for at USB-vakten skal slippe den til.")
        else:
            kinds = SCANNER_HID if sc.kind == "evdev" else SCANNER_SERIAL
            lines += ["# The hand scanner (station config [scanner]).", _allow(match, sc.port, kinds, "skanneren")]
    kb = getattr(config, "keyboard", None)
    if kb is not None:
        match = _usb_match(kb.vendor, kb.product, None, "tastaturet")
        assert match is not None  # the section requires both ids
        lines += ["# The clerk's keyboard (station config [keyboard]): a HID keyboard, nothing else.",
                  _allow(match, kb.port, KEYBOARD, "tastaturet", exactly=True)]
    pr = config.printer
    if pr.kind in ("usb", "serial", "file"):
        match = _usb_match(pr.vendor, pr.product, None, "skriveren")
        if match is None:
            if pr.kind == "usb" or (pr.device and _is_usb_device(pr.device)):
                raise DeviceError("skriveren må angis med «vendor» og «product» for at USB-vakten skal slippe den til.")
        else:
            kinds = PRINTER if pr.kind in ("usb", "file") else SCANNER_SERIAL
            lines += ["# The receipt printer (station config [printer]).", _allow(match, None, kinds, "skriveren")]
    modem = getattr(config, "modem", None)
    if modem is not None:
        match = _usb_match(modem.vendor, modem.product, None, "modemet")
        if match is None:
            if _is_usb_device(modem.device):
                raise DeviceError("modemet i [modem] er en USB-enhet: oppgi «vendor» og «product» (lsusb) for at "
                                  "USB-vakten skal slippe det til.")
        else:
            lines += ["# The mobile fallback's modem (station config [modem]).", _allow(match, None, MODEM, "modemet")]
    # "block", not "reject": a refused device stays deauthorised (no driver, no interface)
    # but visible, so the self-test can list it and the IT team see what was refused.
    lines += ["# Everything else is blocked.", "block"]
    return "\n".join(lines) + "\n"


def _is_usb_tty(device: str) -> bool:
    return any(part in device for part in ("ttyUSB", "ttyACM", "/by-id/usb-"))


def _is_usb_device(device: str) -> bool:
    """A device node that a USB device brings (serial adapter, modem, usblp printer)."""
    return _is_usb_tty(device) or device.startswith("/dev/usb/")


def _udev_match(vendor: int | None, product: int | None, name: str | None, what: str,
                port: str | None = None) -> list[str]:
    """udev match keys for the device (its USB ancestor's ids, its port), [] for none."""
    where = [] if port is None else [f"KERNELS=={_quoted(port, what + ' port')}"]
    if vendor is not None:
        match = [f'ATTRS{{idVendor}}=="{vendor:04x}"']
        if product is not None:
            match.append(f'ATTRS{{idProduct}}=="{product:04x}"')
        return match + where
    if name:
        return [f"ATTRS{{name}}=={_quoted(name, what + ' navn')}"] + where
    return []


def udev_rules(config: cfg.StationConfig) -> str:
    """udev rules that give the kiosk's group the configured scanner and printer, with
    stable names /dev/valgkiosk-scanner and /dev/valgkiosk-printer."""
    own = f'GROUP="{KIOSK_GROUP}", MODE="0660"'
    lines = ["# Generated at boot by valgkiosk-config.service from the station config. Do not edit."]
    sc = config.scanner
    match = _udev_match(sc.vendor, sc.product, sc.name, "skanneren", getattr(sc, "port", None))
    if sc.kind == "evdev" and match:
        lines.append(", ".join(['SUBSYSTEM=="input"', 'KERNEL=="event*"', *match, own,
                                'SYMLINK+="valgkiosk-scanner"']))
    elif sc.kind == "serial" and match:
        lines.append(", ".join(['SUBSYSTEM=="tty"', *match, own, 'ENV{ID_MM_DEVICE_IGNORE}="1"',
                                'SYMLINK+="valgkiosk-scanner"']))
    pr = config.printer
    pmatch = _udev_match(pr.vendor, pr.product, None, "skriveren")
    if pr.kind == "usb" and pmatch:
        lines.append(", ".join(['SUBSYSTEM=="usb"', 'ENV{DEVTYPE}=="usb_device"',
                                *(m.replace("ATTRS{", "ATTR{") for m in pmatch), own,
                                'SYMLINK+="valgkiosk-printer"']))
    elif pr.kind == "file" and pmatch:
        lines.append(", ".join(['SUBSYSTEM=="usbmisc"', 'KERNEL=="lp*"', *pmatch, own,
                                'SYMLINK+="valgkiosk-printer"']))
    elif pr.kind == "serial" and pmatch:
        lines.append(", ".join(['SUBSYSTEM=="tty"', *pmatch, own, 'ENV{ID_MM_DEVICE_IGNORE}="1"',
                                'SYMLINK+="valgkiosk-printer"']))
    modem = getattr(config, "modem", None)
    mmatch = _udev_match(modem.vendor, modem.product, None, "modemet") if modem is not None else []
    if mmatch:
        lines.append(", ".join(['SUBSYSTEM=="tty"', *mmatch, own, 'ENV{ID_MM_DEVICE_IGNORE}="1"',
                                'SYMLINK+="valgkiosk-modem"']))
    return "\n".join(lines) + "\n"


def check_folder(folder: Path) -> cfg.StationConfig:
    """Validate a boot-partition folder (staged on the IT team's machine, or its copy in
    /run at boot) with the kiosk's own validation plus the device rules, reading
    ``/etc/valgkiosk/NAME`` from the folder itself: on the image that path is a link into
    /run/valgkiosk. Raises cfg.ConfigError with Norwegian sentences."""
    path = folder / "station.toml"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise cfg.ConfigError(path, [f"{path}: filen finnes ikke (minnekortets valgkiosk/station.toml "
                                     "mangler; skriv den med provision.sh)."]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise cfg.ConfigError(path, [f"{path}: filen kan ikke leses ({exc})."]) from None
    config = cfg.parse(text, path)
    reg = config.register_
    files = (("register.credential_file", reg.credential_file), ("register.ca_file", reg.ca_file),
             ("log.signing_key", config.log.signing_key))
    for key, ref in files:
        if ref is None:
            continue
        ref_path = Path(ref)
        local = folder / ref_path.name if ref_path.parent == ETC else folder / ref_path
        if ref_path.is_absolute() and ref_path.parent != ETC:
            raise cfg.ConfigError(path, [f"{path}: nøkkelen «{key}» må peke inn i {ETC}/ eller være et filnavn "
                                         "ved siden av station.toml (imaget har ingen andre filer)."])
        if local.name not in IMPORTED or not local.is_file() or not local.read_text(encoding="utf-8").strip():
            raise cfg.ConfigError(path, [f"{path}: nøkkelen «{key}» peker på en fil som ikke følger med "
                                         f"(legg den ved som {', '.join(IMPORTED[1:])})."])
        if key == "log.signing_key":
            from valgkiosk.signing import SigningKeyError, load_signer

            try:
                load_signer(local)
            except SigningKeyError as exc:
                raise cfg.ConfigError(path, [f"{path}: nøkkelen «{key}»: {exc}."]) from None
    return _with_device_rules(config, path)


def _with_device_rules(config: cfg.StationConfig, path: Path) -> cfg.StationConfig:
    try:
        usbguard_policy(config)
        udev_rules(config)
    except DeviceError as exc:
        raise cfg.ConfigError(path, [f"{path}: {exc}"]) from None
    return config


def import_config(boot: Path | None = None, run: Path | None = None, public: Path | None = None,
                  keys: Path | None = None) -> cfg.StationConfig:
    """Copy the boot partition's files into ``run`` (the secrets from ``keys``, the
    encrypted data partition, once they were moved there), validate, write the generated
    rules."""
    boot = BOOT_DIR if boot is None else boot
    run = RUN_DIR if run is None else run
    keys = KEYS_DIR if keys is None else keys
    run.mkdir(parents=True, exist_ok=True)
    os.chmod(run, 0o750)
    for name in IMPORTED:
        (run / name).unlink(missing_ok=True)
        source = keys / name if (keys / name).is_file() else boot / name
        if source.is_file():
            shutil.copyfile(source, run / name)
            os.chmod(run / name, 0o640)
    # The IT team's SSH keys in a folder that every user may traverse: sshd reads
    # authorized_keys as the user logging in (ikt), who has no way into /run/valgkiosk.
    public = run.parent / PUBLIC_DIR_NAME if public is None else public
    public.mkdir(mode=0o755, exist_ok=True)
    os.chmod(public, 0o755)
    for name in ("authorized_keys", "usbguard-rules.conf"):
        (public / name).unlink(missing_ok=True)
    keys = boot / "authorized_keys"
    if keys.is_file():
        shutil.copyfile(keys, public / "authorized_keys")
        os.chmod(public / "authorized_keys", 0o644)
    config = check_folder(run)
    policy = run / "usbguard-rules.conf"
    policy.write_text(usbguard_policy(config), encoding="utf-8")
    os.chmod(policy, 0o600)
    shutil.copyfile(policy, public / "usbguard-rules.conf")
    os.chmod(public / "usbguard-rules.conf", 0o644)
    (run / "70-valgkiosk-devices.rules").write_text(udev_rules(config), encoding="utf-8")
    os.chmod(run / "70-valgkiosk-devices.rules", 0o644)
    return config


def screen_text(problems: list[str]) -> str:
    """What the clerk's screen says when the kiosk cannot start."""
    lines = [
        "VALGKIOSKEN KAN IKKE STARTE",
        "",
        "Stasjonskonfigurasjonen på minnekortet er ikke gyldig:",
        "",
        *(f"  - {p}" for p in problems),
        "",
        "Kiosken er stoppet. Ikke bruk dette bordet til avkryssing.",
        "Kontakt IKT-ansvarlig (valgtelefonen, valg 3).",
        "Feilen er også skrevet i systemloggen.",
    ]
    return "\n".join(lines)


def show_on_screen(text: str, screen: str | None = None) -> None:
    """Clear the clerk's screen and write ``text`` on it (best effort: the journal has it too)."""
    screen = SCREEN if screen is None else screen
    try:
        with open(screen, "w", encoding="utf-8") as tty:
            tty.write("\033c\n" + text.replace("\n", "\r\n") + "\r\n")
    except OSError as exc:
        print(f"valgkiosk-config: could not write to {screen}: {exc}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    """Import; on failure tell the screen and the journal, and fail the unit. With
    ``--check FOLDER`` (the provisioning tool), only validate a staged folder."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--check"] and len(argv) == 2:
        try:
            check_folder(Path(argv[1]))
        except cfg.ConfigError as exc:
            print("\n".join(exc.problems), file=sys.stderr)
            return 1
        return 0
    try:
        config = import_config()
    except cfg.ConfigError as exc:
        print(str(exc), file=sys.stderr)
        show_on_screen(screen_text(exc.problems))
        return 1
    st = config.station
    print(f"station config imported: kommune {st.kommune} krets {st.krets} bord {st.bord}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
