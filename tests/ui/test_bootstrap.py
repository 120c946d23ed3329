"""The composition root and the refusal to start on a bad configuration."""

from __future__ import annotations

import asyncio
from pathlib import Path

from valgkiosk import bootstrap
from valgkiosk import config as cfg
from valgkiosk.register_client import HttpRegister
from valgkiosk.register_memory import MemoryRegister
from valgkiosk.sim_register import ThroughSimulatedNetwork
from valgkiosk.ui.app import ConfigErrorApp
from valgkiosk.ui.testing import SIZE, screen_text

ROOT = Path(__file__).resolve().parents[2]


def test_sim_offline_wires_the_simulated_scanner_and_the_demo_register() -> None:
    config = cfg.load(ROOT / "config" / "sim-offline.toml")
    app = bootstrap.build_app(config, sim=True)
    # reached through the simulated network the probes use, so the dock's cuts reach it
    assert isinstance(app.shell.register, ThroughSimulatedNetwork) and isinstance(app.shell.register.inner, MemoryRegister)
    assert app.shell.register.network is app.shell.station.connectivity
    assert app.sim is not None and len(app.sim.cards) >= 9
    assert app.sim.gpio is not None and app.shell.power is app.sim.gpio.sensors  # the simulated caretaker box

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
    assert type(app.shell.scanner).__name__ == "SimulatedScanner"
    assert isinstance(app.shell.register, ThroughSimulatedNetwork) and isinstance(app.shell.register.inner, HttpRegister)
    asyncio.run(app.shell.register.aclose())
    # a simulated scanner in the configuration, without --sim: the network is the real one
    (tmp_path / "station.toml").write_text(text.replace('kind = "evdev"', 'kind = "sim"', 1), encoding="utf-8")
    app = bootstrap.build_app(cfg.load(tmp_path / "station.toml"), sim=False, base=tmp_path)
    assert type(app.shell.station.connectivity).__name__ == "NetworkProbes" and isinstance(app.shell.register, HttpRegister)
    asyncio.run(app.shell.register.aclose())


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


# -- the receipt printer (issue 5) -------------------------------------------------------------


def _station(tmp_path: Path, printer: str) -> cfg.StationConfig:
    text = (ROOT / "config" / "sim-offline.toml").read_text(encoding="utf-8")
    start = text.index("[printer]")
    end = text.index("[timings]")
    return cfg.parse(text[:start] + printer + "\n" + text[end:], tmp_path / "station.toml")


def test_the_printer_and_its_queue_follow_the_config(tmp_path: Path) -> None:
    from valgkiosk.drivers.printer import EscposPrinter, SimulatedPrinter

    none = _station(tmp_path, '[printer]\nkind = "none"\n')
    assert bootstrap.build_printing(none, sim=False) == (None, None)
    usb = _station(tmp_path, f'[printer]\nkind = "network"\nhost = "127.0.0.1"\nprofile = "TM-T88V"\n'
                             f'queue_dir = "{tmp_path / "q"}"\n')  # fmt: skip
    printer, queue = bootstrap.build_printing(usb, sim=False)
    assert isinstance(printer, EscposPrinter) and printer.columns == 42
    assert queue.printer is printer and queue.directory == tmp_path / "q"
    # --sim with a real station file: the simulated printer, never the station's data partition
    printer, queue = bootstrap.build_printing(usb, sim=True)
    assert isinstance(printer, SimulatedPrinter) and printer.columns == 42
    assert not str(queue.directory).startswith(str(tmp_path))
    app = bootstrap.build_app(_station(tmp_path, f'[printer]\nkind = "sim"\nqueue_dir = "{tmp_path / "q2"}"\n'),
                              sim=True)  # fmt: skip
    assert app.printing.queue is not None and app.sim.printer is app.printing.queue.printer


def test_an_unusable_queue_dir_refuses_to_start(tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    shown: list[ConfigErrorApp] = []
    monkeypatch.setattr(ConfigErrorApp, "run", lambda self, **kw: shown.append(self))
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    text = (ROOT / "config" / "station.example.toml").read_text(encoding="utf-8")
    text = text.replace('credential_file = "/etc/valgkiosk/credential"', 'credential_file = "cred"')
    text = text.replace('queue_dir = "/var/lib/valgkiosk/print-queue"', f'queue_dir = "{tmp_path / "a-file" / "q"}"')
    text = text.replace('loggbok = "/var/lib/valgkiosk/loggbok.jsonl"', f'loggbok = "{tmp_path / "loggbok.jsonl"}"')
    (tmp_path / "cred").write_text("0123456789abcdef0123\n", encoding="utf-8")
    (tmp_path / "station.toml").write_text(text, encoding="utf-8")
    assert bootstrap.run_kiosk(str(tmp_path / "station.toml"), sim=False) == 2
    assert "printer.queue_dir" in capsys.readouterr().err
    assert len(shown) == 1 and "printer.queue_dir" in shown[0].problems[0]
