"""Station configs and helpers shared by the image tests: the example config with one
section changed, and the image build's own importer loaded from its file."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).parents[2]
EXAMPLE = (REPO / "config" / "station.example.toml").read_text(encoding="utf-8")
IMPORTER = REPO / "image-build" / "rootfs" / "usr" / "lib" / "valgkiosk" / "import_config.py"


def importer() -> ModuleType:
    """image-build's import_config.py, the module the image runs at boot."""
    spec = importlib.util.spec_from_file_location("valgkiosk_import_config", IMPORTER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def station(**sections: str) -> str:
    """The example config with whole sections replaced, e.g. ``printer='kind = "none"'``."""
    text = EXAMPLE
    for name, body in sections.items():
        pattern = re.compile(rf"^\[{name}\]\n.*?(?=^\[|\Z)", re.S | re.M)
        assert pattern.search(text), name
        text = pattern.sub(lambda _m: f"[{name}]\n{body}\n\n", text)
    return text


def boot_folder(folder: Path, text: str, credential: str | None = "k" * 32) -> Path:
    """A boot-partition folder as the IT team writes it: station.toml (+ credential)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "station.toml").write_text(text, encoding="utf-8")
    if credential is not None:
        (folder / "credential").write_text(credential, encoding="utf-8")
    return folder
