"""The loggbok signing key at provisioning (valgkiosk.provisioning, issue 13): made into
the staged boot folder, named by ``[log] signing_key``, imported at boot like the
credential and checked there by the image's import_config.py."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from image_stations import boot_folder, importer, station

from valgkiosk import provisioning, signing

imp = importer()


def test_signing_key_is_added_to_the_log_section_keeping_the_rest() -> None:
    text = '[station]\nkommune = "0301"\n\n[log]  # where it logs\nloggbok = "/x.jsonl"\nlevel = "info"\n'
    edited = provisioning.with_signing_key(text)
    data = tomllib.loads(edited)
    assert data["log"] == {"signing_key": "/etc/valgkiosk/loggbok.key", "loggbok": "/x.jsonl", "level": "info"}
    assert "# where it logs" in edited and edited.startswith(text.split("[log]")[0])
    assert provisioning.with_signing_key(edited) == edited  # once only


def test_a_config_without_log_gets_the_section_and_one_naming_a_key_is_kept() -> None:
    assert tomllib.loads(provisioning.with_signing_key('[station]\nbord = 1\n'))["log"] == {
        "signing_key": "/etc/valgkiosk/loggbok.key"}
    own = '[log]\nsigning_key = "loggbok.key"\n'
    assert provisioning.with_signing_key(own) == own


def test_a_log_table_it_cannot_edit_safely_is_refused() -> None:
    with pytest.raises(provisioning.ProvisioningError, match="skriv signing_key"):
        provisioning.with_signing_key('log = { level = "info" }\n')
    with pytest.raises(provisioning.ProvisioningError, match="ikke gyldig TOML"):
        provisioning.with_signing_key("[log\n")


def test_the_staged_folder_passes_the_boot_check_and_is_imported(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    folder = boot_folder(tmp_path / "boot", station())
    public = provisioning.stage_loggbok_key(folder)
    assert (folder / "loggbok.key.pub").read_text(encoding="ascii").strip() == public
    assert (folder / "loggbok.key").stat().st_mode & 0o777 == 0o600
    assert imp.main(["--check", str(folder)]) == 0
    run = tmp_path / "run"
    monkeypatch.setattr(imp, "BOOT_DIR", folder)
    monkeypatch.setattr(imp, "RUN_DIR", run)
    monkeypatch.setattr(imp, "SCREEN", str(tmp_path / "tty1"))
    assert imp.main([]) == 0
    assert (run / "loggbok.key").stat().st_mode & 0o777 == 0o640  # as the credential: group valgkiosk reads it
    sign, got = signing.load_signer(run / "loggbok.key")
    assert got == public and signing.checker(public)("00" * 32, sign("00" * 32))
    with pytest.raises(provisioning.ProvisioningError, match="finnes allerede"):
        provisioning.stage_loggbok_key(folder)  # never a second key over the first


def test_a_missing_or_broken_key_stops_the_boot_with_the_key_named(tmp_path: Path) -> None:
    folder = boot_folder(tmp_path / "boot", station())
    provisioning.stage_loggbok_key(folder)
    (folder / "loggbok.key").write_text("-----BEGIN PRIVATE KEY-----\nbroken\n", encoding="ascii")
    with pytest.raises(imp.cfg.ConfigError) as bad:
        imp.check_folder(folder)
    assert "log.signing_key" in bad.value.problems[0] and "kan ikke leses" in bad.value.problems[0]
    (folder / "loggbok.key").unlink()
    with pytest.raises(imp.cfg.ConfigError) as missing:
        imp.check_folder(folder)
    assert "log.signing_key" in missing.value.problems[0] and "loggbok.key" in missing.value.problems[0]


def test_an_existing_key_is_copied_and_a_non_key_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    own = tmp_path / "own.key"
    public = signing.generate(own)
    folder = boot_folder(tmp_path / "boot", station())
    assert provisioning.main(["loggbok-key", str(folder), "--from", str(own)]) == 0
    assert capsys.readouterr().out.strip() == public
    other = boot_folder(tmp_path / "boot2", station())
    (tmp_path / "junk").write_text("junk", encoding="ascii")
    assert provisioning.main(["loggbok-key", str(other), "--from", str(tmp_path / "junk")]) == 1
    assert "loggboknøkkelen" in capsys.readouterr().err
    assert not (other / "loggbok.key").exists()
