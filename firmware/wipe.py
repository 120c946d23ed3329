"""``valgkiosk wipe``: after the election, the IT team destroys the personal data on the
kiosk's data partition, but only once the loggbok is safely exported and verified.

In order, and stopping at the first step that fails (nothing destroyed):

1. the kiosk must not be running (systemd's ``valgkiosk.service``);
2. the loggbok must verify (its chain, and the heads and public key given): a damaged
   loggbok is refused unless ``even_if_damaged``, because the export is then the only
   evidence left of what went wrong;
3. it is exported to a folder outside the data partition (a USB stick for valgstyret):
   the loggbok byte for byte, its CSV for the minutes, the torn lines kept aside, the
   public key and the head; every file fsynced, then read back and compared;
4. every file on the data partition is overwritten with zeros, fsynced and unlinked
   (the loggbok, its reserve, the print queue, the signing key, the technical log).

Overwriting is what a program can do; on an SD card the flash controller may keep old
copies in cells it has remapped. The lasting protection is the encryption of the data
partition with a key bound to the Pi, whose wrapped copy wipe destroys too
(docs/personal-data.md; that part belongs to the image).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from valgkiosk.core.loggbok import BadLine, Head, from_line, head_of, verify
from valgkiosk.printqueue import destroy
from valgkiosk.journal import export, read_lines


class WipeRefused(Exception):
    """Wipe did not destroy anything; the message (Norwegian) says why and what to do."""


class EraseFailed(Exception):
    """The files were destroyed but the encrypted partition's keyslots were not; the
    message (Norwegian) says so."""


@dataclass
class WipeReport:
    """What wipe did: where the export went, the head it holds, the files destroyed."""

    export_dir: Path
    head: Head
    destroyed: list[Path] = field(default_factory=list)
    luks_erased: Path | None = None  # the encrypted data partition whose keyslots were destroyed


def is_luks(device: Path) -> bool:
    """Whether ``device`` holds a LUKS header (``cryptsetup isLuks``)."""
    if shutil.which("cryptsetup") is None:
        return False
    return subprocess.run(["cryptsetup", "isLuks", str(device)], check=False, timeout=30).returncode == 0


def luks_erase(device: Path) -> None:
    """Destroy every keyslot of the LUKS volume on ``device`` (``cryptsetup luksErase``):
    the volume key, wrapped by the board-bound key, is gone, and with it every copy of the
    data that flash or the file system's journal kept (docs/personal-data.md)."""
    done = subprocess.run(["cryptsetup", "luksErase", "--batch-mode", str(device)], capture_output=True, text=True,
                          check=False, timeout=60)
    if done.returncode != 0:
        raise OSError(f"cryptsetup luksErase {device}: {done.stderr.strip()[:200] or done.returncode}")


def kiosk_running() -> bool:
    """True when systemd says the kiosk's service is active (False without systemd)."""
    if not Path("/run/systemd/system").is_dir() or shutil.which("systemctl") is None:
        return False
    result = subprocess.run(["systemctl", "is-active", "--quiet", "valgkiosk.service"], check=False, timeout=10)
    return result.returncode == 0


