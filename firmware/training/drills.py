"""Drills as data: one TOML file per drill (docs/training.md explains every key).

The package ships one drill per case of the routine (``drills/*.toml``); a municipality
adds its own by putting files in a folder and naming it (``valgkiosk train --drills DIR``
or ``$VALGKIOSK_DRILLS``): a file there with the same ``id`` replaces the package's.
A drill file that cannot be used is named with the key and what is wrong, in Norwegian,
and left out; the others still load.
"""

from __future__ import annotations

import importlib.resources
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .scoring import KIOSK_ACTIONS, PANEL_ACTIONS, Avoid, Expect

#: The voters of the training register a drill can put in front of the clerk
#: (valgkiosk.training.register makes them): role -> what it is.
ROLES: dict[str, str] = {
    "ready": "står i manntallet her og kan krysses av",
    "voted": "er allerede krysset av (ved bord 2)",
    "not_in_register": "et gyldig valgkort som ikke står i manntallet",
    "other_station": "står i manntallet ved et annet valglokale",
    "other_election": "valgkort fra forrige valg (feil valgårssiffer); står i manntallet her",
    "no_valgkort": "står i manntallet her, har ikke med valgkort",
    "sami": "står også i Sametingets valgmanntall",
    "misregistered": "ble nettopp krysset av her ved en feil (det var tvillingsøsteren)",
    "emergency_card": "kommer under beredskapsrutinen med valgkort",
    "emergency_manual": "kommer under beredskapsrutinen uten valgkort",
    "paper": "trenger et manuelt valgkort fra skriveren",
}

#: The events a drill can inject into the simulated world.
INJECTIONS: dict[str, str] = {
    "router_power_off": "ruteren mister strømmen (nettverket forsvinner)",
    "router_power_on": "ruteren får strøm igjen",
    "printer_out_of_paper": "skriveren går tom for papir",
    "prelude_checkoff": "kiosken skanner og krysser av velgerens kort før øvelsen begynner",
    "say": "bare en replikk i panelet",
}

USER_DRILLS_ENV = "VALGKIOSK_DRILLS"


class DrillError(ValueError):
    """A drill file that cannot be used; the message is Norwegian and names file and key."""


@dataclass(frozen=True, slots=True)
class DrillVoter:
    """One voter in front of the clerk: who (a role of the training register), what the
    voter says, what the voter shows, and the ID shown when asked."""

    role: str
    says: str
    shows: str = "valgkort og legitimasjon"
    id_card: str = "førerkort"
    has_valgkort: bool = True
    id_name: str = ""  # the name on the ID when it is not the register's (the twin)


@dataclass(frozen=True, slots=True)
class Injection:
    """Something that happens to the table: at the start, or after the trainee's
    ``count``-th ``after`` action; ``say`` is what the panel tells."""

    event: str
    at_start: bool
    after: str = ""
    count: int = 1
    say: str = ""


@dataclass(frozen=True, slots=True)
class Drill:
    """One scripted drill."""

    id: str
    title: str
    lead: str
    voters: tuple[DrillVoter, ...]
    expects: tuple[Expect, ...]
    avoids: tuple[Avoid, ...] = ()
    injections: tuple[Injection, ...] = ()
    order: int = 100
    source: str = ""
    #: What the chair says when called (the PIN is shown only then).
    chair_says: str = "Lederen kommer til bordet."


@dataclass
class Catalogue:
    """The drills found, in order, and the files that could not be used."""

    drills: list[Drill] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def get(self, drill_id: str) -> Drill:
        for drill in self.drills:
            if drill.id == drill_id:
                return drill
        raise KeyError(drill_id)


