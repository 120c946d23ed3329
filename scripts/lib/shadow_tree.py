"""Lay out the ``valgkiosk`` package as it is installed, for tools that read source trees.

``pyproject.toml`` maps three folders under one import name (``valgkiosk`` = ``firmware/``,
``valgkiosk.drivers`` = ``drivers/``, ``valgkiosk.register`` = ``register/``); an editable
install reaches them through an import hook that mypy and import-linter (grimp) cannot
follow. This makes real directories in ``DEST`` with a symlink per source file, so the
tools see ``DEST/valgkiosk/...`` exactly as the wheel lays it out, and error messages still
point at the files in the repository through the links.

Usage: ``python scripts/lib/shadow_tree.py DEST``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def package_dirs() -> dict[str, Path]:
    """The import name → source folder mapping from pyproject.toml."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = config["tool"]["setuptools"]["package-dir"]
    return {name: ROOT / folder for name, folder in mapping.items()}


def build(dest: Path) -> Path:
    """Fill ``dest`` (emptied first) and return it."""
    if dest.exists():
        shutil.rmtree(dest)
    mapping = package_dirs()
    roots = sorted(mapping.values(), key=lambda p: len(p.parts), reverse=True)
    for name, folder in mapping.items():
        target = dest.joinpath(*name.split("."))
        for source in folder.rglob("*.py"):
            rel = source.relative_to(folder)
            if "__pycache__" in rel.parts:
                continue
            # a file under another mapped folder belongs to that package (none nest today)
            owner = next(r for r in roots if source.is_relative_to(r))
            if owner != folder:
                continue
            link = target / rel
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(source, link)
        typed = target / "py.typed"
        if not typed.exists():
            typed.parent.mkdir(parents=True, exist_ok=True)
            typed.touch()
    return dest


if __name__ == "__main__":
    print(build(Path(sys.argv[1]).resolve()))
