"""Importing the electoral register (manntall) from a CSV file: every row or none.

The file is read twice. The first pass validates every row and the file as a whole
(duplicates, place names that disagree) and keeps only compact numbers, so a file of
millions of rows never sits in memory as voters. Only a file without a single problem
goes on to the second pass, which streams the rows into one ``store.import_voters``
transaction; the second pass checks that the file is byte for byte the one validated,
and a database conflict (a voter already in the register) rolls everything back.

The format is described in ``docs/register-csv.md``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
import sqlite3
import unicodedata
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.no import fodselsnummer as stdnum_fnr

from valgkiosk.core import manntallsnummer
from valgkiosk.register.model import Kommune, Krets, Voter
from valgkiosk.register.store import SqlStore

__all__ = [
    "COLUMNS", "MAX_LENGTHS", "MAX_REPORTED", "OPTIONAL", "RULE_COLUMN", "CheckedFile", "ImportProblem",
    "RegisterImportError", "import_csv", "validate_csv", "write_csv",
]

COLUMNS = (
    "manntallsnummer", "fodselsnummer", "fornavn", "etternavn", "fodselsdato", "adresse",
    "postnummer", "poststed", "kommune", "kommunenavn", "krets", "kretsnavn", "same",
)
# A voter without a fixed address has none; every other field must have a value.
OPTIONAL = frozenset({"adresse", "postnummer", "poststed"})
# A column the file may leave out: the kommune's rule that its voters vote at their own
# station (``ja``/``nei``, the same on every row of a kommune). Without it a kommune
# keeps the rule it has (a new one: any station).
RULE_COLUMN = "eget_valglokale"
MAX_LENGTHS: dict[str, int] = {
    "manntallsnummer": 13, "fodselsnummer": 13, "fornavn": 100, "etternavn": 100,
    "fodselsdato": 10, "adresse": 200, "postnummer": 4, "poststed": 100, "kommune": 4,
    "kommunenavn": 100, "krets": 20, "kretsnavn": 100, "same": 10, RULE_COLUMN: 10,
}
MAX_REPORTED = 50

_TRUE = frozenset({"ja", "true", "1"})
_FALSE = frozenset({"nei", "false", "0"})
_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_MNR_MESSAGES: dict[manntallsnummer.Problem, str] = {
    manntallsnummer.Problem.EMPTY: "mangler verdi",
    manntallsnummer.Problem.NOT_DIGITS: "ugyldig manntallsnummer (bare sifre er tillatt)",
    manntallsnummer.Problem.WRONG_LENGTH: "ugyldig manntallsnummer (må ha 12 sifre)",
    manntallsnummer.Problem.CHECK_DIGIT: "ugyldig manntallsnummer (kontrollsifferet stemmer ikke)",
}
_FNR_MESSAGES: dict[type, str] = {
    InvalidLength: "ugyldig fødselsnummer (må ha 11 sifre)",
    InvalidFormat: "ugyldig fødselsnummer (bare sifre er tillatt)",
    InvalidChecksum: "ugyldig fødselsnummer (kontrollsifferet stemmer ikke)",
    InvalidComponent: "ugyldig fødselsnummer (fødselsdatoen i nummeret finnes ikke)",
}


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One thing wrong with the file; ``line`` and ``field`` are None when not tied to one."""

    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"Linje {self.line}")
        if self.field is not None:
            where.append(f"felt «{self.field}»")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class RegisterImportError(ValueError):
    """The import was refused and nothing was imported; ``problems`` says why.

    ``problems`` holds at most ``MAX_REPORTED`` problems, first lines first; ``total``
    counts them all.
    """

    def __init__(self, problems: list[ImportProblem], total: int | None = None) -> None:
        self.problems = problems
        self.total = len(problems) if total is None else total
        if self.total == 1 and problems[0].line is None:
            super().__init__(f"{problems[0]} Ingen velgere er importert.")
            return
        lines = [f"Ingen velgere er importert. Fant {self.total} feil:"]
        lines += [f"  {p}" for p in problems]
        if self.total > len(problems):
            lines.append(f"  … og {self.total - len(problems)} feil til.")
        super().__init__("\n".join(lines))


