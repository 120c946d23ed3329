"""The Pi's own boot, from the image build's inputs (no build needed): config.txt's kiosk
settings, the kernel command line, the console font against the display mode, the time
zone and the first-boot growth of the data partition. The same checks run on the built
image's boot partition in test_image_boot.py (check_config_txt, check_cmdline)."""

from __future__ import annotations

import re
from pathlib import Path

from image_stations import REPO

IMAGE = REPO / "image-build"
ROOTFS = IMAGE / "rootfs"

#: config.txt lines the kiosk needs, and why.
CONFIG_TXT_REQUIRED = {
    "dtparam=watchdog=on": "the BCM2835 hardware watchdog that systemd pets",
    "dtoverlay=disable-bt": "Bluetooth off",
    "dtoverlay=disable-wifi": "Wi-Fi off (the kiosk is on the cable)",
    "enable_uart=0": "no serial console",
    "hdmi_force_hotplug=1": "HDMI on even if the screen is switched on after the Pi",
    "disable_overscan=1": "the whole console on the screen",
}
#: Terminus 16x32 (Lat15-Terminus32x16 in console-setup's naming: height x width).
FONT_RE = re.compile(r"^FONT=Lat15-Terminus(\d+)x(\d+)$", re.M)


def config_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def check_config_txt(text: str) -> None:
    """config.txt has every kiosk setting, and nothing turns the radios or the UART back on."""
    lines = config_lines(text)
    missing = {k: why for k, why in CONFIG_TXT_REQUIRED.items() if k not in lines}
    assert missing == {}, f"config.txt lacks {missing}"
    # each setting applies to every model: the filter section in effect is [all] (or none)
    section = "[all]"
    for line in lines:
        if line.startswith("["):
            section = line
        elif line in CONFIG_TXT_REQUIRED:
            assert section == "[all]", f"{line} is under {section}, not [all]"
    assert "enable_uart=1" not in lines[lines.index("enable_uart=0"):], "the UART is switched back on after ours"
    assert display_mode(text) == (1280, 800)


def display_mode(config_txt: str) -> tuple[int, int]:
    """The HDMI mode config.txt forces (hdmi_cvt=W H ...)."""
    found = [line for line in config_lines(config_txt) if line.startswith("hdmi_cvt=")]
    assert len(found) == 1, found
    width, height = found[0].split("=", 1)[1].split()[:2]
    return int(width), int(height)


def check_cmdline(text: str) -> None:
    """The kernel command line: the console never blanks, KMS takes the same mode, the
    kiosk's hardening flags are still there."""
    words = text.split()
    assert "consoleblank=0" in words
    assert "video=HDMI-A-1:1280x800@60" in words
    assert "ro" in words and "usbcore.authorized_default=0" in words


def test_config_txt_settings_of_the_build() -> None:
    check_config_txt((ROOTFS / "etc/default/raspi-firmware-custom").read_text(encoding="utf-8"))


def test_config_txt_check_catches_a_missing_watchdog() -> None:
    text = (ROOTFS / "etc/default/raspi-firmware-custom").read_text(encoding="utf-8")
    broken = text.replace("dtparam=watchdog=on", "")
    try:
        check_config_txt(broken)
    except AssertionError as exc:
        assert "watchdog" in str(exc)
    else:
        raise AssertionError("a config.txt without the watchdog passed")


def test_a_setting_under_a_model_filter_is_caught() -> None:
    text = (ROOTFS / "etc/default/raspi-firmware-custom").read_text(encoding="utf-8")
    try:
        check_config_txt(text.replace("[all]", "[pi4]"))
    except AssertionError as exc:
        assert "under [pi4]" in str(exc)
    else:
        raise AssertionError("settings under [pi4] passed")


def test_cmdline_of_the_build() -> None:
    check_cmdline((ROOTFS / "etc/default/raspi-extra-cmdline").read_text(encoding="utf-8"))


def test_the_console_font_gives_80x25_on_the_display_mode() -> None:
    """1280x800 in Terminus 16x32: 80 columns and 25 rows (the clerk's screens are laid
    out for 80x25 at least)."""
    height, width = (int(n) for n in FONT_RE.search((ROOTFS / "etc/vconsole.conf").read_text()).groups())  # type: ignore[union-attr]
    w, h = display_mode((ROOTFS / "etc/default/raspi-firmware-custom").read_text(encoding="utf-8"))
    assert (w // width, h // height) == (80, 25)


def test_the_font_and_the_tools_are_in_the_image() -> None:
    packages = (IMAGE / "packages.txt").read_text().split()
    # console-setup-linux carries the Terminus fonts; kbd's setfont loads them
    # (systemd-vconsole-setup); fdisk's sfdisk grows the data partition; tzdata is Oslo.
    assert {"console-setup-linux", "kbd", "fdisk", "tzdata"} <= set(packages)


def test_the_time_zone_is_oslo() -> None:
    customize = (IMAGE / "customize.sh").read_text()
    assert 'ln -sfn ../usr/share/zoneinfo/Europe/Oslo "$TREE/etc/localtime"' in customize
    assert 'echo Europe/Oslo >"$TREE/etc/timezone"' in customize


def test_the_data_partition_grows_at_first_boot() -> None:
    """Partition → mapping → file system: the encrypted partition's end moves and the
    mapping follows before the mount (data-unlock, which holds the key), the mounted ext4
    inside the mapping grows after it (grow-data)."""
    unit = (REPO / "systemd/valgkiosk-growdata.service").read_text()
    assert "ExecStart=/usr/lib/valgkiosk/grow-data" in unit and "RequiresMountsFor=/data" in unit
    assert "valgkiosk-growdata.service" in (IMAGE / "customize.sh").read_text()
    unlock = (ROOTFS / "usr/lib/valgkiosk/data-unlock").read_text()
    # the partition's end moves (start kept), the kernel is told, then the mapping is opened and resized
    grow, tell = unlock.index('echo ", +" | sfdisk'), unlock.index("partx --update")
    opened, resized = unlock.index('"$CRYPT" open'), unlock.index('"$CRYPT" resize')
    assert grow < tell < opened < resized
    assert "cryptsetup resize --key-file -" in (IMAGE / "data-crypt.sh").read_text()
    script = (ROOTFS / "usr/lib/valgkiosk/grow-data").read_text()
    assert 'resize2fs "$map"' in script and "map=/dev/mapper/valgdata" in script


def test_lgpio_is_built_for_the_image_and_installed() -> None:
    build = (IMAGE / "build.sh").read_text()
    assert "lgpio-wheel.sh" in build
    assert "valgkiosk lgpio" in (IMAGE / "customize.sh").read_text()
    unit = (REPO / "systemd/valgkiosk.service").read_text()
    assert "Environment=LG_WD=/run/valgkiosk-lgpio" in unit and "RuntimeDirectory=valgkiosk-lgpio" in unit
