# shellcheck shell=bash
# The image's fixed layout, shared by build.sh, provision.sh and the boot test. Sourced.
# shellcheck disable=SC2034
TARGET_PYTHON=3.13          # the suite's python3 (trixie: 3.13); the wheels are built for it
BOOT_LABEL=VALGBOOT         # FAT volume label (11 characters at most, upper case)
BOOT_VOLID=7a1b0001         # FAT volume id: fixed so that builds compare
ROOT_LABEL=valgroot
ROOT_UUID=6f1c2a55-3c8e-4c2b-9a51-0a7d2b1e0001
DATA_LABEL=valgdata
DATA_UUID=6f1c2a55-3c8e-4c2b-9a51-0a7d2b1e0003
DISK_ID=0x7a1b0001          # MBR disk identifier (the Pi 3 boots from MBR only)
BOOT_START_MIB=4
BOOT_MIB=256
DATA_MIB=512
SDIST_ONLY="sdnotify"     # pure-Python dependencies with no wheel on PyPI (built on the host)
