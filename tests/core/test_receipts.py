"""Receipt layouts: pure, at both widths, with long values that wrap and characters
outside CP865."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from valgkiosk.core.manntallsnummer import parse
from valgkiosk.core.receipts import (
    REPLACEMENT,
    COLUMNS,
    ClosingReport,
    FlaggedVote,
    LogEntry,
    LogPrintout,
    ManualValgkort,
    Outage,
    SelftestLine,
    SelftestSummary,
    StationInfo,
    StationReport,
    TableCount,
    TestPage,
    ValgkortReason,
    closing_report,
    format_duration,
    log_printout,
    manual_valgkort,
    printable,
    receipt_text,
    selftest_summary,
    station_report,
    test_page,
    wrap,
)
from valgkiosk.ports.printer import Barcode, Cut, Receipt, Separator, Text

pytestmark = pytest.mark.timeout(10)

STATION = StationInfo("Stortingsvalget 2025", "0301 Oslo", "0101 Sentrum skole, gymsalen", 3, "k-03")
AT = datetime(2025, 9, 8, 14, 32)
LONG_NAME = "Kari Ærligheten Østby-Ålesund Wolfeschlegelsteinhausenbergerdorffwelchevoralternwaren"
LONG_ADDRESS = "Kristian Augusts gate 113 B, leilighet H0304, 0164 Oslo, c/o Bjørnstjerne Bjørnson"


def card(**changes: object) -> ManualValgkort:
    values: dict[str, object] = dict(station=STATION, printed_at=AT, reason=ValgkortReason.EMERGENCY,
                                     name=LONG_NAME, birth_date=date(1980, 2, 1), address=LONG_ADDRESS,
                                     manntallsnummer=parse("000001234582"))
    values.update(changes)
    return ManualValgkort(**values)  # type: ignore[arg-type]


def texts(receipt: Receipt) -> list[str]:
    return [b.text for b in receipt.blocks if isinstance(b, Text)]


def squeeze(s: str) -> str:
    return "".join(s.split())


def all_layouts(columns: int) -> list[Receipt]:
    report = ClosingReport(STATION, datetime(2025, 9, 8, 21, 5), 1234, 12, 3, 1,
                           (Outage(datetime(2025, 9, 8, 9, 2), datetime(2025, 9, 8, 9, 35, 12), "Ruteren uten strøm"),
                            Outage(datetime(2025, 9, 8, 20, 50))), period_start=datetime(2025, 9, 8, 7, 0))
    log = LogPrintout(STATION, AT, (LogEntry(datetime(2025, 9, 8, 7, 0), "Kl. 07.00 startet kiosken."),
                                    LogEntry(datetime(2025, 9, 8, 9, 2), "Kl. 09.02 " + LONG_ADDRESS)),
                      report.outages[:1])
    page = TestPage("k-03", "2025.09.1", AT, "usb TM-T20II", STATION)
    return [manual_valgkort(card(), columns), closing_report(report, columns),
            log_printout(log, columns), test_page(page, columns)]


class TestPrinterReceipts:
    """Grouped so that ``-k printer`` selects them with the driver and scenario tests."""

    @pytest.mark.parametrize("columns", COLUMNS)
    def test_every_line_fits_and_every_receipt_ends_with_a_cut(self, columns: int) -> None:
        for receipt in all_layouts(columns):
            assert receipt.columns == columns
            assert isinstance(receipt.blocks[-1], Cut)
            for block in receipt.blocks:
                if isinstance(block, Text):
                    assert len(block.text) <= (columns // 2 if block.double else columns), block
                    assert printable(block.text) == block.text

    @pytest.mark.parametrize("columns", COLUMNS)
    def test_manual_valgkort_puts_the_voter_in_one_block_at_the_top(self, columns: int) -> None:
        blocks = manual_valgkort(card(), columns).blocks
        assert blocks[0] == Text("MANUELT VALGKORT", bold=True, centred=True)
        assert blocks[1] == Separator("=")
        end = blocks.index(Separator("="), 2)
        voter = [b.text for b in blocks[2:end]]  # type: ignore[union-attr]
        assert all(isinstance(b, Text) for b in blocks[2:end])
        assert voter[0].startswith("Navn: ") and blocks[2].bold  # type: ignore[union-attr]
        born = next(i for i, t in enumerate(voter) if t.startswith("Født: "))
        address = next(i for i, t in enumerate(voter) if t.startswith("Adresse: "))
        assert 0 < born < address
        assert squeeze(" ".join(voter[:born])).replace("-", "") == squeeze("Navn: " + LONG_NAME).replace("-", "")
        assert voter[born] == "Født: 01.02.1980"
        assert squeeze(" ".join(voter[address:])) == squeeze("Adresse: " + LONG_ADDRESS)
        assert len(voter) <= 9  # fits the orange envelope's window
        assert blocks[end + 1] == Barcode("000001234582")

    @pytest.mark.parametrize("columns", COLUMNS)
    def test_long_name_and_address_wrap_with_a_hanging_indent(self, columns: int) -> None:
        lines = texts(manual_valgkort(card(), columns))
        name_lines = lines[1:lines.index(next(t for t in lines if t.startswith("Født")))]
        assert len(name_lines) >= 2
        assert all(t.startswith(" " * len("Navn: ")) for t in name_lines[1:])
        assert max(len(t) for t in lines) == columns or all(len(t) < columns for t in lines)

    @pytest.mark.parametrize("columns", COLUMNS)
    def test_manual_valgkort_fields(self, columns: int) -> None:
        joined = "\n".join(texts(manual_valgkort(card(), columns)))
        for expected in ("Manntallsnr: 0000012345 82", "Valg: Stortingsvalget 2025", "Kommune: 0301 Oslo",
                         "Valgkrets: 0101 Sentrum skole, gymsalen", "Bord: 3", "Tid: 08.09.2025 kl. 14.32",
                         "Årsak: Beredskap: manntallet utilgjengelig"):
            assert expected in joined

    def test_without_manntallsnummer_there_is_no_barcode(self) -> None:
        receipt = manual_valgkort(card(manntallsnummer=None), 42)
        assert not any(isinstance(b, Barcode) for b in receipt.blocks)
        assert "Manntallsnr: ukjent" in texts(receipt)

    def test_characters_outside_cp865_become_a_visible_question_mark(self) -> None:
        receipt = manual_valgkort(card(name="Łukasz € Ødegård 😀", address="Gate\x1b@ 1\tB"), 48)
        lines = texts(receipt)
        assert "Navn: ?ukasz ? Ødegård ?" in lines
        assert "Adresse: Gate?@ 1 B" in lines

    @pytest.mark.parametrize("char", ["\x1c", "\x1d", "\x1e", "\x1f", "\x00", "\x1b", "\x7f", "\x85", "\x9b"])
    def test_every_control_character_prints_as_a_visible_question_mark(self, char: str) -> None:
        # FS/GS/RS/US count as white space for str.isspace(): they must not vanish into a space
        assert printable(f"Ola{char}Nordmann") == "Ola?Nordmann"
        assert wrap(printable(f"Ola{char}Nordmann"), 42) == ["Ola?Nordmann"]
        receipt = manual_valgkort(card(name=f"Ola{char}Nordmann"), 42)
        assert "Navn: Ola?Nordmann" in texts(receipt)

    def test_white_space_prints_as_a_space(self) -> None:
        assert printable("a\tb\nc\rd\u00a0e\u2028f") == "a b c d e f"

    @pytest.mark.parametrize("columns", COLUMNS)
    def test_a_word_longer_than_the_line_is_hyphenated(self, columns: int) -> None:
        long_word = "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwaren"  # 55 letters
        lines = texts(manual_valgkort(card(name=f"Kari {long_word}"), columns))
        start = lines.index("Navn: Kari")
        pieces = [t.strip() for t in lines[start + 1:start + 3]]
        assert pieces[0].endswith("-") and len(lines[start + 1]) == columns
        assert pieces[0][:-1] + pieces[1] == long_word
        assert all(len(t) <= columns for t in lines)

    def test_a_long_word_breaks_after_its_own_hyphen_when_it_can(self) -> None:
        assert wrap("Bjørnstjerne-Ødegårdsen-Ærøe", 16) == ["Bjørnstjerne-", "Ødegårdsen-Ærøe"]
        assert wrap("abcdefghij", 4) == ["abc-", "def-", "ghij"]
        assert wrap("a bcdefghij", 5, indent=1) == ["a", " bcd-", " efg-", " hij"]

    def test_printable_keeps_norwegian_letters_and_composes_decomposed_ones(self) -> None:
        assert printable("æøå ÆØÅ") == "æøå ÆØÅ"
        assert printable("a\u030age") == "åge"  # a + combining ring above
        assert printable("€\u200b\x07") == "???"

    @pytest.mark.parametrize("columns", COLUMNS)
    def test_closing_report_counts_and_outages(self, columns: int) -> None:
        lines = texts(all_layouts(columns)[1])
        assert lines[0] == "Avslutningsrapport"
        counts = {"Avkrysninger ved bordet": "1234", "Beredskapsstemmer (oransje)": "12",
                  "Manuelle valgkort skrevet ut": "3", "Feilregistreringer": "1",
                  "Brudd i forbindelsen til manntallet": "2", "Avkrysninger ikke bekreftet": "0"}
        for label, number in counts.items():
            line = next(t for t in lines if t.startswith(label))
            assert len(line) == columns and line.endswith(" " + number)
        # each count under its source: the register's first, then the kiosk's own
        register, kiosk = lines.index("Fra manntallet:"), lines.index("Fra kioskens loggbok:")
        assert register < lines.index(next(t for t in lines if t.startswith("Avkrysninger ved"))) < kiosk
        assert kiosk < lines.index(next(t for t in lines if t.startswith("Beredskapsstemmer")))
        assert "Kiosk: k-03" in lines and "Skrevet ut: 08.09.2025 kl. 21.05" in lines
        assert squeeze("Periode: 08.09.2025 kl. 07.00 til 21.05") in squeeze(" ".join(lines))
        assert lines.count("Stemmestyrets leder:") == 1 and lines.count("Stemmestyremedlem:") == 1
        assert lines.count("_" * columns) == 2
        assert "09.02-09.35  33 min 12 s" in lines
        assert "  Ruteren uten strøm" in lines
        assert "20.50-(pågår)  15 min 0 s" in lines
        assert "Varighet til sammen: 48 min 12 s" in lines

    def test_closing_report_says_when_the_register_count_is_unknown(self) -> None:
        report = ClosingReport(STATION, AT, None, 0, 0, 0)
        line = next(t for t in texts(closing_report(report, 42)) if t.startswith("Avkrysninger ved"))
        assert line.endswith(" ukjent") and len(line) == 42

    @pytest.mark.parametrize("columns", COLUMNS)
    def test_log_printout_wraps_entries_under_their_text(self, columns: int) -> None:
        lines = texts(all_layouts(columns)[2])
        assert lines[0] == "Loggbok"
        assert "Kl. 07.00 startet kiosken." in lines
        start = next(i for i, t in enumerate(lines) if t.startswith("Kl. 09.02 "))
        entry = [lines[start]]
        for t in lines[start + 1:]:
            if not t.startswith("  "):
                break
            entry.append(t)
        assert len(entry) >= 2
        assert squeeze(" ".join(entry)) == squeeze("Kl. 09.02 " + LONG_ADDRESS)

    @pytest.mark.parametrize("columns", COLUMNS)
    def test_closing_report_flags_votes_lists_unresolved_and_prints_the_chain_head(self, columns: int) -> None:
        report = ClosingReport(
            STATION, datetime(2025, 9, 8, 21, 5), None, 2, 1, None,
            unresolved=(datetime(2025, 9, 8, 10, 12),),
            flagged_votes=(FlaggedVote(datetime(2025, 9, 8, 9, 14), datetime(2025, 9, 8, 8, 3), "0000012345 82"),
                           FlaggedVote(datetime(2025, 9, 8, 9, 20), None, "0000000123 44",
                                       unconfirmed="manntallet krysset ikke av velgeren.")),
            pending_upload=2, chain_head="57:3f2a9c1b4d5e6f70" + "0" * 48)
        lines = texts(closing_report(report, columns))
        flat = squeeze(" ".join(lines))
        assert "Fra manntallet (svarte ikke):" in lines
        assert next(t for t in lines if t.startswith("Avkrysninger ved")).endswith(" ukjent")
        assert next(t for t in lines if t.startswith("  ikke overført")).endswith(" 2")
        assert squeeze("Kl. 10.12: kiosken stoppet før manntallet svarte.") in flat
        assert "LEGG TIL SIDE FOR VALGSTYRET" in lines
        assert squeeze("- Beredskapsstemme kl. 09.14, manntallsnr. 0000012345 82; krysset av kl. 08.03.") in flat
        assert squeeze("- Beredskapsstemme kl. 09.20, manntallsnr. 0000000123 44; avkrysningen var ikke bekreftet "
                       "da stemmen ble talt: manntallet krysset ikke av velgeren.") in flat
        assert "Loggbokens kjedehode: nr. 57" in lines and any(t.startswith("3f2a9c1b4d5e6f70") for t in lines)
        assert all(len(t) <= columns for t in lines)

    @pytest.mark.parametrize("columns", COLUMNS)
    def test_station_report_lists_every_table_and_the_sum(self, columns: int) -> None:
        tables = (TableCount(2, 400, 3, 0), TableCount(1, 512, 27, 2))
        lines = texts(station_report(StationReport(STATION, datetime(2025, 9, 8, 21, 5), tables), columns))
        assert lines[0] == "Valglokalet"
        rows = [t.split() for t in lines if t.split() and t.split()[0] in ("1", "2", "Sum")]
        assert rows == [["1", "512", "27", "2"], ["2", "400", "3", "0"], ["Sum", "912", "30", "2"]]
        assert "Stemmestyrets leder:" in lines and all(len(t) <= columns for t in lines)

    def test_log_printout_with_nothing_says_so(self) -> None:
        lines = texts(log_printout(LogPrintout(STATION, AT), 42))
        assert "Ingen hendelser." in lines

    @pytest.mark.parametrize("columns", COLUMNS)
    def test_test_page(self, columns: int) -> None:
        receipt = all_layouts(columns)[3]
        lines = texts(receipt)
        assert lines[0] == "Testside"
        assert "Kiosk: k-03" in lines and "Programvare: 2025.09.1" in lines
        ruler = next(t for t in lines if t.startswith("1234567890"))
        assert len(ruler) == columns
        assert any("æøå ÆØÅ" in t for t in lines)
        assert Barcode("123456789080") in receipt.blocks
        sample = next(t for t in lines if t.startswith("Tegnsett CP865"))
        assert REPLACEMENT not in sample  # the sample is all CP865: no "?" on a good printer

    @given(hs.text(alphabet=hs.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200),
           hs.integers(min_value=10, max_value=60), hs.integers(min_value=0, max_value=8))
    @settings(max_examples=60, deadline=None)
    def test_wrap_never_loses_a_character(self, text: str, width: int, indent: int) -> None:
        text = printable(text)
        lines = wrap(text, width, indent=indent)
        assert all(len(line) <= width for line in lines)
        assert all(line.startswith(" " * indent) for line in lines[1:])
        # a broken word gains a hyphen at the end of its piece, and nothing else changes
        assert squeeze("".join(lines)).replace("-", "") == squeeze(text).replace("-", "")

    def test_receipt_survives_json(self) -> None:
        receipt = manual_valgkort(card(), 42)
        assert Receipt.from_json(receipt.to_json()) == receipt
        with pytest.raises(ValueError):
            Receipt.from_json({"kind": "x"})

    def test_format_duration_and_narrow_paper(self) -> None:
        assert format_duration(3 * 3600 + 5 * 60 + 7) == "3 t 5 min"
        assert format_duration(-4) == "0 s"
        with pytest.raises(ValueError):
            manual_valgkort(card(), 20)

    def test_text_preview_shows_every_line(self) -> None:
        receipt = manual_valgkort(card(), 42)
        text = receipt_text(receipt)
        for line in texts(receipt):
            assert line.strip() in text
        assert "000001234582" in text


# -- the self-test summary ------------------------------------------------------------


def _selftest_summary(passed: bool) -> SelftestSummary:
    return SelftestSummary(
        kommune="0301", krets="0101", bord=3, kiosk_id="0301-0101-bord3", image_version="2025.08.1",
        printed_at=datetime(2025, 9, 1, 7, 30), passed=passed,
        lines=(SelftestLine("Konfigurasjon", "OK", "Gyldig: kommune 0301, krets 0101, bord 3."),
               SelftestLine("Lampetest", "IKKE MONTERT", "Ingen lamper eller summer er satt opp."),
               SelftestLine("Manntall og tilgangsnøkkel og et veldig langt navn på sjekken", "FEIL",
                            "Tilgangsnøkkelen gjelder kommune 0301, krets 0101, bord 4, men kiosken er satt opp "
                            "for kommune 0301, krets 0101, bord 3.")),
    )  # fmt: skip


@pytest.mark.parametrize("columns", [42, 48])
@pytest.mark.parametrize("passed", [True, False])
def test_selftest_summary_fits_and_says_the_result(columns: int, passed: bool) -> None:
    receipt = selftest_summary(_selftest_summary(passed), columns)
    text = receipt_text(receipt)
    lines = text.splitlines()
    assert receipt.kind == "selftest" and isinstance(receipt.blocks[-1], Cut)
    assert all(len(line) <= columns for line in lines)
    assert any(line.startswith("Konfigurasjon") and line.endswith("OK") for line in lines)
    assert any(line.endswith("FEIL") for line in lines) and any(line.endswith("IKKE MONTERT") for line in lines)
    assert "2025.08.1" in text and "0301-0101-bord3" in text and "01.09.2025 kl. 07.30" in text
    assert ("IKKE BESTÅTT" in text) is (not passed) and "BESTÅTT" in text
    bold = [b.text for b in receipt.blocks if isinstance(b, Text) and b.bold and not b.double]
    assert any(t.endswith("FEIL") for t in bold)  # a failed check stands out
