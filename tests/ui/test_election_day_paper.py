"""The paper of a scripted election day (tests/ui/election_day.py), printed by the real
kiosk with its process in UTC: the log in words with no key names, braces, ids, ISO
stamps or times in another zone; the closing report fit to sign; at 42 and 48 columns."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator

import pytest

from tests.ui.election_day import run_day
from valgkiosk.core import peopletime
from valgkiosk.core.receipts import receipt_text
from valgkiosk.core.sentences import PHRASES
from valgkiosk.journal import Journal
from valgkiosk.ports.printer import Text

pytestmark = pytest.mark.timeout(120)

ISO = re.compile(r"\d{4}-\d\d-\d\d|T\d\d:\d\d|\d\d:\d\d")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}|[0-9a-f]{16,}")
UTC_TIMES = ("kl. 05.", "kl. 06.", "kl. 07.0", "kl. 19.")  # what 07.45-21.05 Oslo would be in UTC


@pytest.fixture(scope="module")
def days(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, object]]:
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield {columns: run_day(tmp_path_factory.mktemp(f"day{columns}"), columns) for columns in (42, 48)}
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()
        peopletime.configure()


def lines(receipt) -> list[str]:  # type: ignore[no-untyped-def]
    return [b.text for b in receipt.blocks if isinstance(b, Text)]


@pytest.mark.parametrize("columns", [42, 48])
def test_the_log_of_the_day_is_in_words(days, columns: int) -> None:  # type: ignore[no-untyped-def]
    day = days[columns]
    log = day.last("log")
    text = receipt_text(log)
    body = " ".join(lines(log))
    # the loggbok's chain head (issue 13) is the one hex string the log may carry, at its end
    body, _, head = body.partition("Loggbokens kjedehode: nr. ")
    assert re.fullmatch(r"\d+ [0-9a-f]{32} [0-9a-f]{32}", head.strip()), head
    keys = {k for e in Journal(day.loggbok).entries() for k in e.data} | set(PHRASES)
    words = set(re.findall(r"[\wæøå_]+", body.lower()))
    assert not words & (keys - {"bord", "feil", "utskrift", "meldt"}), words & keys  # (Norwegian words too)
    assert not set("{}[]") & set(body), body
    assert not ISO.search(body) and not UUID.search(body), body
    assert not any(t in body for t in UTC_TIMES), body
    for sentence in ("Kl. 07.45 startet kiosken ved bord 1.",
                     "Kl. 09.02 mistet kiosken kontakt med manntallet: ingen nettverkskobling (ruteren er uten "
                     "strøm, SIMULA-boksen har strøm, strømnettet er på).",
                     "ble alarmen kvittert.", "startet stemmestyrets leder beredskapsrutinen ved bordet.",
                     "ble et manuelt valgkort skrevet ut (beredskapsrutinen).",
                     "ble 2 beredskapsstemmer overført til manntallet.",
                     "ble en feilregistrering meldt til manntallet av avkrysser bord 1.",
                     "Kl. 14.30 ble skanneren koblet fra", "Kl. 14.32 ble skanneren koblet til igjen.",
                     "stoppet en utskrift: skriveren er tom for papir (testside)."):
        assert sentence in " ".join(body.split()), sentence
    assert "Skrevet ut: 08.09.2025 kl. 21.05" in text
    assert all(len(t) <= columns for t in text.splitlines())


@pytest.mark.parametrize("columns", [42, 48])
def test_the_closing_report_of_the_day_is_fit_to_sign(days, columns: int) -> None:  # type: ignore[no-untyped-def]
    report = lines(days[columns].last("closing_report"))
    flat = " ".join(" ".join(report).split())

    def count(label: str) -> str:
        return next(t for t in report if t.startswith(label)).split()[-1]

    assert "Valg: Stortingsvalget 2025" in report and "Kommune: 0301 Oslo" in report
    assert "Valgkrets: 0101 Prøveskolen" in report and "Bord: 1" in report and "Kiosk: 0301-0101-bord1" in report
    assert "Periode: 08.09.2025 kl. 07.45 til 21.05" in flat and "Skrevet ut: 08.09.2025 kl. 21.05" in report
    assert (count("Avkrysninger ved bordet"), count("Feilregistreringer")) == ("2", "1")
    assert (count("Beredskapsstemmer (oransje)"), count("Manuelle valgkort skrevet ut")) == ("2", "2")
    assert count("Brudd i forbindelsen til manntallet") == "1"
    assert "09.02-09.35" in flat and "ingen nettverkskobling (ruteren er uten strøm" in flat
    assert "Stemmestyrets leder:" in report and "Stemmestyremedlem:" in report
    assert "LEGG TIL SIDE FOR VALGSTYRET" in report
    assert re.search(r"- Beredskapsstemme kl\. 09\.\d\d, manntallsnr\. \d{10} \d\d; krysset av kl\. 11\.2\d\.", flat)
    station = lines(days[columns].last("station_report"))
    assert [t.split() for t in station if t.split()[:1] == ["Sum"]] == [["Sum", "2", "2", "1"]]