@dataclass(slots=True)
class CheckedFile:
    """What the validating pass learnt about a file that has no problems."""

    rows: int
    delimiter: str
    sha256: str
    kommuner: dict[str, str] = field(default_factory=dict)  # kommune -> kommunenavn
    kretser: dict[tuple[str, str], str] = field(default_factory=dict)  # (kommune, krets) -> navn
    # kommune -> own station required, when the file has the eget_valglokale column
    rules: dict[str, bool] = field(default_factory=dict)


# -- reading ------------------------------------------------------------------------------------

class _NotUtf8(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _lines(raw: BinaryIO, digest: Any) -> Iterator[str]:
    """Decode the file line by line (so a bad byte is reported with its line), minus a BOM."""
    for number, data in enumerate(raw, 1):
        digest.update(data)
        if number == 1 and data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8):]
        try:
            yield data.decode("utf-8")
        except UnicodeDecodeError:
            raise _NotUtf8(number) from None


def _records(raw: BinaryIO, digest: Any) -> tuple[str, Iterator[tuple[int, list[str]]]]:
    """The delimiter (``;`` or ``,``, whichever the header uses more) and the records.

    The records are the header (line 1) and then each non-blank record with the line
    it starts on.
    """
    lines = _lines(raw, digest)
    first = next(lines, None)
    if first is None:
        raise RegisterImportError([ImportProblem(None, None, "Filen er tom.")])
    delimiter = ";" if first.count(";") >= first.count(",") else ","

    def chained() -> Iterator[str]:
        yield first
        yield from lines

    def records() -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(chained(), delimiter=delimiter, strict=True)
        start = 1
        try:
            for record in reader:
                if any(value.strip() for value in record):
                    yield start, record
                start = reader.line_num + 1
        except csv.Error as exc:
            raise RegisterImportError([ImportProblem(
                start, None, f"filen kan ikke leses som CSV ({exc})")]) from None

    return delimiter, records()


def _header(record: list[str]) -> tuple[list[int], list[ImportProblem]]:
    """Where each of COLUMNS sits in the file, or the problems with the header."""
    names = [unicodedata.normalize("NFC", n).strip().lower() for n in record]
    problems = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(ImportProblem(1, name, "kolonnen står flere ganger i overskriften"))
        elif name not in COLUMNS and name != RULE_COLUMN:
            problems.append(ImportProblem(1, name or "(tomt)", "ukjent kolonne"))
        seen.add(name)
    missing = [c for c in COLUMNS if c not in seen]
    if missing:
        problems.append(ImportProblem(
            1, None, "mangler kolonnene " + ", ".join(f"«{c}»" for c in missing)
            + " (overskriftsraden må ha: " + ", ".join(COLUMNS) + ")"))
    if problems:
        return [], problems
    positions = [names.index(c) for c in COLUMNS]
    return positions + ([names.index(RULE_COLUMN)] if RULE_COLUMN in names else []), problems


# -- one row --------------------------------------------------------------------------------------

