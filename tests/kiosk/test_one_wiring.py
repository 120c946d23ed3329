"""Every way of starting a kiosk goes through the one wiring, valgkiosk.wiring.build_kiosk:
the station's start (run_kiosk / build_app), the test rig, the demo, the training kiosk and
the scan bench. Each entry point is run for real up to the wiring, which a spy stands in
front of; an entry point that built its kiosk some other way would leave the spy unseen."""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from valgkiosk import wiring

ROOT = Path(__file__).resolve().parents[2]


class Calls(list[dict[str, Any]]):
    """The wiring's calls, oldest first; with ``stop`` set the spy stops the caller there."""

    stop = False


class Stop(Exception):
    """Raised by the spy to stop an entry point once it has reached the wiring."""


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[Calls]:
    """The wiring's calls, seen by a spy in front of it."""
    real = wiring.build_kiosk
    seen = Calls()

    def spy(config: Any, **kwargs: Any) -> Any:
        seen.append({"config": config, **kwargs})
        if seen.stop:
            raise Stop
        return real(config, **kwargs)

    monkeypatch.setattr(wiring, "build_kiosk", spy)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield seen
    for h in list(root.handlers):  # run_kiosk sets up its own logging
        root.removeHandler(h)
    for h in handlers:
        root.addHandler(h)
    root.setLevel(level)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_at_wiring(calls: Calls) -> None:
    calls.stop = True


def test_the_rig_is_wired_by_build_kiosk(calls: Calls) -> None:
    from valgkiosk.ui.testing import make_rig

    rig = make_rig(bord=3)
    [call] = calls
    assert call["config"].station.bord == 3 and call["sim"] is True
    o = call["overrides"]
    assert o.clock is rig.clock and o.register is rig.register and o.auto_tick is False
    assert rig.app.shell.register.network is rig.network  # the register is reached through the simulated network


def test_build_app_is_wired_by_build_kiosk(calls: Calls) -> None:
    from valgkiosk import bootstrap
    from valgkiosk import config as cfg

    config = cfg.load(bootstrap.SIM_CONFIG)
    app = bootstrap.build_app(config, sim=True)
    assert len(calls) == 1 and calls[0]["config"] is config
    assert type(app).__name__ == "KioskApp"


def test_run_kiosk_goes_through_build_kiosk(calls: Calls) -> None:
    from valgkiosk import bootstrap

    stop_at_wiring(calls)
    with pytest.raises(Stop):
        bootstrap.run_kiosk(None, sim=True)
    [call] = calls
    assert call["sim"] is True and call["config_path"] == bootstrap.SIM_CONFIG


def test_the_demo_goes_through_build_kiosk(calls: Calls, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from valgkiosk import demo

    real_prepare = demo.prepare
    monkeypatch.setattr(demo, "prepare", lambda folder: real_prepare(folder, voters=2_000))
    stop_at_wiring(calls)
    with pytest.raises(Stop):
        demo.run(tmp_path / "demo", free_port())
    [call] = calls
    assert call["sim"] is True and call["config_path"] == tmp_path / "demo" / "kiosk.toml"
    assert call["config"].register_.url.startswith("http://127.0.0.1:")  # the demo's own register


def test_the_training_kiosk_is_wired_by_build_kiosk(calls: Calls, tmp_path: Path) -> None:
    from valgkiosk.training import drills
    from valgkiosk.training.app import TrainingKioskApp, build_training_app

    app = build_training_app(drills.load(), folder=tmp_path)
    [call] = calls
    assert call["overrides"].app_class is TrainingKioskApp and isinstance(app, TrainingKioskApp)


def test_the_scan_bench_is_wired_by_build_kiosk(calls: Calls, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("kiosk_scan_bench", ROOT / "bench" / "kiosk_scan.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    config = bench.write_config(tmp_path, "http://127.0.0.1:9", "x" * 40)
    stop_at_wiring(calls)
    with pytest.raises(Stop):
        asyncio.run(bench.measure_latency(config, []))
    [call] = calls
    assert call["sim"] is True and call["config_path"] == config
