"""The embedded training register, and the guard by which a training kiosk refuses a real one.

The training register is the real register service (``valgkiosk.register``: its store on
SQLite, its HTTP application) holding a **training election** with synthetic voters,
served in process: the kiosk's ordinary HTTP client reaches it through httpx's
``ASGITransport``, so every call goes through the same API, validation and rules as on
election day, without a port per trainee. Each drill gets a fresh one (a new SQLite file
in the session's folder), so one trainee's check-offs never meet another drill's.

:class:`TrainingGuard` wraps the Register port of a training kiosk: it asks the register
who it is first, and refuses every call unless the register says it holds a training
election. A kiosk in training mode can therefore never check anybody off in a real
register, whatever URL or credential it was given.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from valgkiosk.core import manntallsnummer as mnr
from valgkiosk.ports.register import Register, RegisterRefused
from valgkiosk.register_memory import synthetic_fnr
from valgkiosk.register_wrapper import Call, ForwardingRegister

from . import TRAINING_CREDENTIAL_PREFIX

#: The training election: a stortingsvalg, so that the Sámi parliament is elected with it.
TRAINING_YEAR = 2029
TRAINING_DATE = date(2029, 9, 10)
KOMMUNE, KOMMUNE_NAVN = "9999", "Øvingskommune"
KRETS, KRETS_NAVN = "0001", "Øvingsskolen"
OTHER_KRETS, OTHER_KRETS_NAVN = "0002", "Øvingshallen"
BORD = 1

T = TypeVar("T")

REAL_REGISTER_REFUSED = ("Kiosken er i øvingsmodus, men manntallet hører til et ekte valg: øvingskiosken brukes "
                         "aldri mot et ekte manntall. Ingen velgere er slått opp eller krysset av.")
REAL_CREDENTIAL_REFUSED = ("Kiosken er i øvingsmodus, men tilgangsnøkkelen er en ekte kiosks: øvingsmodus "
                           "trenger en øvingsnøkkel fra et øvingsmanntall.")


@dataclass(frozen=True, slots=True)
class TrainingVoter:
    """A synthetic voter of the training register, as a drill's card shows them."""

    role: str
    navn: str
    born: date
    manntallsnummer: str | None  # the number on the card the voter brings (None: no valgkort)
    registered_number: str  # the voter's number in the register

    @property
    def born_text(self) -> str:
        return self.born.strftime("%d.%m.%Y")


#: role -> (given name, surname, born, serial, krets, sami). Every name is made up.
_PEOPLE: dict[str, tuple[str, str, date, int, str, bool]] = {
    "ready": ("Kari", "Øvingsen", date(1980, 4, 1), 1001, KRETS, False),
    "voted": ("Ole", "Eksempelsen", date(1955, 11, 23), 1002, KRETS, False),
    "other_station": ("Per", "Fiktivsen", date(1988, 8, 8), 1003, OTHER_KRETS, False),
    "other_election": ("Liv", "Bergesen", date(1999, 2, 28), 1004, KRETS, False),
    "no_valgkort": ("Jon", "Søkesen", date(1972, 6, 30), 1005, KRETS, False),
    "sami": ("Áile", "Sámisen", date(1990, 6, 15), 1006, KRETS, True),
    "misregistered": ("Anne", "Tvillingsen", date(1984, 1, 12), 1007, KRETS, False),
    "emergency_card": ("Odd", "Beredsen", date(1966, 10, 2), 1008, KRETS, False),
    "emergency_manual": ("Randi", "Reservesen", date(1977, 5, 17), 1009, KRETS, False),
    "paper": ("Eva", "Papirsen", date(1993, 12, 3), 1010, KRETS, True),
}
#: Not in the register: a number with a valid check digit that nobody has.
NOT_IN_REGISTER_SERIAL = 9_999_001


def voters() -> dict[str, TrainingVoter]:
    """Every role's voter, with the number on the card the voter brings."""
    out: dict[str, TrainingVoter] = {}
    for role, (given, surname, born, serial, _krets, _sami) in _PEOPLE.items():
        number = mnr.make(serial, TRAINING_YEAR).digits
        card: str | None = number
        if role == "other_election":
            card = mnr.make(serial, TRAINING_YEAR - 4).digits  # the card from the last stortingsvalg
        if role in ("no_valgkort", "emergency_manual"):
            card = None
        out[role] = TrainingVoter(role, f"{given} {surname}", born, card, number)
    nobody = mnr.make(NOT_IN_REGISTER_SERIAL, TRAINING_YEAR).digits
    out["not_in_register"] = TrainingVoter("not_in_register", "Tore Utenfor", date(1961, 3, 3), nobody, nobody)
    return out


