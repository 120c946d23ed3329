"""TLS on the wire, and the ``valgkiosk register`` command as an operator uses it."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from valgkiosk.cli import main
from valgkiosk.register.store import open_store

from .factory import ADMIN, KARI, TABLE_1, fill
from .server import ProcessServer


def valgkiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "valgkiosk", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_register_serves_tls_and_refuses_plain_http(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    url = f"sqlite:///{tmp_path}/register.db"
    store = open_store(url)
    store.migrate()
    fill(store)
    store.close()
    assert main(["register", "issue-credential", "--db", url, "--kiosk-id", TABLE_1.kiosk_id,
                 "--kommune", "0301", "--krets", "0101", "--bord", "1",
                 "--out", str(tmp_path / "cred")]) == 0
    token = (tmp_path / "cred").read_text().strip()
    trust = ssl.create_default_context(cafile=str(cert))
    server = ProcessServer(url, tmp_path / "server.log", scheme="https",
                           extra_args=["--tls-cert", str(cert), "--tls-key", str(key)])
    server.start(verify=trust)
    try:
        with httpx.Client(base_url=server.url, verify=trust,
                          headers={"Authorization": f"Bearer {token}"}) as c:
            r = c.post("/v1/checkoffs", json={"request_id": str(uuid.uuid4()),
                                              "manntallsnummer": KARI.manntallsnummer})
            assert r.json()["verdict"] == "checked_off"
        with pytest.raises(httpx.HTTPError):  # an unknown certificate is not trusted
            httpx.get(server.url + "/healthz")
        with pytest.raises(httpx.HTTPError):  # and plain HTTP gets no answer
            httpx.get(server.url.replace("https", "http") + "/healthz")
    finally:
        server.stop()


def test_operator_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/r.db"
    assert main(["register", "init", "--db", url, "--election-date", "2025-09-08"]) == 0
    assert "valgårssiffer 9" in capsys.readouterr().out
    store = open_store(url)
    fill(store)
    store.close()

    assert main(["register", "issue-credential", "--db", url, "--kiosk-id", "x", "--kommune", "0301",
                 "--krets", "9999", "--bord", "1"]) == 2
    assert "finnes ikke" in capsys.readouterr().err
    assert main(["register", "issue-credential", "--db", url, "--kiosk-id", ADMIN.kiosk_id, "--admin"]) == 0
    token = capsys.readouterr().out.strip()
    assert token.startswith("vk1_") and len(token) > 40
    store = open_store(url)
    assert token not in str(store.credentials())  # only the hash is stored
    store.close()

    assert main(["register", "credentials", "--db", url]) == 0
    assert "valgstyret" in capsys.readouterr().out
    assert main(["register", "revoke-credential", "--db", url, "--kiosk-id", ADMIN.kiosk_id]) == 0
    assert main(["register", "revoke-credential", "--db", url, "--kiosk-id", ADMIN.kiosk_id]) == 2
    capsys.readouterr()
    assert main(["register", "reconcile", "--db", url]) == 0
    assert "Ingen velgere" in capsys.readouterr().out


def test_commands_explain_a_missing_database(tmp_path: Path) -> None:
    result = valgkiosk("register", "counts", "--db", f"sqlite:///{tmp_path}/empty.db")
    assert result.returncode == 2
    assert "valgkiosk register init" in result.stderr and "Traceback" not in result.stderr
    result = valgkiosk("register", "counts", "--db", "mysql://nope")
    assert result.returncode == 2 and "Ukjent databaseadresse" in result.stderr


def test_sqlite_register_refuses_several_workers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/r.db"
    assert main(["register", "init", "--db", url, "--election-date", "2025-09-08"]) == 0
    result = valgkiosk("register", "serve", "--db", url, "--workers", "2", "--port", "1")
    assert result.returncode == 2 and "én arbeidsprosess" in result.stderr


def test_stations_rule_and_access_report_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path}/register.db"
    assert main(["register", "init", "--db", url, "--election-date", "2025-09-08"]) == 0
    assert main(["register", "generate", "--db", url, "--voters", "200", "--kretser", "2"]) == 0
    capsys.readouterr()
    assert main(["register", "stations", "--db", url]) == 0
    listed = capsys.readouterr().out
    assert "kommune 9001" in listed and "krets 0001" in listed and "hvilket som helst" in listed
    assert main(["register", "set-rule", "--db", url, "--kommune", "9001", "--own-station-required", "ja"]) == 0
    store = open_store(url)
    assert [k.own_station_required for k in store.kommuner()] == [True]
    store.close()
    assert main(["register", "set-rule", "--db", url, "--kommune", "0000", "--own-station-required", "ja"]) == 2
    assert main(["register", "access-report", "--db", url]) == 0  # nobody has asked anything


def test_a_database_that_refuses_the_user_says_why_at_once(tmp_path: Path) -> None:
    import os
    import time

    dsn = os.environ.get("VALGKIOSK_TEST_PG_DSN")
    if dsn is None:
        pytest.skip("needs the test PostgreSQL (scripts/test)")
    wrong = dsn.replace("postgres@", "nobody_here@", 1)
    started = time.monotonic()
    result = valgkiosk("register", "counts", "--db", wrong)
    assert result.returncode == 2 and "nobody_here" in result.stderr and "PoolTimeout" not in result.stderr
    assert time.monotonic() - started < 8
