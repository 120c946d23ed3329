"""Importing the register from CSV: every row validated, all voters or none."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from stdnum.no import fodselsnummer as stdnum_fnr

from valgkiosk.core.manntallsnummer import make
from valgkiosk.register import synthetic
from valgkiosk.register.importer import (
    COLUMNS,
    MAX_REPORTED,
    ImportProblem,
    RegisterImportError,
    import_csv,
    validate_csv,
    write_csv,
)
from valgkiosk.register.model import Election, Kommune, Krets
from valgkiosk.register.store import SqlStore

ELECTION = Election("stortingsvalg", 2025, date(2025, 9, 8))
Row = dict[str, str]


def generated(n: int = 12, seed: int = 3) -> tuple[synthetic.SyntheticRegister, list[Row]]:
    """A synthetic register and its rows as the CSV file holds them."""
    register = synthetic.generate(voters=n, seed=seed, kommuner=2, kretser_per_kommune=2,
                                  election_date=ELECTION.date)
    out = io.StringIO()
    write_csv(out, register.voters(), kommuner=register.kommuner, kretser=register.kretser)
    return register, list(csv.DictReader(io.StringIO(out.getvalue()), delimiter=";"))


def good_rows(n: int = 12, seed: int = 3) -> list[Row]:
    return generated(n, seed)[1]


def save(path: Path, rows: list[Row], *, delimiter: str = ";", columns: tuple[str, ...] = COLUMNS,
         bom: bool = False, newline: str = "\n") -> Path:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))
    return path


def problems_of(path: Path, year: int = 2025) -> list[ImportProblem]:
    with pytest.raises(RegisterImportError) as caught:
        validate_csv(path, election_year=year)
    return caught.value.problems


# -- good files ------------------------------------------------------------------------------------

def test_good_file_imports_every_voter(store: SqlStore, tmp_path: Path) -> None:
    store.set_election(ELECTION)
    register, _ = generated(40)
    path = tmp_path / "manntall.csv"
    assert write_csv(path, register.voters(), kommuner=register.kommuner,
                     kretser=register.kretser) == 40
    assert import_csv(store, path) == 40
    assert store.voter_count() == 40
    assert store.kommuner() == sorted(register.kommuner, key=lambda k: k.kommune)
    assert store.kretser() == sorted(register.kretser, key=lambda s: (s.kommune, s.krets))
    names = {(s.kommune, s.krets): s.navn for s in register.kretser}
    for voter in register.voters():
        found = store.voter_by_fodselsnummer(voter.fodselsnummer)
        assert found == (voter, names[(voter.kommune, voter.krets)])


@pytest.mark.parametrize("delimiter", [";", ","])
def test_semicolon_and_comma_files(store: SqlStore, tmp_path: Path, delimiter: str) -> None:
    store.set_election(ELECTION)
    rows = good_rows(8)
    rows[2]["adresse"] = "Testgata 3, 2. etasje; bak"  # the delimiter inside a quoted field
    path = save(tmp_path / "m.csv", rows, delimiter=delimiter)
    assert validate_csv(path, election_year=2025).delimiter == delimiter
    assert import_csv(store, path) == 8
    found = store.voter_by_fodselsnummer(rows[2]["fodselsnummer"])
    assert found is not None and found[0].adresse == "Testgata 3, 2. etasje; bak"


def test_byte_order_mark_and_crlf_are_tolerated(store: SqlStore, tmp_path: Path) -> None:
    store.set_election(ELECTION)
    rows = good_rows(5)
    path = save(tmp_path / "excel.csv", rows, bom=True, newline="\r\n")
    assert import_csv(store, path) == 5
    found = store.voter_by_fodselsnummer(rows[0]["fodselsnummer"])
    assert found is not None and found[0].manntallsnummer == rows[0]["manntallsnummer"]


def test_hand_written_file(store: SqlStore, tmp_path: Path) -> None:
    """The documented format, written by hand; accepted spellings of «same»."""
    store.set_election(ELECTION)
    people = [("Kari", date(1980, 4, 1), "ja"), ("Ola", date(1975, 12, 24), "NEI"),
              ("Åse", date(1990, 6, 15), "true"), ("Per", date(1960, 1, 31), "0"),
              ("Liv", date(2001, 2, 3), "1"), ("Jon", date(1930, 7, 8), "False")]
    lines = [",".join(COLUMNS)]
    for i, (name, born, same) in enumerate(people):
        mnr = make(5000 + i, 2025).display()  # EVA's display form, with a space
        lines.append(f"{mnr},{fnr(born, 100 + i)},{name},Prøvesen,{born.isoformat()},"
                     f"\"Øvingsveien {i}, oppgang B\",0150,ØVINGSBY,0301,Øvingsby,0101,Prøveskolen,{same}")
    path = tmp_path / "hand.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert import_csv(store, path) == 6
    for i, (name, born, same) in enumerate(people):
        found = store.voter_by_fodselsnummer(fnr(born, 100 + i))
        assert found is not None
        voter, krets_navn = found
        assert voter.manntallsnummer == make(5000 + i, 2025).digits
        assert (voter.fornavn, voter.fodselsdato, voter.kommune, krets_navn) == (
            name, born, "0301", "Prøveskolen")
        assert voter.sami is (same.lower() in ("ja", "true", "1"))


def test_optional_address_may_be_empty_and_blank_lines_are_skipped(tmp_path: Path) -> None:
    rows = good_rows(4)
    rows[1].update(adresse="", postnummer="", poststed="")
    path = save(tmp_path / "m.csv", rows)
    path.write_text(path.read_text(encoding="utf-8") + "\n;;;;;;;;;;;;\n\n", encoding="utf-8")
    assert validate_csv(path, election_year=2025).rows == 4


def test_municipality_rule_survives_an_import(store: SqlStore, tmp_path: Path) -> None:
    store.set_election(ELECTION)
    register, rows = generated(6)
    strict = register.kommuner[0]
    store.save_places([Kommune(strict.kommune, "Gammelt navn", own_station_required=True)], [])
    import_csv(store, save(tmp_path / "m.csv", rows))
    saved = {k.kommune: k for k in store.kommuner()}
    assert saved[strict.kommune] == Kommune(strict.kommune, strict.navn, own_station_required=True)


# -- bad rows -----------------------------------------------------------------------------------------

BAD = 5  # index of the bad row: line 7 (line 1 is the header)
LINE = BAD + 2


def other_valid_fnr(row: Row) -> str:
    born = date.fromisoformat(row["fodselsdato"])
    return next(n for i in range(0, 400, 7) if (n := fnr(born, i)) != row["fodselsnummer"])


def fnr(born: date, start: int) -> str:
    """The first valid fødselsnummer for ``born`` from individual number ``start`` on."""
    for individual in [*range(start, 1000), *range(start)]:
        body = f"{born:%d%m%y}{individual:03d}"
        k1 = stdnum_fnr.calc_check_digit1(body)
        number = body + k1 + stdnum_fnr.calc_check_digit2(body + k1)
        if stdnum_fnr.is_valid(number) and stdnum_fnr.get_birth_date(number) == born:
            return number
    raise AssertionError("no number found")


def with_check_digits(ddmmyy: str, start: int = 100) -> str:
    """A number with correct check digits after ``ddmmyy``, whatever the date means."""
    for individual in range(start, start + 50):
        body = f"{ddmmyy}{individual:03d}"
        k1 = stdnum_fnr.calc_check_digit1(body)
        k2 = stdnum_fnr.calc_check_digit2(body + k1)
        if len(k1) == len(k2) == 1:
            return body + k1 + k2
    raise AssertionError("no number found")


def wrong_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


CASES: list[tuple[str, object, str]] = [
    ("manntallsnummer", "12345", "ugyldig manntallsnummer (må ha 12 sifre)"),
    ("manntallsnummer", "00000123458X", "ugyldig manntallsnummer (bare sifre er tillatt)"),
    ("manntallsnummer", lambda r: wrong_check_digit(r["manntallsnummer"]), "ugyldig manntallsnummer (kontrollsifferet stemmer ikke)"),
    ("manntallsnummer", lambda r: make(int(r["manntallsnummer"][:10]), 2023).digits,
     "valgkort fra et annet valg (valgårssifferet er 7, men valget i 2025 har 9)"),
    ("fodselsnummer", lambda r: wrong_check_digit(r["fodselsnummer"]), "ugyldig fødselsnummer (kontrollsifferet stemmer ikke)"),
    ("fodselsnummer", "1234567890", "ugyldig fødselsnummer (må ha 11 sifre)"),
    ("fodselsnummer", "1234567890A", "ugyldig fødselsnummer (bare sifre er tillatt)"),
    ("fodselsnummer", lambda r: with_check_digits("321380"),
     "ugyldig fødselsnummer (fødselsdatoen i nummeret finnes ikke)"),
    ("fodselsnummer", lambda r: with_check_digits("010130", start=500),
     "ugyldig fødselsnummer (fødselsdatoen ligger i fremtiden)"),
    ("fodselsdato", "01.04.1980", "ugyldig dato «01.04.1980» (skriv ÅÅÅÅ-MM-DD)"),
    ("fodselsdato", "1980-02-30", "ugyldig dato «1980-02-30»"),
    ("fodselsdato", lambda r: "1970-01-01" if r["fodselsdato"] != "1970-01-01" else "1971-01-01",
     "stemmer ikke med fødselsnummeret, som gir"),
    ("postnummer", "123", "postnummeret må ha 4 sifre"),
    ("postnummer", "12a4", "postnummeret må ha 4 sifre"),
    ("kommune", "301", "kommunenummeret må ha 4 sifre"),
    ("same", "kanskje", "«kanskje» må være ja eller nei"),
    ("fornavn", "", "mangler verdi"),
    ("etternavn", "   ", "mangler verdi"),
    ("krets", "", "mangler verdi"),
    ("fornavn", "K" * 101, "er for langt (101 tegn; høyst 100)"),
    ("adresse", "Testgata 1\nTestgata 2", "inneholder kontrolltegn"),
    ("kommunenavn", "Et annet navn", "heter «Øvingskommune"),
    ("kretsnavn", "Et annet navn", "heter «"),
]


@pytest.mark.parametrize("field,bad,message", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bad_row_is_reported_with_line_and_field(
        tmp_path: Path, field: str, bad: object, message: str) -> None:
    rows = good_rows(12)
    if field in ("kommunenavn", "kretsnavn"):
        # Make sure an earlier line names the same place, so the names disagree.
        rows[0].update(kommune=rows[BAD]["kommune"], kommunenavn=rows[BAD]["kommunenavn"],
                       krets=rows[BAD]["krets"], kretsnavn=rows[BAD]["kretsnavn"])
    rows[BAD][field] = bad(rows[BAD]) if callable(bad) else bad  # type: ignore[operator]
    problems = problems_of(save(tmp_path / "m.csv", rows))
    assert len(problems) == 1, problems
    assert (problems[0].line, problems[0].field) == (LINE, field)
    assert message in problems[0].message
    assert str(problems[0]).startswith(f"Linje {LINE}, felt «{field}»: ")


def test_message_names_line_field_and_problem(tmp_path: Path) -> None:
    rows = good_rows(8)
    rows[BAD]["fodselsnummer"] = wrong_check_digit(rows[BAD]["fodselsnummer"])
    with pytest.raises(RegisterImportError) as caught:
        validate_csv(save(tmp_path / "m.csv", rows), election_year=2025)
    assert str(caught.value) == (
        "Ingen velgere er importert. Fant 1 feil:\n"
        f"  Linje {LINE}, felt «fodselsnummer»: ugyldig fødselsnummer (kontrollsifferet stemmer ikke)")
    assert isinstance(caught.value, ValueError)


def test_all_problems_are_collected_in_line_order(tmp_path: Path) -> None:
    rows = good_rows(12)
    rows[9]["postnummer"] = "1"
    rows[2]["same"] = "x"
    rows[2]["fornavn"] = ""
    rows[4]["manntallsnummer"] = rows[1]["manntallsnummer"]
    problems = problems_of(save(tmp_path / "m.csv", rows))
    assert [(p.line, p.field) for p in problems] == [
        (4, "fornavn"), (4, "same"), (6, "manntallsnummer"), (11, "postnummer")]
    assert problems[2].message == "manntallsnummeret står også på linje 3"


def test_problem_list_is_capped(tmp_path: Path) -> None:
    rows = good_rows(MAX_REPORTED + 20)
    for row in rows[10:]:
        row["postnummer"] = "x"
    with pytest.raises(RegisterImportError) as caught:
        validate_csv(save(tmp_path / "m.csv", rows), election_year=2025)
    error = caught.value
    assert len(error.problems) == MAX_REPORTED and error.total == MAX_REPORTED + 10
    assert [p.line for p in error.problems] == list(range(12, 12 + MAX_REPORTED))
    assert str(error).endswith("… og 10 feil til.")


def test_duplicates_within_the_file(tmp_path: Path) -> None:
    rows = good_rows(10)
    rows[7]["fodselsnummer"] = rows[3]["fodselsnummer"]
    rows[7]["fodselsdato"] = rows[3]["fodselsdato"]
    rows[8]["manntallsnummer"] = rows[0]["manntallsnummer"]
    rows[9]["manntallsnummer"] = rows[0]["manntallsnummer"]
    rows[9]["postnummer"] = "x"  # a row with another problem still counts as a duplicate
    problems = problems_of(save(tmp_path / "m.csv", rows))
    assert [str(p) for p in problems] == [
        "Linje 9, felt «fodselsnummer»: fødselsnummeret står også på linje 5",
        "Linje 10, felt «manntallsnummer»: manntallsnummeret står også på linje 2",
        "Linje 11, felt «manntallsnummer»: manntallsnummeret står også på linje 2",
        "Linje 11, felt «postnummer»: postnummeret må ha 4 sifre",
    ]


def test_line_numbers_count_blank_lines_and_quoted_line_breaks(tmp_path: Path) -> None:
    rows = good_rows(6)
    path = save(tmp_path / "m.csv", rows[:2])
    rows[3]["adresse"] = "Testgata 1\nTestgata 2"  # line 5-6
    rows[5]["postnummer"] = "x"
    text = path.read_text(encoding="utf-8") + "\n"  # blank line 4
    extra = io.StringIO()
    writer = csv.writer(extra, delimiter=";", lineterminator="\n")
    for row in rows[2:]:
        writer.writerow([row[c] for c in COLUMNS])
    path.write_text(text + extra.getvalue(), encoding="utf-8")
    # lines: 1 header, 2-3 rows 0-1, 4 blank, 5 row 2, 6-7 row 3, 8 row 4, 9 row 5
    problems = problems_of(path)
    assert [(p.line, p.field) for p in problems] == [(6, "adresse"), (9, "postnummer")]


# -- bad files ----------------------------------------------------------------------------------------

def test_missing_and_unknown_columns(tmp_path: Path) -> None:
    columns = tuple(c for c in COLUMNS if c not in ("same", "krets")) + ("telefon",)
    problems = problems_of(save(tmp_path / "m.csv", good_rows(3), columns=columns))
    assert [str(p) for p in problems][0] == "Linje 1, felt «telefon»: ukjent kolonne"
    assert problems[1].line == 1 and "mangler kolonnene «krets», «same»" in problems[1].message


def test_repeated_column(tmp_path: Path) -> None:
    problems = problems_of(save(tmp_path / "m.csv", good_rows(3), columns=COLUMNS + ("fornavn",)))
    assert [str(p) for p in problems] == [
        "Linje 1, felt «fornavn»: kolonnen står flere ganger i overskriften"]


def test_columns_may_come_in_any_order_and_case(store: SqlStore, tmp_path: Path) -> None:
    store.set_election(ELECTION)
    rows = good_rows(5)
    path = save(tmp_path / "m.csv", rows, columns=tuple(reversed(COLUMNS)))
    path.write_text(path.read_text(encoding="utf-8").replace("fornavn", " Fornavn "), encoding="utf-8")
    assert import_csv(store, path) == 5


def test_row_with_wrong_number_of_fields(tmp_path: Path) -> None:
    path = save(tmp_path / "m.csv", good_rows(4))
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] += ";ekstra"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [str(p) for p in problems_of(path)] == [
        f"Linje 4: har {len(COLUMNS) + 1} felt, men overskriften har {len(COLUMNS)}"]


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = save(tmp_path / "m.csv", good_rows(4))
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(lines[3].split(";")[2], "Bjørn")
    path.write_bytes(b"\n".join(
        line.encode("latin-1" if i == 3 else "utf-8") for i, line in enumerate(lines)))
    problems = problems_of(path)
    assert [(p.line, p.field) for p in problems] == [(4, None)]
    assert "ikke UTF-8" in problems[0].message


@pytest.mark.parametrize("content,message", [
    (b"", "Filen er tom."),
    ((";".join(COLUMNS) + "\n").encode(), "Filen inneholder ingen velgere."),
])
def test_empty_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "m.csv"
    path.write_bytes(content)
    with pytest.raises(RegisterImportError) as caught:
        validate_csv(path, election_year=2025)
    assert str(caught.value) == f"{message} Ingen velgere er importert."


# -- nothing half-imported ------------------------------------------------------------------------------

def test_one_bad_row_among_good_ones_imports_nothing(store: SqlStore, tmp_path: Path) -> None:
    store.set_election(ELECTION)
    rows = good_rows(30)
    rows[-1]["fodselsnummer"] = wrong_check_digit(rows[-1]["fodselsnummer"])
    with pytest.raises(RegisterImportError) as caught:
        import_csv(store, save(tmp_path / "m.csv", rows))
    assert [(p.line, p.field) for p in caught.value.problems] == [(31, "fodselsnummer")]
    assert store.voter_count() == 0
    assert store.kommuner() == [] and store.kretser() == []


def test_import_needs_a_configured_election(store: SqlStore, tmp_path: Path) -> None:
    with pytest.raises(RegisterImportError, match="ikke noe valg"):
        import_csv(store, save(tmp_path / "m.csv", good_rows(3)))
    assert store.voter_count() == 0


def test_valgkort_from_another_election_is_refused_for_the_configured_year(
        store: SqlStore, tmp_path: Path) -> None:
    store.set_election(Election("kommunestyre_og_fylkestingsvalg", 2027, date(2027, 9, 13)))
    rows = good_rows(3)  # made for 2025
    with pytest.raises(RegisterImportError) as caught:
        import_csv(store, save(tmp_path / "m.csv", rows))
    assert caught.value.total == 3
    assert all(p.message.startswith("valgkort fra et annet valg") for p in caught.value.problems)
    assert store.voter_count() == 0


@pytest.mark.parametrize("clash", ["manntallsnummer", "fodselsnummer"])
def test_conflict_with_a_voter_already_in_the_register_imports_nothing(
        store: SqlStore, tmp_path: Path, clash: str) -> None:
    store.set_election(ELECTION)
    first = good_rows(10, seed=1)
    assert import_csv(store, save(tmp_path / "first.csv", first)) == 10
    second = good_rows(10, seed=2)
    second[6][clash] = first[4][clash]
    if clash == "fodselsnummer":
        second[6]["fodselsdato"] = first[4]["fodselsdato"]
    with pytest.raises(RegisterImportError) as caught:
        import_csv(store, save(tmp_path / "second.csv", second))
    what = "manntallsnummeret" if clash == "manntallsnummer" else "fødselsnummeret"
    assert [str(p) for p in caught.value.problems] == [
        f"Linje 8, felt «{clash}»: {what} finnes allerede i registeret"]
    assert store.voter_count() == 10
    assert all(store.voter_by_fodselsnummer(r["fodselsnummer"]) is None
               for r in second if r["fodselsnummer"] != first[4]["fodselsnummer"])


def test_write_csv_refuses_a_voter_whose_station_is_unknown() -> None:
    register = synthetic.generate(voters=3, kommuner=1)
    with pytest.raises(KeyError):
        write_csv(io.StringIO(), register.voters(), kommuner=register.kommuner,
                  kretser=[Krets("9999", "0001", "Annet")])


def test_eget_valglokale_column_sets_each_kommune_rule(store: SqlStore, tmp_path: Path) -> None:
    store.set_election(ELECTION)
    rows = good_rows(20)
    kommuner = sorted({r["kommune"] for r in rows})
    assert len(kommuner) == 2
    strict, relaxed = kommuner
    for r in rows:
        r["eget_valglokale"] = {strict: "ja", relaxed: "Nei"}[r["kommune"]]
    path = save(tmp_path / "rules.csv", rows, columns=(*COLUMNS, "eget_valglokale"))
    assert import_csv(store, path) == 20
    assert {k.kommune: k.own_station_required for k in store.kommuner()} == {strict: True, relaxed: False}


def test_eget_valglokale_changes_a_rule_and_without_the_column_the_rule_is_kept(
    store: SqlStore, tmp_path: Path,
) -> None:
    store.set_election(ELECTION)
    first, second = good_rows(6, seed=5), good_rows(6, seed=6)
    kommune = first[0]["kommune"]
    store.save_places([Kommune(kommune, first[0]["kommunenavn"], own_station_required=False)], [])
    for r in first:
        r["eget_valglokale"] = "ja"
    import_csv(store, save(tmp_path / "a.csv", first, columns=(*COLUMNS, "eget_valglokale")))
    assert {k.kommune: k.own_station_required for k in store.kommuner()}[kommune] is True
    # A later file without the column (new voters of the same kommuner) keeps the rule.
    taken = {r[c] for r in first for c in ("manntallsnummer", "fodselsnummer")}
    second = [r for r in second if not {r["manntallsnummer"], r["fodselsnummer"]} & taken]
    assert second
    import_csv(store, save(tmp_path / "b.csv", second))
    assert {k.kommune: k.own_station_required for k in store.kommuner()}[kommune] is True


def test_eget_valglokale_must_be_ja_or_nei_and_agree_within_a_kommune(tmp_path: Path) -> None:
    rows = good_rows(16)
    kommune = rows[0]["kommune"]
    same = [i for i, r in enumerate(rows) if r["kommune"] == kommune]
    for r in rows:
        r["eget_valglokale"] = "nei"
    rows[same[0]]["eget_valglokale"] = "ja"
    rows[same[1]]["eget_valglokale"] = "kanskje"
    rows[same[2]]["eget_valglokale"] = ""
    found = problems_of(save(tmp_path / "bad.csv", rows, columns=(*COLUMNS, "eget_valglokale")))
    messages = {(p.line, p.field): p.message for p in found}
    assert messages[(same[1] + 2, "eget_valglokale")].startswith("«kanskje» må være ja eller nei")
    assert messages[(same[2] + 2, "eget_valglokale")].startswith("må være ja eller nei")
    later = [i for i in same[3:]]
    assert later, "the kommune needs four rows in this file"
    assert messages[(later[0] + 2, "eget_valglokale")] == f"kommune {kommune} har «ja» på linje {same[0] + 2}"


def test_write_csv_can_write_the_rule_column(store: SqlStore, tmp_path: Path) -> None:
    store.set_election(ELECTION)
    register = synthetic.generate(voters=8, seed=4, kommuner=2, kretser_per_kommune=2,
                                  election_date=ELECTION.date, own_station_required=True)
    path = tmp_path / "out.csv"
    write_csv(path, register.voters(), kommuner=register.kommuner, kretser=register.kretser, rule_column=True)
    assert path.read_text(encoding="utf-8").splitlines()[0].endswith(";eget_valglokale")
    import_csv(store, path)
    assert all(k.own_station_required for k in store.kommuner())
