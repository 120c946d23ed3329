"""Training and real never mix: a register holding a real election refuses a training
credential; a training kiosk refuses a real register (tested against the real register
server on loopback, started by its own command)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.kiosk.kiosk_servers import VOTERS, RegisterServer, _cli, _csv, register_server
from valgkiosk.ports.register import RegisterRefused
from valgkiosk.register_client import HttpRegister
from valgkiosk.training import TRAINING_CREDENTIAL_PREFIX
from valgkiosk.training.register import REAL_CREDENTIAL_REFUSED, REAL_REGISTER_REFUSED, TrainingGuard

FAKE_TRAINING_TOKEN = TRAINING_CREDENTIAL_PREFIX + "x" * 43


class TrainingRegisterServer(RegisterServer):
    """``valgkiosk register serve`` over a register set up with ``init --training``."""

    def __init__(self, tmp: Path) -> None:  # noqa: D107 - as the parent, with a training election
        self.tmp = tmp
        self.db = f"sqlite:///{tmp}/register.db"
        from tests.kiosk.kiosk_servers import BORD, KOMMUNE, KRETS, YEAR, free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = None
        _cli("init", "--db", self.db, "--election-date", f"{YEAR}-09-08", "--training")
        (tmp / "voters.csv").write_text(_csv(), encoding="utf-8")
        _cli("import", "--db", self.db, str(tmp / "voters.csv"))
        cred = tmp / "credential"
        _cli("issue-credential", "--db", self.db, "--kiosk-id", "ovning-bord1", "--kommune", KOMMUNE, "--krets",
             KRETS, "--bord", str(BORD), "--out", str(cred))
        self.credential = cred.read_text(encoding="utf-8").strip()
        self.credential_file = cred


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with register_server(tmp_path_factory.mktemp("real")) as server:
        yield server


@pytest.fixture(scope="module")
def training(tmp_path_factory: pytest.TempPathFactory) -> Any:
    server = TrainingRegisterServer(tmp_path_factory.mktemp("training"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def a_voter() -> str:
    return next(v.number for v in VOTERS.values() if v.krets == "0101" and v.kommune == "0301")


def test_a_real_register_refuses_a_training_credential(real: Any) -> None:
    for path, body in (("/v1/kiosk", None), ("/v1/voters/lookup", {"manntallsnummer": a_voter()})):
        answer = httpx.request("GET" if body is None else "POST", real.url + path, json=body,
                               headers={"Authorization": f"Bearer {FAKE_TRAINING_TOKEN}"}, timeout=5)
        assert answer.status_code == 403
        assert answer.json()["error"]["code"] == "training_credential"
        assert "ekte valg" in answer.json()["error"]["message"]
    # the kiosk's own client names the refusal
    client = HttpRegister(real.url, FAKE_TRAINING_TOKEN)
    with pytest.raises(RegisterRefused) as caught:
        asyncio.run(client.check_off("00000000-0000-0000-0000-000000000001", a_voter()))
    assert caught.value.code == "training_credential"



def test_the_check_off_path_refuses_across_too(real: Any, training: Any) -> None:
    """POST /v1/checkoffs has its own fast path in the register: it must not let a training
    credential past a real register, nor a real one past a training register."""
    body = {"request_id": "00000000-0000-0000-0000-0000000000aa", "manntallsnummer": a_voter()}
    for server, token, code in ((real, FAKE_TRAINING_TOKEN, "training_credential"),
                                (training, "vk1_" + "y" * 43, "training_register")):
        answer = httpx.post(server.url + "/v1/checkoffs", json=body, timeout=5,
                            headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == code

def test_a_real_register_issues_no_training_credential(real: Any) -> None:
    done = subprocess.run([sys.executable, "-m", "valgkiosk", "register", "issue-credential", "--db", real.db,
                           "--kiosk-id", "ovning", "--kommune", "0301", "--krets", "0101", "--bord", "3",
                           "--training"], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "bare utstedes av et register med et øvingsvalg" in done.stdout + done.stderr
    assert not real.credential.startswith(TRAINING_CREDENTIAL_PREFIX)  # a real register's are real


def test_a_training_register_says_so_and_refuses_a_real_credential(training: Any) -> None:
    assert training.credential.startswith(TRAINING_CREDENTIAL_PREFIX)
    info = asyncio.run(HttpRegister(training.url, training.credential).kiosk_info())
    assert info.training and info.election_title.startswith("Øvingsvalg")
    answer = httpx.get(training.url + "/v1/kiosk", headers={"Authorization": "Bearer vk1_" + "y" * 43}, timeout=5)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "training_register"


def test_the_training_guard_refuses_a_real_register_and_checks_nobody_off(real: Any) -> None:
    guard = TrainingGuard(HttpRegister(real.url, real.credential))
    number = a_voter()

    async def attempt() -> None:
        for call in (guard.kiosk_info(), guard.lookup(number), guard.check_off("00000000-0000-0000-0000-0000000000aa",
                                                                               number)):
            with pytest.raises(RegisterRefused) as caught:
                await call
            assert caught.value.code == "not_training" and str(caught.value) == REAL_REGISTER_REFUSED
        status = await HttpRegister(real.url, real.credential).lookup(number)
        assert status.verdict.value == "ready"  # nobody was checked off

    asyncio.run(attempt())
    assert guard.refusal == REAL_REGISTER_REFUSED


def test_the_training_guard_lets_a_training_register_through(training: Any) -> None:
    guard = TrainingGuard(HttpRegister(training.url, training.credential))
    number = a_voter()
    status = asyncio.run(guard.check_off("00000000-0000-0000-0000-0000000000bb", number))
    assert status.verdict.value == "checked_off" and guard.refusal == ""


def _train(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "valgkiosk", "train", *args], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def test_valgkiosk_train_refuses_a_real_register(real: Any, tmp_path: Path) -> None:
    done = _train("--register", real.url, "--credential-file", str(real.credential_file))
    assert done.returncode == 2 and REAL_CREDENTIAL_REFUSED in done.stderr
    fake = tmp_path / "training.credential"
    fake.write_text(FAKE_TRAINING_TOKEN + "\n", encoding="utf-8")
    done = _train("--register", real.url, "--credential-file", str(fake))
    assert done.returncode == 2 and "ekte valg" in done.stderr  # the register's own refusal


def test_the_training_kiosk_on_screen_refuses_a_real_register(real: Any, tmp_path: Path) -> None:
    from tests.training.rig import calm, panel, run
    from valgkiosk.training import drills as dr
    from valgkiosk.training.app import build_training_app
    from tests.training.rig import shown as seen

    app = build_training_app(dr.load(), folder=tmp_path, register=HttpRegister(real.url, real.credential))
    number = app.voters["ready"].manntallsnummer

    async def script(app: Any, pilot: Any) -> None:
        assert REAL_REGISTER_REFUSED[:60] in seen(app)
        app.sim.scanner.scan(a_voter())
        await calm(pilot)
        assert "KRYSSET AV" not in seen(app)

    run(app, script)
    status = asyncio.run(HttpRegister(real.url, real.credential).lookup(a_voter()))
    assert status.verdict.value == "ready" and number
