"""The demo register: every demo valgkort shows the case it is labelled with."""

from __future__ import annotations

from pathlib import Path

import pytest

from valgkiosk import demo
from valgkiosk.core import manntallsnummer
from valgkiosk.register.model import Verdict
from valgkiosk.register.store import open_store

EXPECTED = {
    "kan krysses av": Verdict.READY,
    "samisk manntall": Verdict.READY,
    "stemt før": Verdict.ALREADY_VOTED,
    "stemt før, med feilregistrering": Verdict.ALREADY_VOTED,
    "annet valglokale": Verdict.OTHER_STATION,
    "ikke i manntallet": Verdict.NOT_IN_REGISTER,
}


def test_every_demo_card_shows_its_case(tmp_path: Path) -> None:
    prepared = demo.prepare(tmp_path, voters=2000)
    assert prepared.credential_file.stat().st_mode & 0o077 == 0
    store = open_store(prepared.db_url)
    try:
        seen = set()
        for card in prepared.cards:
            seen.add(card.case)
            year = demo.DEMO_ELECTION.year
            if card.case == "valgkort fra et annet valg":
                with pytest.raises(manntallsnummer.InvalidManntallsnummer) as caught:
                    manntallsnummer.parse(card.number, election_year=year)
                assert caught.value.problem is manntallsnummer.Problem.OTHER_ELECTION
                continue
            if card.case == "feillest (kontrollsiffer)":
                with pytest.raises(manntallsnummer.InvalidManntallsnummer) as caught:
                    manntallsnummer.parse(card.number, election_year=year)
                assert caught.value.problem is manntallsnummer.Problem.CHECK_DIGIT
                continue
            status = store.voter_status(demo.DEMO_TABLE, card.number)
            assert status.verdict is EXPECTED[card.case], card
            if card.case == "samisk manntall":
                assert status.voter is not None and status.voter.sami
            if card.case == "stemt før, med feilregistrering":
                assert status.checkoff is not None and status.checkoff.misregistration is not None
        assert seen == set(EXPECTED) | {"valgkort fra et annet valg", "feillest (kontrollsiffer)"}
    finally:
        store.close()
    again = demo.prepare(tmp_path, voters=2000)  # made once, then reused
    assert again.cards == prepared.cards
    config = demo.write_kiosk_config(prepared, "http://127.0.0.1:8470")
    from valgkiosk import config as station_config

    loaded = station_config.load(config)
    assert [c.number for c in loaded.sim.demo_cards] == [c.number for c in prepared.cards]