@dataclass
class EmbeddedRegister:
    """One training register: the store, its app, and the kiosk's client to it."""

    store: Any
    app: Any
    credential: str
    client: Any  # HttpRegister over ASGITransport

    def close(self) -> None:
        self.store.close()


def make_training_register(folder: Path, *, now: datetime | None = None) -> EmbeddedRegister:
    """A fresh training register in ``folder`` (a new SQLite file): the training election,
    the drills' voters, one check-off made earlier at table 2, and this table's training
    credential."""
    import httpx

    from valgkiosk.register import credentials
    from valgkiosk.register.api import create_app
    from valgkiosk.register.model import Election, Kiosk, Kommune, Krets, Role, Voter
    from valgkiosk.register.store import open_store
    from valgkiosk.register_client import HttpRegister

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"register-{uuid.uuid4().hex[:8]}.db"
    store = open_store(f"sqlite:///{path.resolve()}")
    store.migrate()
    store.set_election(Election("stortingsvalg", TRAINING_YEAR, TRAINING_DATE, training=True))
    rows = []
    for n, (role, (given, surname, born, serial, krets, sami)) in enumerate(_PEOPLE.items()):
        rows.append(Voter(mnr.make(serial, TRAINING_YEAR).digits, synthetic_fnr(born, 100 + n * 7), given, surname, born,
                          f"Øvingsveien {serial % 100}", "9999", "Øvingsby", KOMMUNE, krets, sami))
    store.import_voters(rows, kommuner=[Kommune(KOMMUNE, KOMMUNE_NAVN, own_station_required=True)],
                        kretser=[Krets(KOMMUNE, KRETS, KRETS_NAVN), Krets(KOMMUNE, OTHER_KRETS, OTHER_KRETS_NAVN)])
    here = Kiosk("ovning-bord1", Role.KIOSK, KOMMUNE, KRETS, BORD)
    table2 = Kiosk("ovning-bord2", Role.KIOSK, KOMMUNE, KRETS, 2)
    credentials.issue(store, table2)
    when = now or datetime.now(timezone.utc)
    store.check_off(table2, str(uuid.uuid4()), mnr.make(_PEOPLE["voted"][3], TRAINING_YEAR).digits,
                    when - timedelta(hours=2, minutes=14))
    token = credentials.issue(store, here, training=True)
    app = create_app(store, credential_ttl=60.0)
    client = HttpRegister("http://ovingsregister.invalid", token, timeout=5.0,
                          transport=httpx.ASGITransport(app=app))
    return EmbeddedRegister(store, app, token, client)


class TrainingGuard(ForwardingRegister):
    """A training kiosk's Register port: every call goes to ``inner`` only once the
    register has said it holds a training election (:data:`REAL_REGISTER_REFUSED`
    otherwise). ``inner`` may be swapped for the next drill's fresh register. Each port
    method comes from :class:`~valgkiosk.register_wrapper.ForwardingRegister`, so the guard
    cannot fall behind the port."""

    def __init__(self, inner: Register) -> None:
        self.inner = inner
        self.confirmed: Register | None = None
        self.refusal = ""

    def replace(self, inner: Register) -> None:
        """The next drill's register (asked again before its first call)."""
        self.inner, self.confirmed, self.refusal = inner, None, ""

    async def _checked(self) -> Register:
        if self.confirmed is self.inner:
            return self.inner
        info = await self.inner.kiosk_info()
        if not info.training:
            self.refusal = REAL_REGISTER_REFUSED
            raise RegisterRefused(REAL_REGISTER_REFUSED, status=403, code="not_training")
        self.confirmed = self.inner
        return self.inner

    async def _around(self, method: str, call: Call[T]) -> T:
        """Every call but closing waits for the register to say it holds a training election."""
        if method == "aclose":
            return await call(self.inner)
        return await call(await self._checked())


def credential_is_training(token: str) -> bool:
    """Whether a credential is a training kiosk's (it says so itself)."""
    return token.strip().startswith(TRAINING_CREDENTIAL_PREFIX)


async def check_register(register: Register) -> str:
    """"" when ``register`` holds a training election; else why a training kiosk refuses it."""
    from valgkiosk.ports.register import RegisterError

    try:
        info = await register.kiosk_info()
    except RegisterRefused as exc:
        return f"Manntallet avviste øvingskiosken: {exc}"
    except RegisterError as exc:
        return f"Øvingsmanntallet svarer ikke: {exc}"
    return "" if info.training else REAL_REGISTER_REFUSED
