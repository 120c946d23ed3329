"""The loggbok in words: one sentence per kind, in the routine's words, on the people's
clock, with no keys, braces, ids, ISO stamps or personal data."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone

import pytest

from valgkiosk.core import peopletime
from valgkiosk.core.loggbok import KINDS_NB, next_entry
from valgkiosk.core.sentences import PHRASES, phrase, sentence

pytestmark = pytest.mark.timeout(10)

UTC = timezone.utc
DAY = date(2025, 9, 8)


def entry(kind: str, data: dict[str, object], hhmm: str = "07:02", tz: timezone = UTC):  # type: ignore[no-untyped-def]
    at = datetime.fromisoformat(f"2025-09-08 {hhmm}").replace(tzinfo=tz)
    return next_entry(None, kind, data, at)


def test_every_loggbok_kind_has_a_sentence() -> None:
    missing = sorted(set(KINDS_NB) - set(PHRASES))
    assert not missing, f"no sentence for {missing}: add one to valgkiosk.core.sentences.PHRASES"
    unlabelled = sorted(set(PHRASES) - set(KINDS_NB))
    assert not unlabelled, f"{unlabelled} have words but no label in KINDS_NB"


def test_the_issues_example_sentence() -> None:
    e = entry("outage_start", {"layer": "GATEWAY", "since": "2025-09-08T07:02:05+00:00",
                               "diagnosis": "…", "detail": "10.0.0.1: ingen svar",
                               "power": {"router": True, "simula": True, "mains": True}})
    assert sentence(e, DAY) == ("Kl. 09.02 mistet kiosken kontakt med manntallet: ruteren svarer ikke (ruteren har "
                                "strøm, SIMULA-boksen har strøm, strømnettet er på).")


@pytest.mark.parametrize(("kind", "data", "words"), [
    ("start", {"bord": 4}, "Kl. 09.02 startet kiosken ved bord 4."),
    ("stop", {"bord": 4}, "Kl. 09.02 stoppet kiosken."),
    ("outage_start", {"layer": "LINK", "power": {"router": False, "simula": None, "mains": True}},
     "Kl. 09.02 mistet kiosken kontakt med manntallet: ingen nettverkskobling (ruteren er uten strøm, "
     "strømnettet er på)."),
    ("outage_start", {"layer": "DNS", "power": {}}, "Kl. 09.02 mistet kiosken kontakt med manntallet: "
     "navneoppslag feiler."),
    ("outage_end", {"layer": "TCP", "since": "x", "until": "y", "duration_s": 25.2},
     "Kl. 09.02 fikk kiosken kontakt med manntallet igjen etter 25 s."),
    ("outage_end", {"duration_s": 2012}, "Kl. 09.02 fikk kiosken kontakt med manntallet igjen etter 33 min 32 s."),
    ("alarm_acknowledged", {}, "Kl. 09.02 ble alarmen kvittert."),
    ("pin_refused", {"attempt": 2}, "Kl. 09.02 ble det tastet feil PIN-kode for stemmestyrets leder "
     "(2. forsøk på rad)."),
    ("emergency_start", {"reachable": False}, "Kl. 09.02 startet stemmestyrets leder beredskapsrutinen ved bordet."),
    ("emergency_end", {"votes": 2, "pending": 2, "reachable": True},
     "Kl. 09.02 avsluttet stemmestyrets leder beredskapsrutinen med 2 beredskapsstemmer ved bordet; 2 venter "
     "på å bli overført til manntallet."),
    ("emergency_vote", {"vote_id": "6f1c9a7e-2b0d-4e55-9a51-0c1f2d3e4f50", "manntallsnummer": "000001234582",
                        "manual_valgkort": False},
     "Kl. 09.02 ble en beredskapsstemme (med valgkort) lagt i beredskapsurnen."),
    ("emergency_vote", {"vote_id": "b", "manntallsnummer": "000001234582", "manual_valgkort": False,
                        "krysset_av_her": "2025-09-08T06:40:00+00:00"},
     "Kl. 09.02 ble en beredskapsstemme (med valgkort) lagt i beredskapsurnen; velgeren var krysset av "
     "elektronisk ved dette bordet kl. 08.40: legg konvolutten til side for valgstyret."),
    ("emergency_upload", {"vote_ids": ["a", "b"], "accepted": 2, "repeated": 0},
     "Kl. 09.02 ble 2 beredskapsstemmer overført til manntallet."),
    ("manual_valgkort", {"reason": "emergency", "manntallsnummer": False},
     "Kl. 09.02 ble et manuelt valgkort skrevet ut (beredskapsrutinen)."),
    ("misregistration", {"forespørsel": "00000000-0000-0000-0000-000000000001",
                         "meldt": "2025-09-08T07:02:00+00:00", "meldt_av": "Avkrysser bord 1"},
     "Kl. 09.02 ble en feilregistrering meldt til manntallet av avkrysser bord 1."),
    ("scanner_fault", {"tilkoblet": False, "detalj": "/dev/input/event3 borte"},
     "Kl. 09.02 ble skanneren koblet fra eller sluttet å svare."),
    ("scanner_connected", {"tilkoblet": True, "detalj": ""}, "Kl. 09.02 ble skanneren koblet til igjen."),
    ("printer_fault", {"feil": "out_of_paper", "utskrift": "manual_valgkort", "kan_være_skrevet_ut": False,
                       "forsøk": 1},
     "Kl. 09.02 stoppet en utskrift: skriveren er tom for papir (manuelt valgkort)."),
    ("power", {"source": "router", "present": False, "previous": True}, "Kl. 09.02 mistet ruteren strømmen."),
    ("power", {"source": "mains", "present": False, "previous": True},
     "Kl. 09.02 mistet kiosken strømmen fra strømnettet; kiosken går på batteri."),
    ("power", {"source": "simula", "present": True, "previous": None},
     "Kl. 09.02 hadde SIMULA-boksen strøm ved oppstart."),
    ("selftest", {"passed": False, "failed": ["Skriver: tom for papir"], "checks": {"printer": "failed"}},
     "Kl. 09.02 ble selvtesten kjørt og ikke bestått (1 sjekk feilet)."),
    ("voter_interrupted", {"fase": "avkrysning"},
     "Kl. 09.02 var en velger i gang ved bordet da kiosken stoppet; avkrysningen var sendt, men ikke bekreftet: "
     "slå opp velgeren på nytt før stemmeseddelen stemples."),
])
def test_each_kind_in_words(kind: str, data: dict[str, object], words: str) -> None:
    assert sentence(entry(kind, data), DAY) == words


def test_another_day_carries_its_date_and_the_zone_is_the_peoples() -> None:
    e = entry("start", {"bord": 1}, "22:30")  # 00.30 the next day in Oslo
    assert sentence(e, DAY) == "09.09.2025 kl. 00.30 startet kiosken ved bord 1."
    assert sentence(e) == "09.09.2025 kl. 00.30 startet kiosken ved bord 1."
    try:
        peopletime.configure("Atlantic/Reykjavik")
        assert sentence(e, date(2025, 9, 8)) == "Kl. 22.30 startet kiosken ved bord 1."
    finally:
        peopletime.configure()


def test_unknown_or_damaged_entries_still_read_as_a_sentence() -> None:
    assert phrase("no_such_kind", {"x": 1}) == "ble det ført en hendelse denne versjonen av kiosken ikke kjenner"
    assert "{" not in sentence(entry("emergency_upload", {"vote_ids": 5}), DAY)


ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")


def test_no_sentence_carries_keys_braces_ids_or_personal_data() -> None:
    data = {"vote_id": "6f1c9a7e-2b0d-4e55-9a51-0c1f2d3e4f50", "manntallsnummer": "000001234582",
            "vote_ids": ["6f1c9a7e-2b0d-4e55-9a51-0c1f2d3e4f50"], "since": "2025-09-08T07:02:05+00:00",
            "until": "2025-09-08T07:05:05+00:00", "forespørsel": "00000000-0000-0000-0000-000000000001",
            "power": {"router": True}, "layer": "GATEWAY", "bord": 1, "source": "router", "present": True,
            "previous": False, "feil": "timeout", "utskrift": "log", "attempt": 1, "checks": {"a": "b"}}
    for kind in PHRASES:
        text = sentence(entry(kind, data), DAY)
        assert not ISO.search(text) and not UUID.search(text), text
        assert not set("{}[]") & set(text), text
        assert "000001234582" not in text and "GATEWAY" not in text, text
        words = set(re.findall(r"[\wæøå_]+", text.lower()))
        assert not words & (set(data) - {"bord", "feil", "utskrift"}), text  # (those three are Norwegian words)
