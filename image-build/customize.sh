#!/usr/bin/env bash
# mmdebstrap's customize hook: turns the Debian tree at $1 into the kiosk's root file
# system (overlay files, units, users, the kiosk's venv, what runs at boot and what
# never does). $2 is the source checkout. Runs on the build host; commands inside the
# tree run through chroot (arm64 under qemu-user on an x86 host).
set -euo pipefail
TREE=$1
SRC=$2
HERE="$SRC/image-build"

# A clean environment inside the tree: nothing of the build host's (PIP_*, proxies).
in_tree() { chroot "$TREE" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# Files of the OS configuration (udev, journald, logind, sysctl, usbguard, fstab, ...).
cp -a --no-preserve=ownership "$HERE/rootfs/." "$TREE/"
chmod 0600 "$TREE/etc/usbguard/usbguard-daemon.conf"
chmod 0755 "$TREE"/usr/lib/valgkiosk/*

# cryptsetup for the encrypted data partition (docs/personal-data.md), on top of the cached
# Debian base, from the same archive (the build host's resolver for the download; the
# image's own resolv.conf link is set again at the end).
rm -f "$TREE/etc/resolv.conf"
cp -L /etc/resolv.conf "$TREE/etc/resolv.conf"
in_tree apt-get -qq update || echo "customize.sh: apt-get update reported a failure (some index); installing from what it has" >&2
in_tree env DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends cryptsetup-bin >/dev/null
in_tree apt-get -qq clean
rm -rf "$TREE"/var/lib/apt/lists/*
install -m 0755 "$HERE/data-crypt.sh" "$TREE/usr/lib/valgkiosk/data-crypt"

# The project's units.
install -m 0644 "$SRC"/systemd/*.service "$TREE/etc/systemd/system/"
rm -f "$TREE/etc/systemd/system/valgkiosk-register.service"   # the register runs elsewhere

# Users: the kiosk, and the group that owns the GPIO chips.
in_tree groupadd --system gpio
in_tree useradd --system --user-group --home-dir /var/lib/valgkiosk --no-create-home \
  --shell /usr/sbin/nologin --comment "valgkiosk check-off kiosk" valgkiosk
in_tree usermod -a -G input,dialout,lp,gpio valgkiosk
# The IT team's log-in over SSH (keys only, and only when the boot partition has keys).
in_tree useradd --create-home --shell /bin/bash --comment "IT team" --groups systemd-journal ikt

# The kiosk in its own venv. --system-site-packages only for Debian's python3-evdev.
# pip runs from its wheel (no ensurepip: slow under qemu-user, and the kiosk needs no pip).
in_tree python3 -m venv --system-site-packages --without-pip /opt/valgkiosk/venv
pip_wheel=$(cd "$TREE/tmp/wheels" && ls pip-*.whl)
in_tree /opt/valgkiosk/venv/bin/python "/tmp/wheels/$pip_wheel/pip" install -q --no-index --no-cache-dir \
  --find-links /tmp/wheels valgkiosk lgpio
in_tree /opt/valgkiosk/venv/bin/python -c "import lgpio"   # the cross-built wheel loads on the target
rm -rf "$TREE/tmp/wheels"
install -d "$TREE/opt/valgkiosk/docs"
cp "$SRC/README.md" "$TREE/opt/valgkiosk/"
cp "$SRC"/docs/*.md "$TREE/opt/valgkiosk/docs/"
cp "$SRC/config/station.example.toml" "$TREE/opt/valgkiosk/"

# The station config lives on the boot partition; the import unit copies it to /run.
install -d "$TREE/etc/valgkiosk"
ln -sfn /run/valgkiosk/station.toml "$TREE/etc/valgkiosk/station.toml"
ln -sfn /run/valgkiosk/credential "$TREE/etc/valgkiosk/credential"
ln -sfn /run/valgkiosk/register-ca.pem "$TREE/etc/valgkiosk/register-ca.pem"
ln -sfn /run/valgkiosk/loggbok.key "$TREE/etc/valgkiosk/loggbok.key"
ln -sfn /run/valgkiosk/70-valgkiosk-devices.rules "$TREE/etc/udev/rules.d/70-valgkiosk-devices.rules"

# Mount points on the read-only root (see etc/fstab).
install -d "$TREE/data" "$TREE/var/lib/valgkiosk" "$TREE/var/log/journal" "$TREE/var/lib/systemd/timesync"
# State directories that services would otherwise try (and fail) to create at boot.
install -d "$TREE/var/lib/systemd/linger" "$TREE/var/log/usbguard"

# What runs at boot, what never does.
in_tree systemctl enable valgkiosk.service valgkiosk-config.service valgkiosk-vtlock.service \
  valgkiosk-datacrypt.service valgkiosk-keys.service \
  valgkiosk-selftest.service valgkiosk-screenwatch.service systemd-networkd.service systemd-resolved.service \
  systemd-timesyncd.service usbguard.service ssh.service >/dev/null 2>&1
# The Pi's own boot (issue 17): the data partition grown to the card, the clock rules, the low-battery power-off, the platform self-test.
install -m 0644 "$SRC"/systemd/*.path "$TREE/etc/systemd/system/"
in_tree systemctl enable valgkiosk-growdata.service valgkiosk-selftest-platform.service valgkiosk-clock.service valgkiosk-poweroff.path >/dev/null 2>&1
# The IT team's device self-test at the table, only on a boot with valgkiosk.devicetest.
in_tree systemctl enable valgkiosk-devicetest.service >/dev/null 2>&1
# After the election, only on a boot with valgkiosk.wipe: export, destroy, power off.
in_tree systemctl enable valgkiosk-wipe.service >/dev/null 2>&1
in_tree systemctl disable ssh.socket >/dev/null 2>&1 || true
# No getty anywhere (no console log-in, no serial console), no Ctrl-Alt-Del, no first-boot
# questions on the clerk's screen, no maintenance timers writing to the read-only root,
# no networkd state on it, no D-Bus interface to USBGuard (nothing here may change it).
in_tree systemctl mask getty@.service autovt@.service serial-getty@.service console-getty.service \
  container-getty@.service getty-static.service ctrl-alt-del.target systemd-firstboot.service \
  apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer e2scrub_reap.service \
  fstrim.timer man-db.timer systemd-random-seed.service systemd-networkd-persistent-storage.service \
  usbguard-dbus.service >/dev/null 2>&1
in_tree systemctl set-default multi-user.target >/dev/null 2>&1

# Per-machine secrets must not be baked into every image: no SSH host keys (made on the
# data partition at first use), an empty machine-id (the provisioning sets one).
rm -f "$TREE"/etc/ssh/ssh_host_*
: >"$TREE/etc/machine-id"
rm -f "$TREE/var/lib/dbus/machine-id"
echo valgkiosk >"$TREE/etc/hostname"
# Norwegian time: the loggbok, the screen and the receipts show Europe/Oslo.
ln -sfn ../usr/share/zoneinfo/Europe/Oslo "$TREE/etc/localtime"
echo Europe/Oslo >"$TREE/etc/timezone"

# The initramfs once, now that every package and setting is in (build.sh diverted
# update-initramfs during the install, which would otherwise have run it twice). Its
# raspi-firmware hook copies kernel, initramfs and device trees to /boot/firmware and
# writes cmdline.txt from /etc/default/raspi-firmware and raspi-extra-cmdline.
rm -f "$TREE/usr/sbin/update-initramfs"
in_tree dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
kver=$(find "$TREE/lib/modules" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n1)
in_tree update-initramfs -c -k "$kver" >/dev/null
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$TREE/etc/resolv.conf"
