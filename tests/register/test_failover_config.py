"""``register.urls`` in the station configuration: the kiosk wires its failover over every node."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from valgkiosk import bootstrap
from valgkiosk import config as cfg
from valgkiosk.ports.clock import SystemClock
from valgkiosk.register_client import HttpRegister
from valgkiosk.register_failover import FailoverRegister

ROOT = Path(__file__).resolve().parents[2]


def station(tmp_path: Path, urls_line: str) -> cfg.StationConfig:
    (tmp_path / "cred").write_text("0123456789abcdef0123\n", encoding="utf-8")
    text = (ROOT / "config" / "station.example.toml").read_text(encoding="utf-8")
    text = text.replace('credential_file = "/etc/valgkiosk/credential"', 'credential_file = "cred"')
    text = text.replace('# urls = ["https://register-b.valg.example.no"]', urls_line)
    (tmp_path / "station.toml").write_text(text, encoding="utf-8")
    return cfg.load(tmp_path / "station.toml")


def test_several_urls_make_a_failover_register_and_a_watchdog_over_every_node(tmp_path: Path) -> None:
    config = station(tmp_path, 'urls = ["https://register-b.valg.example.no"]')
    register, _ = bootstrap.build_register(config, base=tmp_path)
    assert isinstance(register, FailoverRegister)
    assert [n.base_url for n in register.nodes] == ["https://register.valg.example.no",  # type: ignore[attr-defined]
                                                    "https://register-b.valg.example.no"]
    assert all(isinstance(n, HttpRegister) for n in register.nodes)
    asyncio.run(register.aclose())
    probes = bootstrap.build_connectivity(config, sim=False, clock=SystemClock())
    assert [t[1] for t in probes._targets] == ["register.valg.example.no", "register-b.valg.example.no"]
    asyncio.run(probes.aclose())


def test_one_url_stays_a_plain_client_and_a_bad_url_is_refused(tmp_path: Path) -> None:
    register, _ = bootstrap.build_register(station(tmp_path, ""), base=tmp_path)
    assert isinstance(register, HttpRegister)
    asyncio.run(register.aclose())
    with pytest.raises(cfg.ConfigError):
        station(tmp_path, 'urls = ["ftp://nope"]')