def _parse_row(
    line: int, record: list[str], positions: list[int], width: int, election_year: int,
    problems: list[ImportProblem],
) -> tuple[Voter, str, str, bool | None] | None:
    """The voter on one line, its place names and its kommune's rule (None: the file has
    no eget_valglokale column), or None after adding its problems."""
    if len(record) != width:
        problems.append(ImportProblem(
            line, None, f"har {len(record)} felt, men overskriften har {width}"))
        return None
    values: dict[str, str] = {}
    before = len(problems)
    # One search of the whole record; the fields are searched one by one only when it finds
    # a control character somewhere (nearly never).
    controls = _CONTROL.search("".join(record)) is not None
    for name, pos in zip(COLUMNS, positions):
        value = _nfc(record[pos].strip())
        if not value:
            if name not in OPTIONAL:
                problems.append(ImportProblem(line, name, "mangler verdi"))
        elif len(value) > MAX_LENGTHS[name]:
            problems.append(ImportProblem(
                line, name, f"er for langt ({len(value)} tegn; høyst {MAX_LENGTHS[name]})"))
        elif controls and _CONTROL.search(value):
            problems.append(ImportProblem(line, name, "inneholder kontrolltegn"))
        else:
            values[name] = value
    known = values.keys()

    mnr = ""
    if "manntallsnummer" in known:
        try:
            mnr = manntallsnummer.parse(values["manntallsnummer"], election_year=election_year).digits
        except manntallsnummer.InvalidManntallsnummer as exc:
            if exc.problem is manntallsnummer.Problem.OTHER_ELECTION:
                found = manntallsnummer.parse(values["manntallsnummer"]).year_digit
                message = (f"valgkort fra et annet valg (valgårssifferet er {found}, "
                           f"men valget i {election_year} har "
                           f"{manntallsnummer.year_digit(election_year)})")
            else:
                message = _MNR_MESSAGES[exc.problem]
            problems.append(ImportProblem(line, "manntallsnummer", message))

    fnr, born_per_fnr = "", None
    if "fodselsnummer" in known:
        try:
            fnr, born_per_fnr = _fnr_and_birth(values["fodselsnummer"])
        except InvalidComponent:
            problems.append(ImportProblem(line, "fodselsnummer", _fnr_component_message(
                values["fodselsnummer"])))
        except (InvalidLength, InvalidFormat, InvalidChecksum) as exc:
            problems.append(ImportProblem(line, "fodselsnummer", _FNR_MESSAGES[type(exc)]))

    born: date | None = None
    if "fodselsdato" in known:
        text = values["fodselsdato"]
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError(text)
            born = date.fromisoformat(text)
        except ValueError:
            problems.append(ImportProblem(
                line, "fodselsdato", f"ugyldig dato «{text}» (skriv ÅÅÅÅ-MM-DD)"))
        else:
            if born_per_fnr is not None and born != born_per_fnr:
                problems.append(ImportProblem(
                    line, "fodselsdato",
                    f"stemmer ikke med fødselsnummeret, som gir {born_per_fnr.isoformat()}"))

    for name, what in (("postnummer", "postnummeret"), ("kommune", "kommunenummeret")):
        if name in known and not _FOUR_DIGITS.fullmatch(values[name]):
            problems.append(ImportProblem(line, name, f"{what} må ha 4 sifre"))

    sami = False
    if "same" in known:
        flag = values["same"].lower()
        if flag in _TRUE:
            sami = True
        elif flag not in _FALSE:
            problems.append(ImportProblem(
                line, "same", f"«{values['same']}» må være ja eller nei (også godtatt: true/false/1/0)"))

    rule: bool | None = None
    if len(positions) > len(COLUMNS):  # the optional eget_valglokale column
        flag = unicodedata.normalize("NFC", record[positions[len(COLUMNS)]].strip())
        if flag.lower() in _TRUE:
            rule = True
        elif flag.lower() in _FALSE:
            rule = False
        else:
            problems.append(ImportProblem(
                line, RULE_COLUMN, (f"«{flag}» må være ja eller nei" if flag and not _CONTROL.search(flag)
                                    else "må være ja eller nei") + " (også godtatt: true/false/1/0)"))

    if len(problems) > before:
        return None
    assert born is not None
    voter = Voter(
        manntallsnummer=mnr, fodselsnummer=fnr, fornavn=values["fornavn"],
        etternavn=values["etternavn"], fodselsdato=born, adresse=values.get("adresse", ""),
        postnummer=values.get("postnummer", ""), poststed=values.get("poststed", ""),
        kommune=values["kommune"], krets=values["krets"], sami=sami,
    )
    return voter, values["kommunenavn"], values["kretsnavn"], rule


