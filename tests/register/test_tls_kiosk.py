"""The operator guide's TLS (docs/register-operations.md, section 5) as a kiosk meets it:
the municipality's own CA signs the register's certificate, ``register serve`` uses it
with its key readable by the service's group only, and the kiosk's register client, built
from a station configuration with ``ca_file`` exactly as the kiosk builds it, checks a
voter off; without the CA the same client refuses the register cleanly."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import ssl
import stat
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from valgkiosk import bootstrap
from valgkiosk import config as cfg
from valgkiosk.ports.register import RegisterUnreachable, Verdict
from valgkiosk.register import credentials
from valgkiosk.register.store import open_store

from .factory import KARI, OLA, TABLE_1, fill
from .server import ProcessServer

ROOT = Path(__file__).resolve().parents[2]


def make_ca_and_server_cert(folder: Path) -> tuple[Path, Path, Path]:
    """A CA certificate, and a server certificate for 127.0.0.1 signed by it, with its key."""
    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Øvingskommune valg-CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "register")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path, cert_path, key_path = folder / "register-ca.pem", folder / "cert.pem", folder / "key.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    os.chmod(key_path, 0o640)  # the guide: the service's group may read the key, nobody else
    return ca_path, cert_path, key_path


def station_config(folder: Path, url: str, credential: str, ca_file: Path | None) -> cfg.StationConfig:
    """The demo station's configuration with this register, as a kiosk would read it."""
    text = (ROOT / "config" / "sim.toml").read_text(encoding="utf-8")
    register = f'[register]\nurl = "{url}"\ncredential = "{credential}"\n'
    if ca_file is not None:
        register += f'ca_file = "{ca_file}"\n'
    start = text.index("[register]")
    end = text.index("[scanner]")
    path = folder / ("station-ca.toml" if ca_file else "station.toml")
    path.write_text(text[:start] + register + "\n" + text[end:], encoding="utf-8")
    return cfg.load(path)


def test_a_kiosk_checks_off_over_tls_verified_by_the_municipality_ca(tmp_path: Path) -> None:
    ca, cert, key = make_ca_and_server_cert(tmp_path)
    assert stat.S_IMODE(key.stat().st_mode) == 0o640
    url = f"sqlite:///{tmp_path}/register.db"
    store = open_store(url)
    store.migrate()
    fill(store)
    token = credentials.issue(store, TABLE_1)
    store.close()
    server = ProcessServer(url, tmp_path / "server.log", scheme="https",
                           extra_args=["--tls-cert", str(cert), "--tls-key", str(key)])
    server.start(verify=ssl.create_default_context(cafile=str(ca)))
    try:
        async def as_the_kiosk() -> None:
            trusted, _ = bootstrap.build_register(station_config(tmp_path, server.url, token, ca), base=tmp_path)
            untrusted, _ = bootstrap.build_register(station_config(tmp_path, server.url, token, None),
                                                    base=tmp_path)
            try:
                info = await trusted.kiosk_info()
                assert (info.kiosk_id, info.krets) == (TABLE_1.kiosk_id, TABLE_1.krets)
                rid = str(uuid.uuid4())
                done = await trusted.check_off(rid, KARI.manntallsnummer)
                assert done.verdict is Verdict.CHECKED_OFF
                again = await trusted.check_off(rid, KARI.manntallsnummer)  # a retry: the same answer
                assert again.verdict is Verdict.CHECKED_OFF
                # Without the municipality's CA the certificate is not trusted: the kiosk
                # treats the register as unreachable (its outage path), and nothing is sent.
                with pytest.raises(RegisterUnreachable):
                    await untrusted.check_off(str(uuid.uuid4()), OLA.manntallsnummer)
            finally:
                await trusted.aclose()
                await untrusted.aclose()

        asyncio.run(asyncio.wait_for(as_the_kiosk(), timeout=60))
    finally:
        server.stop()
    store = open_store(url)
    try:
        counts = store.counts()
        assert sum(c.checkoffs for c in counts) == 1  # Kari once; Ola's check-off never reached it
    finally:
        store.close()
