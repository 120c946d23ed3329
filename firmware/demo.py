"""The demo: a synthetic register on SQLite, and demo valgkort for each case the clerk meets.

``scripts/run`` calls ``valgkiosk demo``. Everything lives in one folder (``.demo/`` by
default) and is made once; delete the folder to start over.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from valgkiosk.core.manntallsnummer import make
from valgkiosk.register import credentials, synthetic
from valgkiosk.register.model import Election, Kiosk, Role, Verdict
from valgkiosk.register.store import SqlStore, open_store

#: The chair's PIN in the demo, and its hash as ``valgkiosk pin-hash`` makes it.
DEMO_PIN = "1234"
DEMO_PIN_HASH = "scrypt$14$8$1$dmFsZ2tpb3NrLWRlbW8hIQ==$AzsdJOS8RnkFDOoxzXJY0iw+BLS3iTojI+iTUIDKBnU="
DEMO_ELECTION = Election("kommunestyre_og_fylkestingsvalg", 2027, date(2027, 9, 13))
DEMO_VOTERS = 20_000
DEMO_SEED = 2027
DEMO_KOMMUNE = "9001"
DEMO_KRETS = "0001"
DEMO_TABLE = Kiosk("demo-bord1", Role.KIOSK, DEMO_KOMMUNE, DEMO_KRETS, 1)
OTHER_TABLE = Kiosk("demo-bord2", Role.KIOSK, DEMO_KOMMUNE, DEMO_KRETS, 2)


@dataclass(frozen=True)
class DemoCard:
    """A valgkort number to scan in the demo, and what it shows."""

    number: str
    case: str


@dataclass(frozen=True)
class Demo:
    """A prepared demo: where the register is, the kiosk's credential, and the cards."""

    folder: Path
    db_url: str
    credential_file: Path
    cards: list[DemoCard]


def prepare(folder: Path, *, voters: int = DEMO_VOTERS) -> Demo:
    """Make the demo register in ``folder`` unless it is already there."""
    folder.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{folder.resolve()}/register.db"
    credential_file = folder / "kiosk.credential"
    cards_file = folder / "demo-valgkort.txt"
    if not (cards_file.exists() and credential_file.exists()):
        for stale in folder.glob("register.db*"):
            stale.unlink()
        store = open_store(db_url)
        try:
            store.migrate()
            store.set_election(DEMO_ELECTION)
            synthetic.populate(store, voters=voters, seed=DEMO_SEED, kommuner=1,
                               kretser_per_kommune=4, own_station_required=True)
            token = credentials.issue(store, DEMO_TABLE)
            credential_file.touch(mode=0o600)
            credential_file.write_text(token + "\n", encoding="utf-8")
            cards = _make_cards(store, voters)
        finally:
            store.close()
        cards_file.write_text("".join(f"{c.number}\t{c.case}\n" for c in cards), encoding="utf-8")
    cards = [DemoCard(*line.split("\t", 1)) for line in cards_file.read_text(encoding="utf-8").splitlines()]
    office_key = folder / "valgstyret.key"
    if not office_key.exists():  # the election office's key for the dashboard at /kontor
        store = open_store(db_url)
        try:
            token = credentials.issue(store, Kiosk("valgstyret", Role.ADMIN))
        finally:
            store.close()
        office_key.touch(mode=0o600)
        office_key.write_text(token + "\n", encoding="utf-8")
    return Demo(folder, db_url, credential_file, cards)