def _nfc(text: str) -> str:
    """``text`` in Unicode's composed form (NFC); ASCII already is, and is asked in O(1)."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _fnr_and_birth(text: str) -> tuple[str, date]:
    """``stdnum``'s validate and get_birth_date in one go: the plain 11-digit form (nearly
    every row) is checked with stdnum's own check digits and birth date once, instead of
    compacting and decoding the number three times; any other form goes the long way."""
    if len(text) == 11 and text.isascii() and text.isdigit():
        if text[9] != stdnum_fnr.calc_check_digit1(text) or text[10] != stdnum_fnr.calc_check_digit2(text):
            raise InvalidChecksum()
        born = stdnum_fnr.get_birth_date(text)
        if born > date.today():
            raise InvalidComponent("The birth date information is valid, but this person has not been born yet.")
        return text, born
    number = stdnum_fnr.validate(text)
    return number, stdnum_fnr.get_birth_date(number)


def _fnr_component_message(text: str) -> str:
    """Why stdnum found no usable birth date in an otherwise well-formed fødselsnummer."""
    try:
        born = stdnum_fnr.get_birth_date(text)
    except InvalidComponent:
        return _FNR_MESSAGES[InvalidComponent]
    if born > date.today():
        return "ugyldig fødselsnummer (fødselsdatoen ligger i fremtiden)"
    return _FNR_MESSAGES[InvalidComponent]


# -- the whole file ---------------------------------------------------------------------------------

class _Problems:
    """The first MAX_REPORTED problems by line, and how many there were in all."""

    def __init__(self) -> None:
        self.kept: list[ImportProblem] = []
        self.total = 0

    def add(self, found: Iterable[ImportProblem]) -> None:
        for p in found:
            self.total += 1
            self.kept.append(p)
            if len(self.kept) >= 4 * MAX_REPORTED:
                self._trim()

    def _trim(self) -> None:
        self.kept.sort(key=lambda p: (p.line or 0, _field_order(p.field)))
        del self.kept[MAX_REPORTED:]

    def raise_if_any(self) -> None:
        if self.total:
            self._trim()
            raise RegisterImportError(self.kept, self.total)


def _field_order(name: str | None) -> int:
    return COLUMNS.index(name) if name in COLUMNS else -1


def _duplicates(values: array[int], lines: array[int], what: str, field_name: str) -> Iterator[ImportProblem]:
    """A problem for every line that repeats a number from an earlier line (in line order)."""
    ordered = sorted(values)
    repeated = {a for a, b in zip(ordered, ordered[1:]) if a == b}
    del ordered
    if not repeated:
        return
    first: dict[int, int] = {}
    for value, line in zip(values, lines):
        if value not in repeated:
            continue
        if value in first:
            yield ImportProblem(line, field_name, f"{what} står også på linje {first[value]}")
        else:
            first[value] = line


Track = Callable[[Iterable[Any], int, str], Iterable[Any]]


def _untracked(items: Iterable[Any], total: int, what: str) -> Iterable[Any]:
    return items


def count_rows(path: str | Path) -> int:
    """Rows after the header, counted fast (newlines in binary chunks) for a progress bar."""
    lines, last = 0, b"\n"
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return max(0, lines + (last != b"\n") - 1)


def validate_csv(path: str | Path, *, election_year: int, track: Track = _untracked) -> CheckedFile:
    """Check every row of a register file; raise RegisterImportError listing the problems.

    ``track`` wraps the rows for a progress bar (``rich.progress.track``'s shape)."""
    problems = _Problems()
    digest = hashlib.sha256()
    mnrs, mnr_lines, fnrs, fnr_lines = array("Q"), array("I"), array("Q"), array("I")
    kommuner: dict[str, tuple[str, int]] = {}
    kretser: dict[tuple[str, str], tuple[str, int]] = {}
    rules: dict[str, tuple[bool, int]] = {}
    count = 0
    with open(path, "rb") as raw:
        try:
            delimiter, rows = _records(raw, digest)
            _, header = next(rows, (1, []))
            if not header:
                raise RegisterImportError([ImportProblem(None, None, "Filen er tom.")])
            positions, header_problems = _header(header)
            if header_problems:
                raise RegisterImportError(header_problems)
            width = len(header)
            for line, record in track(rows, count_rows(path), "Kontrollerer"):
                found: list[ImportProblem] = []
                parsed = _parse_row(line, record, positions, width, election_year, found)
                if parsed is None:
                    problems.add(found)
                    # Numbers that are valid still take part in the duplicate check.
                    _remember_numbers(record, positions, width, line, found,
                                      mnrs, mnr_lines, fnrs, fnr_lines, election_year)
                    continue
                voter, kommunenavn, kretsnavn, rule = parsed
                count += 1
                if rule is not None:
                    problems.add(_rule_problems(line, voter.kommune, rule, rules))
                mnrs.append(int(voter.manntallsnummer))
                mnr_lines.append(line)
                fnrs.append(int(voter.fodselsnummer))
                fnr_lines.append(line)
                problems.add(_place_problems(line, voter, kommunenavn, kretsnavn, kommuner, kretser))
        except _NotUtf8 as exc:
            raise RegisterImportError([ImportProblem(
                exc.line, None, "filen er ikke UTF-8 (lagre den som UTF-8 og prøv igjen)")]) from None
    problems.add(_duplicates(mnrs, mnr_lines, "manntallsnummeret", "manntallsnummer"))
    problems.add(_duplicates(fnrs, fnr_lines, "fødselsnummeret", "fodselsnummer"))
    problems.raise_if_any()
    if count == 0:
        raise RegisterImportError([ImportProblem(None, None, "Filen inneholder ingen velgere.")])
    return CheckedFile(
        rows=count, delimiter=delimiter, sha256=digest.hexdigest(),
        kommuner={k: navn for k, (navn, _) in kommuner.items()},
        kretser={k: navn for k, (navn, _) in kretser.items()},
        rules={k: rule for k, (rule, _) in rules.items()},
    )


def _remember_numbers(
    record: list[str], positions: list[int], width: int, line: int, found: list[ImportProblem],
    mnrs: array[int], mnr_lines: array[int], fnrs: array[int], fnr_lines: array[int], election_year: int,
) -> None:
    """Keep a rejected row's valid numbers so that their duplicates are still found."""
    if len(record) != width:
        return
    bad = {p.field for p in found}
    if "manntallsnummer" not in bad:
        mnr = manntallsnummer.parse(record[positions[0]], election_year=election_year)
        mnrs.append(int(mnr.digits))
        mnr_lines.append(line)
    if "fodselsnummer" not in bad:
        fnrs.append(int(stdnum_fnr.compact(record[positions[1]])))
        fnr_lines.append(line)


def _place_problems(
    line: int, voter: Voter, kommunenavn: str, kretsnavn: str,
    kommuner: dict[str, tuple[str, int]], kretser: dict[tuple[str, str], tuple[str, int]],
) -> list[ImportProblem]:
    """A kommune or krets must have the same name on every line."""
    found = []
    navn, first = kommuner.setdefault(voter.kommune, (kommunenavn, line))
    if navn != kommunenavn:
        found.append(ImportProblem(line, "kommunenavn",
                                   f"kommune {voter.kommune} heter «{navn}» på linje {first}"))
    navn, first = kretser.setdefault((voter.kommune, voter.krets), (kretsnavn, line))
    if navn != kretsnavn:
        found.append(ImportProblem(line, "kretsnavn",
                                   f"krets {voter.krets} heter «{navn}» på linje {first}"))
    return found


def _rule_problems(line: int, kommune: str, rule: bool,
                   rules: dict[str, tuple[bool, int]]) -> list[ImportProblem]:
    """A kommune's eget_valglokale must be the same on every line."""
    first_rule, first = rules.setdefault(kommune, (rule, line))
    if first_rule == rule:
        return []
    return [ImportProblem(line, RULE_COLUMN, f"kommune {kommune} har «{'ja' if first_rule else 'nei'}» "
                                             f"på linje {first}")]


def _checked_voters(path: str | Path, checked: CheckedFile, election_year: int) -> Iterator[Voter]:
    """The voters of a validated file, read again; raises if the file changed since."""
    digest = hashlib.sha256()
    changed = RegisterImportError([ImportProblem(
        None, None, "Filen ble endret under importen. Kjør importen på nytt.")])
    with open(path, "rb") as raw:
        try:
            _, rows = _records(raw, digest)
            _, header = next(rows)
            positions, header_problems = _header(header)
            if header_problems:
                raise changed
            width = len(header)
            for _, record in rows:
                # Every row passed _parse_row in the first pass, and the digest below
                # proves the file is the same: build the voter without checking the
                # numbers' check digits again (the first pass's cost, not repeated).
                if len(record) != width:
                    raise changed
                yield _trusted_voter(record, positions)
        except (_NotUtf8, StopIteration):
            raise changed from None
    if digest.hexdigest() != checked.sha256:
        raise changed


def _compact_fnr(text: str) -> str:
    """The 11 digits of a validated fødselsnummer (stdnum's compact only for other forms)."""
    return text if len(text) == 11 and text.isascii() and text.isdigit() else stdnum_fnr.compact(text)


def _trusted_voter(record: list[str], positions: list[int]) -> Voter:
    """A voter from a row the first pass has validated (see ``_checked_voters``)."""
    values = {name: _nfc(record[pos].strip()) for name, pos in zip(COLUMNS, positions)}
    return Voter(
        manntallsnummer=values["manntallsnummer"].replace(" ", ""),
        fodselsnummer=_compact_fnr(values["fodselsnummer"]), fornavn=values["fornavn"],
        etternavn=values["etternavn"], fodselsdato=date.fromisoformat(values["fodselsdato"]),
        adresse=values.get("adresse", ""), postnummer=values.get("postnummer", ""),
        poststed=values.get("poststed", ""), kommune=values["kommune"], krets=values["krets"],
        sami=values.get("same", "").lower() in _TRUE,
    )


def _integrity_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sqlite3.IntegrityError]
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        pass
    else:
        errors.append(psycopg.IntegrityError)
    return tuple(errors)


