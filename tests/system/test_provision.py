"""Per-table provisioning (image-build/provision.sh) on a small stand-in image with the
real layout's boot FAT: validation first, the table's files and identity written into the
FAT without mounting, SHA256SUMS, an ssh-keygen signature and a bmap."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from image_stations import REPO, station

PROVISION = REPO / "image-build" / "provision.sh"
TOOLS = ("sfdisk", "mkfs.vfat", "mcopy", "mtype", "bmaptool", "ssh-keygen")
pytestmark = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                reason="needs " + ", ".join(TOOLS))
CMDLINE = "console=tty3 root=LABEL=valgroot rootwait ro quiet"


def env() -> dict[str, str]:
    return {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 48 MiB image: MBR, a FAT32 boot partition with cmdline.txt, an empty second one."""
    work = tmp_path_factory.mktemp("img")
    fat = work / "boot.vfat"
    subprocess.run(["truncate", "-s", "36M", str(fat)], check=True)
    subprocess.run(["mkfs.vfat", "-F", "32", "-n", "VALGBOOT", str(fat)], check=True, capture_output=True)
    (work / "cmdline.txt").write_text(CMDLINE + "\n", encoding="utf-8")
    subprocess.run(["mcopy", "-i", str(fat), str(work / "cmdline.txt"), "::/cmdline.txt"], check=True, env=env())
    img = work / "valgkiosk.img"
    subprocess.run(["truncate", "-s", "48M", str(img)], check=True)
    subprocess.run(["sfdisk", "--quiet", str(img)], check=True, text=True,
                   input="label: dos\nstart=4MiB, size=36MiB, type=c, bootable\nsize=4MiB, type=83\n")
    subprocess.run(["dd", f"if={fat}", f"of={img}", "bs=1M", "seek=4", "conv=notrunc", "status=none"], check=True)
    return img


def provision(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(PROVISION), *map(str, args)], capture_output=True, text=True, timeout=120, env=env())


def read_boot(img: Path, path: str) -> str:
    result = subprocess.run(["mtype", "-i", f"{img}@@{4 * 1024 * 1024}", f"::/{path}"], capture_output=True,
                            text=True, check=True, env=env())
    return result.stdout


def table(folder: Path, bord: int, *, credential: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"bord{bord}.toml"
    path.write_text(station().replace("bord = 3", f"bord = {bord}"), encoding="utf-8")
    if credential:
        (folder / f"bord{bord}.cred").write_text(f"secret-credential-of-table-{bord}", encoding="utf-8")
    return path


def test_one_table_onto_a_copy_of_the_image(image: Path, tmp_path: Path) -> None:
    config = table(tmp_path / "in", 7)
    key = tmp_path / "signer"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ikt@kommune", "-f", str(key)], check=True)
    out = tmp_path / "out"
    result = provision("--image", image, "--out", out, "--config", config,
                       "--credential", tmp_path / "in" / "bord7.cred", "--sign-key", key)
    assert result.returncode == 0, result.stderr
    img = out / "valgkiosk-0301-0101-bord7.img"
    assert "bord = 7" in read_boot(img, "valgkiosk/station.toml")
    assert read_boot(img, "valgkiosk/credential") == "secret-credential-of-table-7"
    cmdline = read_boot(img, "cmdline.txt")
    assert cmdline.startswith(CMDLINE + " systemd.machine_id=")
    assert "systemd.hostname=valgkiosk-0301-0101-bord7" in cmdline
    assert (out / f"{img.name}.bmap").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert read_boot(image, "cmdline.txt").strip() == CMDLINE  # the built image itself is untouched
    # SHA256SUMS checks out, and the signature verifies against the IT team's key
    subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=out, check=True)
    signers = tmp_path / "allowed_signers"
    signers.write_text("ikt@kommune " + (tmp_path / "signer.pub").read_text(encoding="utf-8"), encoding="utf-8")
    verify = ["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", "ikt@kommune", "-n", "valgkiosk-image",
              "-s", str(out / "SHA256SUMS.sig")]
    assert subprocess.run(verify, input=(out / "SHA256SUMS").read_bytes(), capture_output=True).returncode == 0
    tampered = (out / "SHA256SUMS").read_bytes().replace(b"bord7", b"bord8")
    assert subprocess.run(verify, input=tampered, capture_output=True).returncode != 0