def wipe(
    data_dir: Path,
    export_to: Path,
    *,
    loggbok: Path | None = None,
    expect: Sequence[Head] = (),
    check_signature: Callable[[str, str], bool] | None = None,
    even_if_damaged: bool = False,
    extra: Sequence[Path] = (),
    running: Callable[[], bool] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now().astimezone(),
    luks_device: Path | None = None,
    also_export: Mapping[str, bytes] | None = None,
) -> WipeReport:
    """Export and verify the loggbok, then destroy every file under ``data_dir`` (and the
    files in ``extra``, e.g. a technical log elsewhere) and, with ``luks_device`` (the
    encrypted data partition), its keyslots last. ``also_export`` adds files to the export
    (name: contents; the public key the loggbok was checked with). Raises WipeRefused
    before anything is destroyed."""
    data_dir = data_dir.resolve()
    loggbok = (loggbok or data_dir / "loggbok.jsonl").resolve()
    export_to = export_to.resolve()
    if (running or kiosk_running)():
        raise WipeRefused("Kiosken kjører: stopp den først (systemctl stop valgkiosk.service).")
    if export_to == data_dir or data_dir in export_to.parents:
        raise WipeRefused(f"Eksporten må ligge utenfor datapartisjonen ({data_dir}), for eksempel på en "
                          "minnepinne til valgstyret.")  # fmt: skip
    if not loggbok.is_file():
        raise WipeRefused(f"Finner ikke loggboken {loggbok}: ingenting slettes før den er eksportert.")
    if luks_device is not None and not is_luks(luks_device):
        raise WipeRefused(f"{luks_device} er ikke et kryptert LUKS-volum (eller cryptsetup mangler): ingenting er "
                          "slettet.")
    lines = read_lines(loggbok)
    problems = verify(lines, expect=expect, check_signature=check_signature)
    if problems and not even_if_damaged:
        listed = "\n".join(f"  {p.message}" for p in problems[:10])
        raise WipeRefused(f"Loggboken er ikke intakt, så ingenting slettes:\n{listed}\n"
                          "Ta kontakt med valgstyret; med --even-if-damaged eksporteres den som den er, og "
                          "slettes deretter.")  # fmt: skip
    entries = []
    for line in lines:
        try:
            entries.append(from_line(line))
        except BadLine:
            pass
    head = head_of(entries)
    target = export_to / f"loggbok-{now():%Y%m%d-%H%M%S}"
    try:
        _export(loggbok, target, entries, head, problems=[p.message for p in problems], also=also_export or {})
    except OSError as exc:
        raise WipeRefused(f"Eksporten til {target} mislyktes ({exc.strerror or exc}): ingenting er slettet.") from None
    report = WipeReport(target, head)
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file() or p.is_symlink()):
        if path.is_symlink():
            path.unlink()
        elif destroy(path):
            report.destroyed.append(path)
    for folder in sorted((p for p in data_dir.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        try:
            folder.rmdir()
        except OSError:
            pass
    for path in extra:
        if path.is_file() and destroy(path):
            report.destroyed.append(path)
    _fsync_dir(data_dir)
    if luks_device is not None:
        try:
            luks_erase(luks_device)
        except OSError as exc:
            raise EraseFailed(f"Filene er slettet, men nøkkelplassene på {luks_device} kunne ikke slettes ({exc}); "
                              "kjør «cryptsetup luksErase» selv.") from None
        report.luks_erased = luks_device
    return report


def _export(loggbok: Path, target: Path, entries: list, head: Head, *, problems: list[str],  # type: ignore[type-arg]
            also: Mapping[str, bytes]) -> None:
    """Copy and describe the loggbok in ``target``; read every copy back and compare."""
    target.mkdir(parents=True, exist_ok=False)
    copies: dict[str, bytes] = {**also, "loggbok.jsonl": loggbok.read_bytes()}
    for companion, name in ((loggbok.with_name(loggbok.name + ".torn"), "loggbok.jsonl.torn"),
                            (loggbok.parent / "loggbok.key.pub", "loggbok.key.pub")):
        if companion.is_file():
            copies[name] = companion.read_bytes()
    copies["loggbok.csv"] = export(entries, "csv").encode("utf-8")
    summary = [f"kjedehode {head.text()}", f"sha256 {hashlib.sha256(copies['loggbok.jsonl']).hexdigest()}",
               *(f"problem: {p}" for p in problems)]
    copies["kjedehode.txt"] = ("\n".join(summary) + "\n").encode("utf-8")
    for name, data in copies.items():
        with open(target / name, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    _fsync_dir(target)
    for name, data in copies.items():
        if (target / name).read_bytes() != data:
            raise OSError(f"kopien {name} er ikke lik originalen")
    if verify(read_lines(target / "loggbok.jsonl")) != verify(read_lines(loggbok)):
        raise OSError("kopien av loggboken verifiserer ikke som originalen")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
