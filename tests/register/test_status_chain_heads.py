"""The loggbok's chain head in the kiosks' status reports (issue 13): kept among the
kiosk's chain heads, checked against its registered key, and shown on the office's
dashboard beside the heads of its emergency uploads. Through a real uvicorn server on
loopback, on both backends; the keeping rule also on its own with a moved clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from valgkiosk import signing
from valgkiosk.register.office import StatusReport
from valgkiosk.register.store import SqlStore
from valgkiosk.register.store.status import HEAD_EVERY_S, StatusStore

from .factory import ADMIN, TABLE_1, TABLE_2
from .test_status import MORNING, Office, office, report, send, table  # noqa: F401 - the fixture

H = {n: f"{n:02x}" * 32 for n in range(1, 20)}  # a distinct hash per entry count


def head(entries: int, sign: Any = None, digest: str | None = None) -> dict[str, Any]:
    digest = digest or H[entries]
    return {"entries": entries, "hash": digest, "sig": sign(digest) if sign else ""}


def test_the_reported_head_is_kept_signed_and_a_cut_loggbok_is_a_conflict(office: Office, tmp_path: Path) -> None:
    public = signing.generate(tmp_path / "k.key")
    sign, _ = signing.load_signer(tmp_path / "k.key")
    office.store.save_kiosk_key(TABLE_1.kiosk_id, public, MORNING)
    send(office, TABLE_1, report(chain_head=head(5, sign)))
    office.clock.advance(1)
    send(office, TABLE_1, report(chain_head=head(6, sign)))  # grew within HEAD_EVERY_S: seen, not kept
    kept = office.store.chain_heads(TABLE_1.kiosk_id)
    assert [(h.entries, h.source, h.signature_ok) for h in kept] == [(5, "status", True)]
    assert office.store.chain_conflicts() == []
    # an upload's head, then the status goes on from it: they extend each other
    office.clock.advance(1)
    with office.client(TABLE_1) as c:
        assert c.post("/v1/emergency-votes", json={"votes": [], "chain_head": head(7, sign)}).status_code == 200
    chain = table(office.overview(), TABLE_1)["chain"]
    assert chain["last_upload"]["entries"] == 7 and chain["conflicts"] == []
    with httpx.Client(base_url=office.url, timeout=10, headers={"Authorization": f"Bearer {office.tokens[ADMIN.kiosk_id]}"}) as b:
        html = b.get("/kontor/innhold").text
    assert "stemmer med opplastingene (siste nr. 7); signert med kioskens nøkkel" in html
    # the loggbok is cut back to 4 entries: kept at once, with the head seen before it
    office.clock.advance(1)
    send(office, TABLE_1, report(chain_head=head(4, sign)))
    assert [h.entries for h in office.store.chain_heads(TABLE_1.kiosk_id)] == [5, 6, 7, 4]
    conflicts = office.store.chain_conflicts()
    assert [c.kiosk_id for c in conflicts] == [TABLE_1.kiosk_id]
    assert "gikk tilbake fra nr. 7 til nr. 4" in conflicts[0].message
    chain = table(office.overview(), TABLE_1)["chain"]
    assert any("gikk tilbake" in m for m in chain["conflicts"])
    with httpx.Client(base_url=office.url, timeout=10, headers={"Authorization": f"Bearer {office.tokens[ADMIN.kiosk_id]}"}) as b:
        html = b.get("/kontor/innhold").text
    assert "Avvik: Kjedehodet gikk tilbake fra nr. 7 til nr. 4" in html


def test_a_head_signed_by_another_key_or_forked_is_a_conflict(office: Office, tmp_path: Path) -> None:
    office.store.save_kiosk_key(TABLE_2.kiosk_id, signing.generate(tmp_path / "real.key"), MORNING)
    signing.generate(tmp_path / "other.key")
    forge, _ = signing.load_signer(tmp_path / "other.key")
    send(office, TABLE_2, report(chain_head=head(3, forge)))
    assert office.store.chain_heads(TABLE_2.kiosk_id)[0].signature_ok is False
    send(office, TABLE_2, report(chain_head=head(3, forge, "ee" * 32)))  # same number, other hash
    messages = [c.message for c in office.store.chain_conflicts() if c.kiosk_id == TABLE_2.kiosk_id]
    assert any("ikke signert med kioskens" in m for m in messages)
    assert any("To ulike kjedehoder med nr. 3" in m for m in messages)


def test_a_report_without_a_head_and_a_malformed_head() -> None:
    assert StatusReport.model_validate(report()).chain_head is None  # an empty loggbok, or an older kiosk
    for bad in ({"entries": -1, "hash": H[1]}, {"entries": 1, "hash": "zz"}, {"entries": "1", "hash": H[1]},
                {"entries": 1, "hash": H[1], "sig": "ab"}, {"entries": 1, "hash": H[1], "extra": 1}):
        try:
            StatusReport.model_validate(report(chain_head=bad))
        except ValueError:
            continue
        raise AssertionError(f"accepted {bad}")


def test_which_heads_are_kept(store: SqlStore) -> None:
    from .factory import fill

    fill(store)
    mono, at = [0.0], [MORNING]
    statuses = StatusStore(store, monotonic=lambda: mono[0])

    def keep(entries: int, digest: str | None = None) -> list[int]:
        at[0] += timedelta(seconds=1)
        heads = statuses.heads_to_keep(TABLE_1, StatusReport.model_validate(report(chain_head=head(entries, None, digest))),
                                       at[0])
        statuses.keep_heads(TABLE_1, heads)
        return [h.entries for h, _ in heads]

    assert statuses.heads_to_keep(TABLE_1, StatusReport.model_validate(report()), MORNING) == []
    assert keep(1) == [1]          # the first
    assert keep(1) == []           # the same again
    mono[0] += HEAD_EVERY_S - 1
    assert keep(2) == []           # grew, too soon
    assert keep(3) == []
    mono[0] += 1
    assert keep(4) == [4]          # grew, time to keep one
    assert keep(4, "ff" * 32) == [4]   # forked: kept at once (the head before it is already kept)
    mono[0] += 1
    assert keep(5) == []
    assert keep(2) == [5, 2]       # shrank: the last one seen (5) and this one
    assert [h.entries for h in store.chain_heads(TABLE_1.kiosk_id)] == [1, 4, 4, 5, 2]  # in the order they came