def test_an_invalid_config_writes_nothing(image: Path, tmp_path: Path) -> None:
    config = table(tmp_path / "in", 4)
    config.write_text(config.read_text(encoding="utf-8").replace('kommune = "0301"', "kommune = 301"),
                      encoding="utf-8")
    out = tmp_path / "out"
    result = provision("--image", image, "--out", out, "--config", config,
                       "--credential", tmp_path / "in" / "bord4.cred")
    assert result.returncode == 1
    assert "«station.kommune» må være tekst i anførselstegn" in result.stderr
    assert "ingenting er skrevet" in result.stderr
    assert not list(out.glob("*.img")) if out.exists() else True


def test_bulk_validates_every_row_before_writing(image: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    for bord in (1, 2):
        table(src, bord)
    table(src, 3, credential=False)  # row 3 names a credential file that is not there
    rows = ["name,config,credential,ca,authorized_keys"] + [
        f"bord{b},bord{b}.toml,bord{b}.cred,," for b in (1, 2, 3)]
    csv = src / "tables.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = provision("--image", image, "--out", out, "--bulk", csv)
    assert result.returncode == 1
    assert not out.exists() or not list(out.glob("*.img"))
    table(src, 3)
    result = provision("--image", image, "--out", out, "--bulk", csv)
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.glob("*.img")) == ["bord1.img", "bord2.img", "bord3.img"]
    assert "bord = 2" in read_boot(out / "bord2.img", "valgkiosk/station.toml")
    ids = {read_boot(out / f"bord{b}.img", "cmdline.txt").split("systemd.machine_id=")[1][:32] for b in (1, 2, 3)}
    assert len(ids) == 3  # every table its own machine id
    assert len((out / "SHA256SUMS").read_text(encoding="utf-8").splitlines()) == 6 + 4  # + the loggbok keys


def test_check_only(tmp_path: Path) -> None:
    config = table(tmp_path, 5)
    ok = provision("--check", "--config", config, "--credential", tmp_path / "bord5.cred")
    assert ok.returncode == 0 and "er gyldig" in ok.stdout
    missing = provision("--check", "--config", config)
    assert missing.returncode == 1 and "register.credential_file" in missing.stderr


def test_onto_a_flashed_card(image: Path, tmp_path: Path) -> None:
    card = tmp_path / "card.img"  # a file stands in for /dev/sdX: same bytes, same tools
    shutil.copyfile(image, card)
    config = table(tmp_path, 9)
    result = provision("--device", card, "--config", config, "--credential", tmp_path / "bord9.cred")
    assert result.returncode == 0, result.stderr
    assert "bord = 9" in read_boot(card, "valgkiosk/station.toml")
    # provisioning the same card again replaces the table, not appends to it
    config2 = table(tmp_path, 10)
    assert provision("--device", card, "--config", config2, "--credential", tmp_path / "bord10.cred").returncode == 0
    assert "bord = 10" in read_boot(card, "valgkiosk/station.toml")
    assert read_boot(card, "cmdline.txt").count("systemd.machine_id=") == 1


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_from_a_fresh_clone_as_the_guide_says(image: Path, tmp_path: Path) -> None:
    # A plain clone, no venv: provision.sh makes it, checks the config with the kiosk's own
    # code and writes the file name the guide's flash step uses.
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(REPO), str(clone)], check=True, timeout=120)
    subprocess.run(["git", "-C", str(clone), "checkout", "-q", subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()],
        check=True)
    config = table(tmp_path / "in", 3)
    environ = {k: v for k, v in env().items() if not k.startswith(("VIRTUAL_ENV", "VALGKIOSK_PYTHON"))}
    environ["PATH"] = ":".join(p for p in environ.get("PATH", "").split(":") if ".venv" not in p)
    check = subprocess.run([str(clone / "image-build" / "provision.sh"), "--check", "--config", str(config),
                            "--credential", str(tmp_path / "in" / "bord3.cred")],
                           capture_output=True, text=True, timeout=800, env=environ)
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"Konfigurasjonen {config} er gyldig." in check.stdout
    assert (clone / ".venv" / "bin" / "python").is_file()
    out = tmp_path / "ut"
    made = subprocess.run([str(clone / "image-build" / "provision.sh"), "--image", str(image), "--out", str(out),
                           "--config", str(config), "--credential", str(tmp_path / "in" / "bord3.cred")],
                          capture_output=True, text=True, timeout=300, env=environ)
    assert made.returncode == 0, made.stdout + made.stderr
    # docs/it-team.md, "Flash": sudo bmaptool copy ut/valgkiosk-0301-0101-bord3.img /dev/sdX
    guide = (REPO / "docs" / "it-team.md").read_text(encoding="utf-8")
    assert "bmaptool copy ut/valgkiosk-0301-0101-bord3.img" in guide
    assert made.stdout.splitlines()[0] == str(out / "valgkiosk-0301-0101-bord3.img")
    assert (out / "valgkiosk-0301-0101-bord3.img.bmap").is_file()