def _conflicts(store: SqlStore, path: str | Path, election_year: int) -> _Problems:
    """Lines whose manntallsnummer or fødselsnummer the register already holds."""
    problems = _Problems()
    chunk: list[tuple[int, Voter]] = []

    def check() -> None:
        for column, what in (("manntallsnummer", "manntallsnummeret"),
                             ("fodselsnummer", "fødselsnummeret")):
            present = store.already_registered(column, [getattr(v, column) for _, v in chunk])
            problems.add(ImportProblem(line, column, f"{what} finnes allerede i registeret")
                         for line, v in chunk if getattr(v, column) in present)
        chunk.clear()

    with open(path, "rb") as raw:
        _, rows = _records(raw, hashlib.sha256())
        _, header = next(rows)
        positions, _ = _header(header)
        for line, record in rows:
            parsed = _parse_row(line, record, positions, len(header), election_year, [])
            if parsed is not None:
                chunk.append((line, parsed[0]))
            if len(chunk) >= 500:
                check()
        if chunk:
            check()
    return problems


def import_csv(store: SqlStore, path: str | Path, *, track: Track = _untracked) -> int:
    """Validate a register file and import all of its voters, or none; returns the count.

    Raises RegisterImportError (a ValueError) with every problem found, when no
    election is configured, and when the register already holds one of the voters.
    """
    election = store.election()
    if election is None:
        raise RegisterImportError([ImportProblem(
            None, None, "Registeret har ikke noe valg: kjør først «valgkiosk register init».")])
    checked = validate_csv(path, election_year=election.year, track=track)
    rule = {k.kommune: k.own_station_required for k in store.kommuner()}
    rule.update(checked.rules)  # the file's eget_valglokale, where it has the column
    kommuner = [Kommune(k, navn, rule.get(k, False)) for k, navn in checked.kommuner.items()]
    kretser = [Krets(k, s, navn) for (k, s), navn in checked.kretser.items()]
    try:
        return store.import_voters(track(_checked_voters(path, checked, election.year), checked.rows,
                                         "Importerer"), kommuner=kommuner, kretser=kretser)
    except _integrity_errors() as exc:
        conflicts = _conflicts(store, path, election.year)
        if conflicts.total:
            conflicts.raise_if_any()
        raise RegisterImportError([ImportProblem(
            None, None, f"Databasen avviste importen ({exc}).")]) from exc


