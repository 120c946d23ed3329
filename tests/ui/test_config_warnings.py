"""An accepted but risky configuration (``insecure_http``) is warned about on the
caretaker screen of the app the composition root builds."""

from __future__ import annotations

import asyncio
from pathlib import Path

from valgkiosk import bootstrap
from valgkiosk import config as cfg
from valgkiosk.register_memory import demo_register
from valgkiosk.ui import screens
from valgkiosk.ui.testing import screen_text, settle

ROOT = Path(__file__).resolve().parents[2]


def _app(tmp_path: Path, url: str, insecure: bool):  # type: ignore[no-untyped-def]
    text = (ROOT / "config" / "sim.toml").read_text(encoding="utf-8")
    text = text.replace('url = "http://127.0.0.1:8470"', f'url = "{url}"' + ("\ninsecure_http = true" if insecure else ""))
    text = text.replace('credential_file = "demo-credential"', 'credential = "abcdefghijklmnopqrstuvwxyz"')
    text = text.replace("/tmp/valgkiosk-sim", str(tmp_path))
    config = cfg.parse(text, tmp_path / "station.toml")
    register, _ = demo_register()
    return bootstrap.build_app(config, sim=True, register=register)


def test_the_caretaker_screen_warns_about_insecure_http(tmp_path: Path) -> None:
    async def main() -> list[str]:
        out = []
        for url, insecure in (("http://10.0.0.5:8470", True), ("https://register.example.no", False)):
            app = _app(tmp_path, url, insecure)
            async with app.run_test(size=(100, 50)) as pilot:
                await settle(pilot)
                await pilot.press("f6")
                await settle(pilot)
                assert isinstance(app.screen, screens.CaretakerScreen)
                out.append(" ".join(screen_text(app).split()))
        return out

    warned, quiet = asyncio.run(main())
    assert "ukryptert http://" in warned and "ukryptert" not in quiet