# -- the loggbok's signing key (issue 13) -------------------------------------------------------

def boot_folder_of(img: Path, into: Path) -> Path:
    """The image's boot valgkiosk/ folder copied out with mtools, as the kiosk sees it at boot."""
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mcopy", "-s", "-i", f"{img}@@{4 * 1024 * 1024}", "::/valgkiosk", str(into)], check=True,
                   env=env(), capture_output=True)
    return into / "valgkiosk"


def test_each_table_gets_its_own_loggbok_key_for_the_register(image: Path, tmp_path: Path) -> None:
    import tomllib

    from image_stations import importer

    from valgkiosk import signing

    src = tmp_path / "in"
    for bord in (1, 2):
        table(src, bord)
    (src / "tables.csv").write_text("name,config,credential,ca,authorized_keys\n"
                                    "bord1,bord1.toml,bord1.cred,,\nbord2,bord2.toml,bord2.cred,,\n", encoding="utf-8")
    out = tmp_path / "out"
    result = provision("--image", image, "--out", out, "--bulk", src / "tables.csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [str(out / "bord1.img"), str(out / "bord2.img")]  # stdout as before
    publics = {}
    for bord in (1, 2):
        folder = boot_folder_of(out / f"bord{bord}.img", tmp_path / f"boot{bord}")
        config = tomllib.loads((folder / "station.toml").read_text(encoding="utf-8"))
        assert config["log"]["signing_key"] == "/etc/valgkiosk/loggbok.key"
        assert config["log"]["loggbok"]  # the rest of [log] as the IT team wrote it
        importer().check_folder(folder)  # what the kiosk checks at boot accepts it
        sign, public = signing.load_signer(folder / "loggbok.key")
        assert (out / f"bord{bord}.loggbok.pub").read_text(encoding="ascii").strip() == public
        assert f"loggboknøkkel bord{bord} {public}" in result.stderr
        assert signing.checker(public)("ab" * 32, sign("ab" * 32))
        publics[bord] = public
    assert publics[1] != publics[2]
    assert (out / "loggbok-keys.csv").read_text(encoding="utf-8").splitlines() == [
        "name,public_key", f"bord1,{publics[1]}", f"bord2,{publics[2]}"]
    sums = (out / "SHA256SUMS").read_text(encoding="utf-8")
    assert "loggbok-keys.csv" in sums and "bord2.loggbok.pub" in sums
    subprocess.run(["sha256sum", "--check", "--quiet", "SHA256SUMS"], cwd=out, check=True)


def test_a_key_made_beforehand_is_used_and_no_key_on_request(image: Path, tmp_path: Path) -> None:
    from valgkiosk import signing

    config = table(tmp_path / "in", 6)
    own = tmp_path / "bord6.key"
    public = signing.generate(own)
    out = tmp_path / "out"
    cred = tmp_path / "in" / "bord6.cred"
    result = provision("--image", image, "--out", out, "--config", config, "--credential", cred, "--loggbok-key", own)
    assert result.returncode == 0, result.stderr
    img = out / "valgkiosk-0301-0101-bord6.img"
    assert read_boot(img, "valgkiosk/loggbok.key") == own.read_text(encoding="ascii")
    assert (out / "valgkiosk-0301-0101-bord6.loggbok.pub").read_text(encoding="ascii").strip() == public
    # a file that is no key stops provisioning before anything is written
    (tmp_path / "junk.key").write_text("not a key", encoding="ascii")
    bad = provision("--image", image, "--out", tmp_path / "out2", "--config", config, "--credential", cred,
                    "--loggbok-key", tmp_path / "junk.key")
    assert bad.returncode == 1 and "kan ikke leses" in bad.stderr
    assert not (tmp_path / "out2").exists() or not list((tmp_path / "out2").glob("*.img"))
    # --no-loggbok-key: the config as written, no key on the card
    plain = provision("--image", image, "--out", tmp_path / "out3", "--config", config, "--credential", cred,
                      "--no-loggbok-key")
    assert plain.returncode == 0, plain.stderr
    img3 = tmp_path / "out3" / "valgkiosk-0301-0101-bord6.img"
    import tomllib

    assert "signing_key" not in tomllib.loads(read_boot(img3, "valgkiosk/station.toml"))["log"]
    listing = subprocess.run(["mdir", "-b", "-i", f"{img3}@@{4 * 1024 * 1024}", "::/valgkiosk"], capture_output=True,
                             text=True, env=env(), check=True).stdout
    assert "loggbok.key" not in listing and not list((tmp_path / "out3").glob("*.pub"))


def test_onto_a_card_the_public_key_is_printed(image: Path, tmp_path: Path) -> None:
    card = tmp_path / "card.img"
    shutil.copyfile(image, card)
    config = table(tmp_path, 11)
    result = provision("--device", card, "--config", config, "--credential", tmp_path / "bord11.cred")
    assert result.returncode == 0, result.stderr
    line = next(ln for ln in result.stderr.splitlines() if ln.startswith("loggboknøkkel "))
    assert line.split()[1] == "valgkiosk-0301-0101-bord11" and len(line.split()[2]) == 64
    assert "BEGIN PRIVATE KEY" in read_boot(card, "valgkiosk/loggbok.key")


# -- the data partition's key where the board has none (issue 13) ------------------------------

def test_a_file_secret_for_the_data_partition_only_on_request(image: Path, tmp_path: Path) -> None:
    import re

    config = table(tmp_path / "in", 3)
    cred = tmp_path / "in" / "bord3.cred"
    out = tmp_path / "out"
    made = provision("--image", image, "--out", out, "--config", config, "--credential", cred, "--data-secret", "new")
    assert made.returncode == 0, made.stderr
    img = out / "valgkiosk-0301-0101-bord3.img"
    secret = read_boot(img, "valgkiosk/data-secret").strip()
    assert re.fullmatch(r"[0-9a-f]{64}", secret) and secret != "0" * 64
    # a given secret is checked first (64 hex digits, not all zeros) and copied as it is
    own = tmp_path / "own.hex"
    own.write_text("ab" * 32 + "\n", encoding="ascii")
    again = provision("--image", image, "--out", tmp_path / "out2", "--config", config, "--credential", cred,
                      "--data-secret", own)
    assert again.returncode == 0, again.stderr
    assert read_boot(tmp_path / "out2" / img.name, "valgkiosk/data-secret").strip() == "ab" * 32
    own.write_text("00" * 32, encoding="ascii")
    refused = provision("--image", image, "--out", tmp_path / "out3", "--config", config, "--credential", cred,
                        "--data-secret", own)
    assert refused.returncode == 1 and "datanøkkelen" in refused.stderr and "ingenting er skrevet" in refused.stderr
    assert not (tmp_path / "out3" / img.name).exists()
    # without the option: no secret on the card (the board's OTP, or no kiosk)
    plain = provision("--image", image, "--out", tmp_path / "out4", "--config", config, "--credential", cred)
    assert plain.returncode == 0, plain.stderr
    listing = subprocess.run(["mdir", "-b", "-i", f"{tmp_path / 'out4' / img.name}@@{4 * 1024 * 1024}",
                              "::/valgkiosk"], capture_output=True, text=True, env=env(), check=True).stdout
    assert "data-secret" not in listing and "credential" in listing


def boot_listing(img: Path) -> str:
    """The names in the image's boot valgkiosk/ folder (mdir, nothing mounted)."""
    return subprocess.run(["mdir", "-b", "-i", f"{img}@@{4 * 1024 * 1024}", "::/valgkiosk"], capture_output=True,
                          text=True, env=env(), check=True).stdout


def test_bulk_data_secret_column_per_table(image: Path, tmp_path: Path) -> None:
    import re

    src = tmp_path / "in"
    for bord in (1, 2, 3, 4):
        table(src, bord)
    (src / "keys").mkdir()
    (src / "keys" / "bord3.hex").write_text("cd" * 32 + "\n", encoding="ascii")
    # data_secret without a loggbok_key column: the header names the columns, in its own order
    # (as a spreadsheet saves it: a byte order mark, CRLF)
    (src / "tables.csv").write_text("\ufeffname,config,credential,ca,authorized_keys,data_secret\r\n"
                                    "bord1,bord1.toml,bord1.cred,,,new\r\n"
                                    "bord2,bord2.toml,bord2.cred,,,new\r\n"
                                    "bord3,bord3.toml,bord3.cred,,,keys/bord3.hex\r\n"
                                    "bord4,bord4.toml,bord4.cred,,,\r\n", encoding="utf-8")
    out = tmp_path / "out"
    result = provision("--image", image, "--out", out, "--bulk", src / "tables.csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:4] == [str(out / f"bord{b}.img") for b in (1, 2, 3, 4)]
    secrets = [read_boot(out / f"bord{b}.img", "valgkiosk/data-secret").strip() for b in (1, 2)]
    assert all(re.fullmatch(r"[0-9a-f]{64}", s) for s in secrets) and secrets[0] != secrets[1]
    assert read_boot(out / "bord3.img", "valgkiosk/data-secret").strip() == "cd" * 32
    assert "data-secret" not in boot_listing(out / "bord4.img") and "credential" in boot_listing(out / "bord4.img")
    for bord in (1, 2, 3):
        assert "bord = %d" % bord in read_boot(out / f"bord{bord}.img", "valgkiosk/station.toml")
        assert "loggbok.key" in boot_listing(out / f"bord{bord}.img")  # the other files as before


@pytest.mark.parametrize(("cell", "content", "reason"), [
    ("missing.hex", None, "finner ikke filen"),
    ("short.hex", "ab" * 31, "skal holde 64 heksadesimale tegn, ikke 62"),
    ("junk.hex", "zz" * 32, "skal holde 64 heksadesimale tegn"),
    ("zeros.hex", "00" * 32, "bare nuller"),
])
def test_bulk_a_bad_data_secret_cell_names_its_row_and_writes_nothing(
        image: Path, tmp_path: Path, cell: str, content: str | None, reason: str) -> None:
    src = tmp_path / "in"
    for bord in (1, 2, 3):
        table(src, bord)
    if content is not None:
        (src / cell).write_text(content, encoding="ascii")
    # positional, no header: loggbok_key (empty) then data_secret
    csv = src / "tables.csv"
    csv.write_text(f"bord1,bord1.toml,bord1.cred,,,,new\nbord2,bord2.toml,bord2.cred,,,,\n"
                   f"bord3,bord3.toml,bord3.cred,,,,{cell}\n", encoding="utf-8")
    out = tmp_path / "out"
    result = provision("--image", image, "--out", out, "--bulk", csv)
    assert result.returncode == 1, result.stdout
    assert f"rad 3 (bord3) i {csv}: data_secret «{cell}» kan ikke brukes" in result.stderr
    assert reason in result.stderr and "ingenting er skrevet" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() or not list(out.glob("*.img*"))


def test_bulk_refuses_an_unknown_column_and_the_single_table_option(image: Path, tmp_path: Path) -> None:
    src = tmp_path / "in"
    table(src, 1)
    csv = src / "tables.csv"
    csv.write_text("name,config,credential,datasecret\nbord1,bord1.toml,bord1.cred,new\n", encoding="utf-8")
    out = tmp_path / "out"
    result = provision("--image", image, "--out", out, "--bulk", csv)
    assert result.returncode == 1 and "ukjent kolonne «datasecret»" in result.stderr and "rad 1" in result.stderr
    csv.write_text("name,config,credential\nbord1,bord1.toml,bord1.cred\n", encoding="utf-8")
    both = provision("--image", image, "--out", out, "--bulk", csv, "--data-secret", "new")
    assert both.returncode == 1 and "kolonnen data_secret" in both.stderr
    assert not out.exists() or not list(out.glob("*.img"))
