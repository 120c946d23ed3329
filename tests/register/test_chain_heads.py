"""The register keeps the loggbok heads each kiosk sends with its emergency uploads,
checks their signatures against the key registered with the credential, and lists the
kiosks whose heads do not extend each other (both backends)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from valgkiosk import signing
from valgkiosk.core.loggbok import next_entry
from valgkiosk.register.chains import ChainHead, conflicts
from valgkiosk.register.store import SqlStore

from .factory import ADMIN, TABLE_1, TABLE_2, fill
from .test_api import Api, api  # noqa: F401 - the fixture

T0 = datetime(2025, 9, 8, 10, 0, tzinfo=timezone.utc)


def head(kiosk: str, entries: int, digest: str, minutes: int, ok: bool | None = None) -> ChainHead:
    return ChainHead(kiosk, entries, digest * 64, "", ok, "emergency_upload", T0 + timedelta(minutes=minutes))


def test_heads_that_grow_are_no_conflict_shrinking_forking_or_unsigned_ones_are() -> None:
    assert conflicts([head("a", 3, "1", 0), head("a", 7, "2", 5), head("a", 7, "2", 6), head("b", 1, "3", 0)]) == []
    found = conflicts([head("a", 7, "2", 0), head("a", 4, "3", 5),       # shrank
                       head("b", 5, "4", 0), head("b", 5, "5", 1),       # forked
                       head("c", 2, "6", 0, ok=False)])                  # not its key
    assert [(c.kiosk_id, c.message.split(":")[0].split(" ")[0]) for c in found] == [
        ("a", "Kjedehodet"), ("b", "To"), ("c", "Kjedehodet")]
    assert "gikk tilbake fra nr. 7 til nr. 4" in found[0].message


def test_the_store_keeps_heads_and_checks_them_against_the_registered_key(store: SqlStore, tmp_path: Path) -> None:
    fill(store)
    public = signing.generate(tmp_path / "k.key")
    sign, _ = signing.load_signer(tmp_path / "k.key")
    entry = next_entry(None, "start", {}, T0, sign=sign)
    unknown = store.record_chain_head(TABLE_2, 1, entry.hash, entry.sig, "emergency_upload", T0)
    assert unknown.signature_ok is None  # no key registered for this kiosk
    store.save_kiosk_key(TABLE_1.kiosk_id, public, T0)
    assert store.kiosk_key(TABLE_1.kiosk_id) == public
    good = store.record_chain_head(TABLE_1, 1, entry.hash, entry.sig, "emergency_upload", T0)
    bad = store.record_chain_head(TABLE_1, 2, "ab" * 32, "00" * 64, "emergency_upload", T0 + timedelta(minutes=1))
    store.record_chain_head(TABLE_1, 1, entry.hash, entry.sig, "emergency_upload", T0 + timedelta(minutes=2))  # again
    assert (good.signature_ok, bad.signature_ok) == (True, False)
    heads = store.chain_heads(TABLE_1.kiosk_id)
    assert [(h.entries, h.signature_ok) for h in heads] == [(1, True), (2, False)]
    assert [c.kiosk_id for c in store.chain_conflicts()] == [TABLE_1.kiosk_id]


def test_an_upload_carries_the_head_to_the_reconciliation(api: Api) -> None:  # noqa: F811
    votes = [{"vote_id": "v1", "recorded_at": "2025-09-08T10:00:00+02:00", "manual_valgkort": True}]
    with api.client(TABLE_1) as t1, api.client(TABLE_2) as t2, api.client(ADMIN) as admin:
        first = {"votes": votes, "chain_head": {"entries": 9, "hash": "a" * 64, "sig": ""}}
        assert t1.post("/v1/emergency-votes", json=first).status_code == 200
        cut = {"votes": votes, "chain_head": {"entries": 4, "hash": "b" * 64, "sig": ""}}
        assert t1.post("/v1/emergency-votes", json=cut).status_code == 200
        assert t2.post("/v1/emergency-votes", json={"votes": votes}).status_code == 200  # an older kiosk
        bad = {"votes": votes, "chain_head": {"entries": 1, "hash": "not hex"}}
        assert t2.post("/v1/emergency-votes", json=bad).status_code == 422
        report = admin.get("/v1/reconciliation").json()
    assert [c["kiosk_id"] for c in report["chain_conflicts"]] == [TABLE_1.kiosk_id]
    assert [h["entries"] for h in report["chain_conflicts"][0]["heads"]] == [9, 4]


def test_the_public_key_goes_in_with_the_credential_and_reconcile_lists_conflicts(tmp_path: Path, capsys) -> None:
    from valgkiosk.cli import main
    from valgkiosk.register.store import open_store

    url = f"sqlite:///{tmp_path}/r.db"
    assert main(["register", "init", "--db", url, "--election-date", "2025-09-08"]) == 0
    store = open_store(url)
    fill(store)
    store.close()
    public = signing.generate(tmp_path / "k.key")
    base = ["register", "issue-credential", "--db", url, "--kiosk-id", TABLE_1.kiosk_id, "--kommune", "0301",
            "--krets", "0101", "--bord", "1"]
    assert main([*base, "--public-key", "xyz"]) == 2
    assert "64 heksadesimale" in capsys.readouterr().err
    assert main([*base, "--public-key", public]) == 0
    store = open_store(url)
    assert store.kiosk_key(TABLE_1.kiosk_id) == public
    store.record_chain_head(TABLE_1, 9, "a" * 64, "", "status", T0)
    store.record_chain_head(TABLE_1, 4, "b" * 64, "", "status", T0)
    store.close()
    capsys.readouterr()
    assert main(["register", "reconcile", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "ikke henger sammen" in out and "gikk tilbake fra nr. 9 til nr. 4" in out and f"4:{'b' * 64}" in out
    assert main(["register", "chain-heads", "--db", url]) == 0
    assert "IKKE kioskens signatur" in capsys.readouterr().out


def test_a_kiosk_key_made_at_provisioning_is_registered_after_the_credential(tmp_path: Path, capsys) -> None:
    from valgkiosk.cli import main
    from valgkiosk.register.store import open_store

    url = f"sqlite:///{tmp_path}/r.db"
    assert main(["register", "init", "--db", url, "--election-date", "2025-09-08"]) == 0
    store = open_store(url)
    fill(store)
    store.close()
    public = signing.generate(tmp_path / "bord1.key")  # provision.sh writes NAME.loggbok.pub like this .pub
    key = ["register", "kiosk-key", "--db", url, "--kiosk-id", TABLE_1.kiosk_id, "--public-key"]
    assert main([*key, str(tmp_path / "bord1.key.pub")]) == 2  # no credential yet
    assert "ingen gyldig tilgangsnøkkel" in capsys.readouterr().err
    assert main(["register", "issue-credential", "--db", url, "--kiosk-id", TABLE_1.kiosk_id, "--kommune", "0301",
                 "--krets", "0101", "--bord", "1"]) == 0
    assert main([*key, str(tmp_path / "bord1.key.pub")]) == 0
    assert main([*key, "not a key"]) == 2
    capsys.readouterr()
    assert main(key[:-1]) == 0  # without --public-key: the registered key, for log verify --public-key
    assert capsys.readouterr().out.strip() == public
    store = open_store(url)
    assert store.kiosk_key(TABLE_1.kiosk_id) == public
    sign, _ = signing.load_signer(tmp_path / "bord1.key")
    head = store.record_chain_head(TABLE_1, 3, "c" * 64, sign("c" * 64), "status", T0)
    forged = store.record_chain_head(TABLE_1, 4, "d" * 64, "ee" * 64, "status", T0)
    store.close()
    assert head.signature_ok is True and forged.signature_ok is False
