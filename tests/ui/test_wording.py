"""The kiosk's words, reviewed as a whole: every string constant in the firmware and the
drivers is read from the source (ast), so a new message cannot slip past.

- One word for the register: "manntallet" (the clerk's word, EVA's "kryss i manntallet"),
  never "registeret".
- "Legitimasjon" is the voter's ID at this table, so a kiosk's credential is its
  "tilgangsnøkkel" (a training kiosk's its "øvingsnøkkel"): the modules that talk about the
  credential never say "legitimasjon", the register service's answers, CLI and pages included.
- An unplugged device is "frakoblet"/"koblet fra", never "BORTE".
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([*(ROOT / "firmware").rglob("*.py"), *(ROOT / "drivers").rglob("*.py")])
#: modules whose texts are about the kiosk's credential (and never about the voter's ID)
CREDENTIAL_MODULES = {"firmware/cli.py", "firmware/selftest.py", "firmware/config.py", "firmware/register_client.py",
                      "firmware/training/cli.py", "register/api.py", "register/cli.py", "register/credentials.py"}
#: the register service's pages (the kiosks and their credentials are listed there)
TEMPLATES = sorted((ROOT / "register" / "templates").glob("*.html"))


def strings(path: Path) -> list[tuple[int, str]]:
    """Every string constant in ``path`` (f-strings by their literal parts), with its line."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}  # fmt: skip
    return [(node.lineno, node.value) for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings]


def test_the_sources_are_found() -> None:
    assert len(SOURCES) > 50 and any(p.name == "texts.py" for p in SOURCES)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_one_word_for_the_register_and_none_for_a_device_gone(path: Path) -> None:
    for line, text in strings(path):
        assert not re.search(r"\bregister(et|ets)\b", text, re.IGNORECASE), f"{path.name}:{line}: {text!r}"
        assert "BORTE" not in text, f"{path.name}:{line}: {text!r}"


@pytest.mark.parametrize("module", sorted(CREDENTIAL_MODULES))
def test_a_credential_is_not_the_voters_id(module: str) -> None:
    for line, text in strings(ROOT / module):
        assert "legitimasjon" not in text.lower(), f"{module}:{line}: {text!r}"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_the_register_pages_do_not_call_a_credential_legitimasjon(path: Path) -> None:
    assert TEMPLATES
    for line, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        assert "legitimasjon" not in text.lower(), f"{path.name}:{line}: {text.strip()!r}"
