"""What the kiosk loads before its first screen (issue 12's start-up and memory figures,
docs/benchmarks.md): building it from a station file with a real register's address makes
no HTTP client yet, so neither httpcore nor its async backends are imported, nor
python-stdnum; the first request makes the client."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from valgkiosk.drivers.network.probes import NetworkProbes
from valgkiosk.register_client import HttpRegister

pytestmark = pytest.mark.timeout(120)

STATION = """
[station]
kommune = "9001"
krets = "0001"
bord = 1
[election]
year = 2027
[register]
url = "http://127.0.0.1:9"
credential_file = "credential"
[scanner]
kind = "sim"
"""

BUILD = """
import sys
from pathlib import Path
from valgkiosk import config, wiring
path = Path("kiosk.toml")
kiosk = wiring.build_kiosk(config.load(path), sim=True, base=path.parent, config_path=path)
print(sorted({m.split(".")[0] for m in sys.modules} & {"httpcore", "anyio", "trio", "stdnum"}))
"""


def test_building_the_kiosk_imports_no_http_backend_and_no_stdnum(tmp_path: Path) -> None:
    (tmp_path / "kiosk.toml").write_text(STATION)
    (tmp_path / "credential").write_text("k" * 40 + "\n")
    done = subprocess.run([sys.executable, "-c", BUILD], capture_output=True, text=True, timeout=100, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"


def test_the_register_client_is_made_at_the_first_request() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(503, json={"detail": "nei"})

    async def go() -> None:
        register = HttpRegister("http://127.0.0.1:9", "k" * 40, transport=httpx.MockTransport(answer))
        assert register._http is None
        with pytest.raises(Exception):
            await register.kiosk_info()
        assert register._http is not None and seen == ["/v1/kiosk"]
        await register.aclose()
        await HttpRegister("http://127.0.0.1:9", "k" * 40).aclose()  # never used: nothing to close

    asyncio.run(go())


def test_probes_that_never_ran_close_without_a_client() -> None:
    async def go() -> None:
        probes = NetworkProbes("http://127.0.0.1:9", interface=None, check_gateway=False)
        await probes.aclose()
        assert probes._http is None

    asyncio.run(go())