def _make_cards(store: SqlStore, voters: int) -> list[DemoCard]:
    """One card per case, picked from the synthetic register (and set up where needed)."""
    register = synthetic.generate(voters=voters, seed=DEMO_SEED, election_year=DEMO_ELECTION.year,
                                  election_date=DEMO_ELECTION.date, kretser_per_kommune=4,
                                  own_station_required=True)
    here = [v for v in register.voters() if v.krets == DEMO_KRETS]
    ready = [v for v in here if not v.sami]
    sami = next(v for v in here if v.sami)
    elsewhere = next(v for v in register.voters() if v.krets != DEMO_KRETS)
    voted, misregistered = ready[-1], ready[-2]
    now = datetime.now(timezone.utc)
    store.check_off(OTHER_TABLE, str(uuid.uuid4()), voted.manntallsnummer, now)
    store.check_off(OTHER_TABLE, str(uuid.uuid4()), misregistered.manntallsnummer, now)
    store.report_misregistration(OTHER_TABLE, misregistered.manntallsnummer, "Avkrysser bord 2",
                                 "Feil person krysset av", now)
    serial = 9_999_999_999
    while store.voter_status(DEMO_TABLE, make(serial, DEMO_ELECTION.year).digits).verdict \
            is not Verdict.NOT_IN_REGISTER:
        serial -= 1
    return [
        *(DemoCard(v.manntallsnummer, "kan krysses av") for v in ready[:3]),
        DemoCard(sami.manntallsnummer, "samisk manntall"),
        DemoCard(voted.manntallsnummer, "stemt før"),
        DemoCard(misregistered.manntallsnummer, "stemt før, med feilregistrering"),
        DemoCard(elsewhere.manntallsnummer, "annet valglokale"),
        DemoCard(make(serial, DEMO_ELECTION.year).digits, "ikke i manntallet"),
        DemoCard(make(4242, 2025).digits, "valgkort fra et annet valg"),
        DemoCard(ready[0].manntallsnummer[:11] + str((int(ready[0].manntallsnummer[11]) + 1) % 10),
                 "feillest (kontrollsiffer)"),
    ]


def print_cards(demo: Demo) -> None:
    """Show the demo valgkort numbers on the terminal."""
    print(f"Stemmestyrets leder har PIN-koden {DEMO_PIN} i demoen (F5 beredskapsrutinen).")
    print("Demo-valgkort (skann ved å skrive nummeret og trykke Enter):")
    for card in demo.cards:
        print(f"  {card.number[:10]} {card.number[10:]}   {card.case}")


def write_kiosk_config(demo: Demo, register_url: str) -> Path:
    """The sim-mode station configuration for the demo table, with the demo cards."""
    path = demo.folder / "kiosk.toml"
    cards = "\n".join(f'  {{ label = "{c.case}", number = "{c.number}" }},' for c in demo.cards)
    path.write_text(f"""# Made by `valgkiosk demo`: the demo table in sim mode against the demo register.
[station]
kommune = "{DEMO_TABLE.kommune}"
krets = "{DEMO_TABLE.krets}"
bord = {DEMO_TABLE.bord}

[election]
year = {DEMO_ELECTION.year}

[register]
url = "{register_url}"
credential_file = "{demo.credential_file.name}"

[scanner]
kind = "sim"

[log]
file = "{(demo.folder / "kiosk.log").resolve()}"
loggbok = "{(demo.folder / "kiosk-loggbok.jsonl").resolve()}"

[emergency]
chair_pin_hash = "{DEMO_PIN_HASH}"   # the demo chair's PIN is {DEMO_PIN}

[office]
# status reports to the dashboard at /kontor; the demo table is its station's messenger
# and "texts" the office through the simulated modem (the dev dock, F12, shows them)
sms_numbers = ["+4799999999"]
messenger_table = {DEMO_TABLE.bord}
sms_after_seconds = 10

[sim]
demo_cards = [
{cards}
]
""", encoding="utf-8")
    return path


def run(folder: Path, port: int) -> int:
    """The whole demo: the register in the background, the kiosk in sim mode in front."""
    import os
    import subprocess
    import sys
    import time
    import urllib.request

    from valgkiosk.bootstrap import run_kiosk

    demo = prepare(folder)
    url = f"http://127.0.0.1:{port}"
    log = open(folder / "register.log", "ab")  # noqa: SIM115 - handed to the child
    register = subprocess.Popen(
        [sys.executable, "-m", "valgkiosk", "register", "serve", "--db", demo.db_url, "--port", str(port),
         "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if register.poll() is not None or time.monotonic() > deadline:
                print(f"Manntallet startet ikke; se {folder / 'register.log'}.", file=sys.stderr)
                return 1
            time.sleep(0.1)
        config = write_kiosk_config(demo, url)
        print(f"Valgorganisasjonens oversikt: {url}/kontor (nøkkelen står i {folder / 'valgstyret.key'})")
        return run_kiosk(str(config), sim=True)
    finally:
        register.terminate()
        try:
            register.wait(timeout=10)
        except subprocess.TimeoutExpired:
            register.kill()
        log.close()
