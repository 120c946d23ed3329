"""The composition root and the refusal to start on a bad configuration."""

from __future__ import annotations

import asyncio
from pathlib import Path

from valgkiosk import bootstrap
from valgkiosk import config as cfg
from valgkiosk.register_client import HttpRegister
from valgkiosk.register_memory import MemoryRegister
from valgkiosk.ui.app import ConfigErrorApp
from valgkiosk.ui.testing import SIZE, screen_text

ROOT = Path(__file__).resolve().parents[2]


def test_sim_offline_wires_the_simulated_scanner_and_the_demo_register() -> None:
    config = cfg.load(ROOT / "config" / "sim-offline.toml")
    app = bootstrap.build_app(config, sim=True)
    assert isinstance(app.register, MemoryRegister)
    assert app.sim is not None and len(app.sim.cards) >= 9
    assert app.sim.gpio is not None and app.power is app.sim.gpio.sensors  # the simulated caretaker box

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.sim.scanner.scan(app.sim.cards[0].number)
            for _ in range(6):
                await pilot.pause()
            assert "KARI PRØVESEN" in screen_text(app)

    asyncio.run(main())


def test_a_register_url_wires_the_http_client(tmp_path: Path) -> None:
    (tmp_path / "cred").write_text("0123456789abcdef0123\n", encoding="utf-8")
    text = (ROOT / "config" / "station.example.toml").read_text(encoding="utf-8")
    text = text.replace('credential_file = "/etc/valgkiosk/credential"', 'credential_file = "cred"')
    (tmp_path / "station.toml").write_text(text, encoding="utf-8")
    config = cfg.load(tmp_path / "station.toml")
    register, cards = bootstrap.build_register(config, base=tmp_path)
    assert isinstance(register, HttpRegister) and cards == []
    assert register.base_url == "https://register.valg.example.no" and register.timeout == 3.0
    asyncio.run(register.aclose())
    app = bootstrap.build_app(config, sim=True, base=tmp_path)  # --sim swaps in the simulated scanner only
    assert type(app.scanner).__name__ == "SimulatedScanner" and isinstance(app.register, HttpRegister)
    asyncio.run(app.register.aclose())


def test_the_config_error_screen_says_why_and_stays() -> None:
    app = ConfigErrorApp("/etc/valgkiosk/station.toml", ["/etc/valgkiosk/station.toml: nøkkelen «station.bord» mangler."])

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            text = " ".join(screen_text(app).split())  # type: ignore[arg-type]
            assert "KIOSKEN KAN IKKE STARTE" in text and "station.bord" in text and "IKT-ansvarlig" in text
            await pilot.press("ctrl+q", "ctrl+c", "f10", "escape")
            await pilot.pause()
            assert app.is_running and app.return_code is None

    asyncio.run(main())


def test_run_kiosk_refuses_a_bad_config_on_screen_and_in_the_journal(
    tmp_path: Path, monkeypatch, capsys  # type: ignore[no-untyped-def]
) -> None:
    shown: list[ConfigErrorApp] = []
    monkeypatch.setattr(ConfigErrorApp, "run", lambda self, **kw: shown.append(self))
    (tmp_path / "station.toml").write_text("[station]\nbord = \"3\"\n", encoding="utf-8")
    assert bootstrap.run_kiosk(str(tmp_path / "station.toml"), sim=False) == 2
    err = capsys.readouterr().err
    assert "station.bord" in err and "heltall" in err and str(tmp_path / "station.toml") in err
    assert len(shown) == 1 and any("station.bord" in p for p in shown[0].problems)
