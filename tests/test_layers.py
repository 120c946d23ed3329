"""The import contracts in pyproject.toml keep up with the code: every module of the kiosk
firmware outside the core, the ports, the UI and the drivers is named in the contracts
that keep the core, the drivers and the register service away from it (import-linter
cannot say "everything but", so a module added without a line there would go unchecked).
scripts/check-layers runs the contracts and mypy --strict themselves."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = {c["name"]: c for c in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]}
SHELL = sorted(f"valgkiosk.{p.stem}" for p in (ROOT / "firmware").glob("*.py") if not p.stem.startswith("__"))


def contract(source: str) -> dict[str, object]:
    [found] = [c for c in CONTRACTS.values() if c["source_modules"] == [source]]
    return found


@pytest.mark.parametrize("source", ["valgkiosk.core", "valgkiosk.drivers"])
def test_every_shell_module_is_forbidden_to_the_core_and_the_drivers(source: str) -> None:
    forbidden = set(contract(source)["forbidden_modules"])  # type: ignore[arg-type]
    assert [m for m in SHELL if m not in forbidden] == []
    assert "valgkiosk.ui" in forbidden and "valgkiosk.register" in forbidden


def test_the_register_service_may_share_only_the_core_and_the_signatures() -> None:
    forbidden = set(contract("valgkiosk.register")["forbidden_modules"])  # type: ignore[arg-type]
    assert [m for m in SHELL if m not in forbidden] == ["valgkiosk.signing"]


def test_the_core_may_not_reach_for_io() -> None:
    forbidden = set(contract("valgkiosk.core")["forbidden_modules"])  # type: ignore[arg-type]
    assert {"asyncio", "os", "socket", "sqlite3", "time", "httpx", "textual", "serial", "evdev", "gpiozero"} <= forbidden
    assert "valgkiosk.ports" in forbidden  # value types live in valgkiosk.core.values


def test_the_tests_run_the_layer_check_first() -> None:
    script = (ROOT / "scripts" / "test").read_text()
    assert script.index("scripts/check-layers") < script.index("-m pytest")