# -- writing ----------------------------------------------------------------------------------------

def write_csv(
    target: str | Path | TextIO,
    voters: Iterable[Voter],
    *,
    kommuner: Iterable[Kommune],
    kretser: Iterable[Krets],
    delimiter: str = ";",
    rule_column: bool = False,
) -> int:
    """Write voters in the import format (UTF-8, header row); returns how many were written.

    ``rule_column`` adds ``eget_valglokale`` with each kommune's rule."""
    kommuner = list(kommuner)
    kommunenavn = {k.kommune: k.navn for k in kommuner}
    rules = {k.kommune: k.own_station_required for k in kommuner} if rule_column else None
    kretsnavn = {(s.kommune, s.krets): s.navn for s in kretser}
    if isinstance(target, (str, Path)):
        with open(target, "w", encoding="utf-8", newline="") as out:
            return _write(out, voters, kommunenavn, kretsnavn, delimiter, rules)
    return _write(target, voters, kommunenavn, kretsnavn, delimiter, rules)


def _write(out: TextIO, voters: Iterable[Voter], kommunenavn: dict[str, str],
           kretsnavn: dict[tuple[str, str], str], delimiter: str, rules: dict[str, bool] | None) -> int:
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(COLUMNS if rules is None else (*COLUMNS, RULE_COLUMN))
    count = 0
    for v in voters:
        row: tuple[str, ...] = (
            v.manntallsnummer, v.fodselsnummer, v.fornavn, v.etternavn, v.fodselsdato.isoformat(),
            v.adresse, v.postnummer, v.poststed, v.kommune, kommunenavn[v.kommune], v.krets,
            kretsnavn[(v.kommune, v.krets)], "ja" if v.sami else "nei",
        )
        writer.writerow(row if rules is None else (*row, "ja" if rules[v.kommune] else "nei"))
        count += 1
    return count