def _str(data: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or (default is None and not value.strip()):
        raise DrillError(f"{where}: nøkkelen «{key}» må være en tekst.")
    return value


def _action(value: Any, where: str, key: str) -> str:
    if not isinstance(value, str) or (value not in KIOSK_ACTIONS and value not in PANEL_ACTIONS):
        raise DrillError(f"{where}: «{key} = {value!r}» er ingen kjent handling "
                         f"(se docs/training.md for listen).")
    return value


#: The keys each kind of table may have.
TABLE_KEYS = {
    "voter": {"role", "says", "shows", "id_card", "has_valgkort", "id_name"},
    "expect": {"do", "good", "missed", "before", "count"},
    "avoid": {"do", "mistake"},
    "inject": {"event", "after", "count", "say"},
}


def _table_list(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise DrillError(f"{where}: «{key}» må være en liste av tabeller ([[{key}]]).")
    for n, table in enumerate(value, 1):
        unknown = sorted(set(table) - TABLE_KEYS[key])
        if unknown:
            raise DrillError(f"{where}, [[{key}]] nr. {n}: ukjent nøkkel «{unknown[0]}».")
    return value


def parse(data: dict[str, Any], *, source: str) -> Drill:
    """One drill from a TOML document's data (raises :class:`DrillError`)."""
    known = {"id", "title", "lead", "order", "voter", "expect", "avoid", "inject", "chair_says"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise DrillError(f"{source}: ukjent nøkkel «{unknown[0]}».")
    drill_id = data.get("id", Path(source).stem)
    if not isinstance(drill_id, str) or not drill_id:
        raise DrillError(f"{source}: nøkkelen «id» må være en tekst.")
    voters = []
    for n, v in enumerate(_table_list(data, "voter", source), 1):
        where = f"{source}, [[voter]] nr. {n}"
        role = _str(v, "role", where)
        if role not in ROLES:
            raise DrillError(f"{where}: «role = {role!r}» er ingen kjent velger ({', '.join(ROLES)}).")
        voters.append(DrillVoter(role, _str(v, "says", where), _str(v, "shows", where, "valgkort og legitimasjon"),
                                 _str(v, "id_card", where, "førerkort"),
                                 bool(v.get("has_valgkort", role not in ("no_valgkort", "emergency_manual"))),
                                 _str(v, "id_name", where, "")))
    if not voters:
        raise DrillError(f"{source}: en øvelse trenger minst én velger ([[voter]]).")
    expects = []
    for n, e in enumerate(_table_list(data, "expect", source), 1):
        where = f"{source}, [[expect]] nr. {n}"
        count = e.get("count", 1)
        if not isinstance(count, int) or count < 1:
            raise DrillError(f"{where}: «count» må være et helt tall fra 1.")
        before = _action(e["before"], where, "before") if "before" in e else ""
        expects.append(Expect(_action(e.get("do"), where, "do"), _str(e, "good", where), _str(e, "missed", where),
                              before, count))
    if not expects:
        raise DrillError(f"{source}: en øvelse trenger minst én forventet handling ([[expect]]).")
    avoids = []
    for n, a in enumerate(_table_list(data, "avoid", source), 1):
        where = f"{source}, [[avoid]] nr. {n}"
        avoids.append(Avoid(_action(a.get("do"), where, "do"), _str(a, "mistake", where)))
    injections = []
    for n, i in enumerate(_table_list(data, "inject", source), 1):
        where = f"{source}, [[inject]] nr. {n}"
        event = _str(i, "event", where)
        if event not in INJECTIONS:
            raise DrillError(f"{where}: «event = {event!r}» er ingen kjent hendelse ({', '.join(INJECTIONS)}).")
        after = _action(i["after"], where, "after") if "after" in i else ""
        injections.append(Injection(event, not after, after, int(i.get("count", 1)), _str(i, "say", where, "")))
    order = data.get("order", 100)
    if not isinstance(order, int):
        raise DrillError(f"{source}: «order» må være et helt tall.")
    return Drill(drill_id, _str(data, "title", source), _str(data, "lead", source), tuple(voters), tuple(expects),
                 tuple(avoids), tuple(injections), order, source,
                 _str(data, "chair_says", source, "Lederen kommer til bordet."))


def load_file(path: Path) -> Drill:
    """One drill file (raises :class:`DrillError` with a Norwegian message)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DrillError(f"{path.name}: ikke gyldig TOML ({exc}).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DrillError(f"{path.name}: kan ikke leses ({exc}).") from None
    return parse(data, source=path.name)


def package_files() -> list[Path]:
    """The drills that ship with the kiosk."""
    folder = importlib.resources.files("valgkiosk.training") / "drills"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml"))


def load(extra: Iterable[Path | str] = ()) -> Catalogue:
    """Every drill: the package's, then each folder in ``extra`` and ``$VALGKIOSK_DRILLS``
    (a later drill with the same id replaces the earlier one)."""
    folders = [Path(p) for p in extra]
    if os.environ.get(USER_DRILLS_ENV):
        folders.append(Path(os.environ[USER_DRILLS_ENV]))
    files = package_files()
    catalogue = Catalogue()
    for folder in folders:
        if not folder.is_dir():
            catalogue.problems.append(f"Finner ikke mappen med øvelser: {folder}.")
            continue
        files += sorted(folder.glob("*.toml"))
    found: dict[str, Drill] = {}
    for path in files:
        try:
            drill = load_file(path)
        except DrillError as exc:
            catalogue.problems.append(str(exc))
            continue
        found[drill.id] = drill
    catalogue.drills = sorted(found.values(), key=lambda d: (d.order, d.id))
    return catalogue
