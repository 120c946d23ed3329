"""The boot self-test's data-private check (image-build/rootfs/usr/lib/valgkiosk/selftest-platform,
issue 13): the data partition's folders owned and closed as data-unlock and the keystore make
them, run on the host against a folder standing in for /data, as root and as the kiosk's user.
Owners need chown, so these tests run as root only."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from image_stations import REPO

from valgkiosk import keystore

SELFTEST = REPO / "image-build" / "rootfs" / "usr" / "lib" / "valgkiosk" / "selftest-platform"
KIOSK_USER = "nobody"  # stands in for valgkiosk; "daemon" for the IT team's ikt
OTHER_USER = "daemon"
pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                                reason="needs root (chown) and setpriv")


@pytest.fixture
def data() -> Iterator[Path]:
    """A /data as the image has it after the first boot: data-unlock's folders, the secrets
    moved by the keystore. Outside pytest's root-only tmp folder, so other users reach it."""
    top = Path(tempfile.mkdtemp(prefix="valgkiosk-data-"))
    try:
        top.chmod(0o755)
        root = top / "data"
        root.mkdir(mode=0o755)
        kiosk = pwd.getpwnam(KIOSK_USER)
        (root / "valgkiosk").mkdir(mode=0o700)
        os.chown(root / "valgkiosk", kiosk.pw_uid, kiosk.pw_gid)
        (root / "valgkiosk" / "loggbok.jsonl").write_text('{"n": 1}\n', encoding="utf-8")
        os.chown(root / "valgkiosk" / "loggbok.jsonl", kiosk.pw_uid, kiosk.pw_gid)
        (root / "journal").mkdir(mode=0o755)
        (root / "timesync").mkdir(mode=0o755)
        (root / "ssh").mkdir(mode=0o700)
        boot = top / "boot"
        boot.mkdir()
        (boot / "credential").write_text("kiosk-credential-" + "k" * 24, encoding="utf-8")
        (boot / "loggbok.key").write_text("-----BEGIN PRIVATE KEY-----\n", encoding="ascii")
        assert keystore.move_secrets(boot, root / "keys") == ["credential", "loggbok.key"]
        yield root
    finally:
        shutil.rmtree(top)


def selftest(root: Path, *, user: str | None = None) -> list[str]:
    """The script's CHECK lines, run on ``root`` (as ``user``, else as root); the probe off."""
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "VALGKIOSK_DATA_DIR": str(root), "VALGKIOSK_USER": KIOSK_USER,
           "VALGKIOSK_PYTHON": "/bin/true"}
    command = [str(SELFTEST)]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={pwd.getpwnam(user).pw_gid}", "--clear-groups", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env, cwd="/")
    assert "Traceback" not in done.stderr
    return done.stdout.splitlines()


def data_private(lines: list[str]) -> str:
    found = [line for line in lines if line.startswith("CHECK data-private ")]
    assert len(found) == 1, lines
    return found[0]


def test_the_folders_as_the_first_boot_makes_them_pass(data: Path) -> None:
    line = data_private(selftest(data))
    assert line.startswith("CHECK data-private ok "), line
    assert "keys=checked" in line  # as root the key files were looked at too


def test_as_the_kiosk_user_the_check_runs_and_the_secrets_stay_closed(data: Path) -> None:
    # the unit runs as the kiosk's user: it cannot list /data/keys, and needs not to
    line = data_private(selftest(data, user=KIOSK_USER))
    assert line.startswith("CHECK data-private ok ") and "keys=present" in line, line
    # what the modes are for: another user (the IT team's ikt) reads neither the loggbok nor
    # the keys, and the kiosk's own user not the keys
    for user, path in ((OTHER_USER, data / "valgkiosk" / "loggbok.jsonl"), (OTHER_USER, data / "keys" / "credential"),
                       (KIOSK_USER, data / "keys" / "loggbok.key")):
        read = subprocess.run(["setpriv", f"--reuid={user}", f"--regid={pwd.getpwnam(user).pw_gid}", "--clear-groups",
                               "cat", str(path)], capture_output=True, text=True, timeout=30)
        assert read.returncode != 0 and "Permission denied" in read.stderr, (user, path)


def chmod(mode: int) -> Callable[[Path], None]:
    return lambda path: path.chmod(mode)


@pytest.mark.parametrize(("where", "change", "found"), [
    ("", chmod(0o777), "mode=0777 owner=root"),
    ("", chmod(0o775), "mode=0775 owner=root"),
    ("valgkiosk", chmod(0o750), "mode=0750 owner=nobody"),
    ("valgkiosk", chmod(0o701), "mode=0701 owner=nobody"),
    ("valgkiosk", lambda path: os.chown(path, 0, 0), "mode=0700 owner=root"),
    ("keys", chmod(0o750), "mode=0750 owner=root"),
    ("keys", lambda path: os.chown(path, pwd.getpwnam(KIOSK_USER).pw_uid, -1), "mode=0700 owner=nobody"),
    ("keys/credential", chmod(0o640), "mode=0640 owner=root"),
    ("keys/loggbok.key", chmod(0o604), "mode=0604 owner=root"),
    ("ssh", chmod(0o755), "mode=0755 owner=root"),
])
def test_a_mode_or_owner_out_of_place_fails_naming_path_and_mode(
        data: Path, where: str, change: Callable[[Path], None], found: str) -> None:
    path = data / where if where else data
    change(path)
    line = data_private(selftest(data))
    assert line.startswith("CHECK data-private FAIL "), line
    assert f"{path} (" in line and found in line, line
    assert line.count(";") == 0  # only the one thing changed is named


def test_a_missing_or_linked_folder_fails(data: Path) -> None:
    shutil.rmtree(data / "ssh")
    line = data_private(selftest(data))
    assert line == f"CHECK data-private FAIL {data / 'ssh'} missing"
    # a link to a folder with the right modes is not the folder (the loggbok could be elsewhere)
    (data / "ssh").mkdir(mode=0o700)
    (data / "valgkiosk").rename(data / "elsewhere")
    (data / "valgkiosk").symlink_to(data / "elsewhere")
    line = data_private(selftest(data))
    assert line.startswith(f"CHECK data-private FAIL {data / 'valgkiosk'} (symbolic link)"), line
    # and no /data at all: every folder named
    line = data_private(selftest(data / "not-mounted"))
    assert line.startswith("CHECK data-private FAIL ") and line.count("missing") == 3, line


def test_without_moved_secrets_there_is_nothing_to_check_there(data: Path) -> None:
    shutil.rmtree(data / "keys")
    line = data_private(selftest(data))
    assert line.startswith("CHECK data-private ok ") and "keys=absent" in line, line
