"""The distribution ships every package in the source tree (the image installs a wheel)."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_every_source_package_is_listed_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    package_dir: dict[str, str] = config["package-dir"]
    found = set()
    for name, folder in package_dir.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            dotted = ".".join((name, *relative.parts)) if relative.parts else name
            # a nested package with its own package-dir entry is counted there
            if not any(dotted.startswith(other + ".") or dotted == other
                       for other in package_dir if other != name and other.startswith(name + ".")):
                found.add(dotted)
    assert found == set(config["packages"])
