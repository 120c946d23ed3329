"""The printer drivers' share of the kiosk's start-up (issue 12, docs/benchmarks.md): sim mode
never imports python-escpos (and the YAML, PIL and barcode libraries under it), and where a
real printer is made, python-escpos finds its parsed capabilities in a lasting cache folder
instead of parsing them again into a new temporary folder at every start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)


def run(code: str, cwd: Path, **env: str) -> str:
    """``code`` in a fresh interpreter, without an ESCPOS_CAPABILITIES_PICKLE_DIR of its own."""
    clean = {k: v for k, v in os.environ.items() if k not in ("ESCPOS_CAPABILITIES_PICKLE_DIR", "CACHE_DIRECTORY")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=100,
                          env={**clean, **env}, cwd=cwd)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_a_simulated_printer_is_made_without_python_escpos(tmp_path: Path) -> None:
    out = run("import sys\n"
              "from valgkiosk.drivers.printer import PrinterSettings, build_printer\n"
              "p = build_printer(PrinterSettings(kind='sim', profile='TM-T88V'))\n"
              "print(p.columns, sorted(m for m in sys.modules if m.split('.')[0] in ('escpos', 'yaml', 'PIL', 'barcode')))", tmp_path)
    assert out == "42 []"


def test_the_profile_table_says_what_python_escpos_says() -> None:
    from escpos.printer import Dummy

    from valgkiosk.drivers.printer.settings import PROFILE_COLUMNS

    for profile, columns in PROFILE_COLUMNS.items():
        assert Dummy(profile=profile).profile.get_columns("a") == columns, profile


def test_python_escpos_keeps_its_capabilities_in_the_cache_directory(tmp_path: Path) -> None:
    code = ("import os, valgkiosk.drivers.printer.escpos_printer, escpos.capabilities as c\n"
            "print(os.environ['ESCPOS_CAPABILITIES_PICKLE_DIR']); print(c.pickle_path)")
    env = {"CACHE_DIRECTORY": str(tmp_path / "cache")}
    folder, pickle = run(code, tmp_path, **env).splitlines()
    assert folder == str(tmp_path / "cache" / "python-escpos")
    assert Path(pickle).parent == Path(folder) and Path(pickle).is_file()  # the next start loads it
    assert run(code, tmp_path, **env).splitlines() == [folder, pickle]


def test_an_unwritable_cache_leaves_python_escpos_its_own_temporary_folder(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("")
    out = run("import os, valgkiosk.drivers.printer.escpos_printer, escpos.capabilities as c\n"
              "print(os.environ.get('ESCPOS_CAPABILITIES_PICKLE_DIR')); print(c.pickle_path)",
              tmp_path, CACHE_DIRECTORY=str(blocked), ESCPOS_CAPABILITIES_PICKLE_DIR="")
    unset, pickle = out.splitlines()
    assert unset == "None" and Path(pickle).is_absolute() and not Path(pickle).is_relative_to(tmp_path)
