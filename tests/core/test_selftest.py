"""The self-test's checks without the UI: each passing and each failing, on the
simulated adapters (scanner, printer, caretaker box on MockFactory, network probes,
the in-memory register), a scripted operator and a real loggbok file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from selftest_bench import VALID, Bench, ScriptedOperator, bench, no_sleep

from valgkiosk import selftest as st
from valgkiosk.core.outage import Layer
from valgkiosk.drivers.clocksync import ClockSync
from valgkiosk.drivers.gpio import SimulatedGpio
from valgkiosk.drivers.network import SimulatedConnectivity
from valgkiosk.drivers.printer import SimulatedPrinter
from valgkiosk.drivers.scanner import SimulatedScanner
from valgkiosk.ports.indicators import Output
from valgkiosk.ports.power import PowerSource
from valgkiosk.ports.printer import Paper
from valgkiosk.ports.register import RegisterError

pytestmark = pytest.mark.timeout(20)

def run(check: Callable[[st.SelftestKit], Any], b: Bench) -> st.CheckResult:
    return asyncio.run(check(b.kit))


# -- everything passes ----------------------------------------------------------------------


def test_every_check_passes_on_a_healthy_kiosk_and_the_summary_is_printed_and_logged(tmp_path: Path) -> None:
    b = bench(tmp_path)

    async def main() -> tuple[list[st.CheckResult], list[st.CheckResult]]:
        results = await st.run_checks(b.kit)
        return results, await st.finish(b.kit, results)

    results, extra = asyncio.run(main())
    assert [r.key for r in results] == ["config", "scanner", "printer", "test_page", "inputs", "lamps", "network",
                                        "register", "clock"]  # fmt: skip
    assert all(r.verdict is st.Verdict.PASSED for r in results + extra), [r for r in results + extra if r.failed]
    assert st.exit_code(results + extra) == 0
    details = {r.key: r.detail for r in results}
    assert "gyldig manntallsnummer" in details["scanner"] and VALID not in details["scanner"]  # no number shown
    assert "Strøm til ruteren: har strøm" in details["inputs"]
    assert "avvik +0,4 ms" in details["clock"] and "12 ms" in details["clock"]
    assert "kiosk 0301-0101-bord3" in details["register"]
    # the test page and the summary, in that order
    assert [r.kind for r in b.printer.printed] == ["test_page", "selftest"]
    summary = b.printer.texts[-1]
    assert "BESTÅTT" in summary and "IKKE BESTÅTT" not in summary and "2025.08.1" in summary
    assert "Bord: 3" in summary and "0301-0101-bord3" in summary
    [entry] = [e for e in b.journal.entries() if e.kind == "selftest"]
    assert entry.data["kommune"] == "0301" and entry.data["krets"] == "0101" and entry.data["bord"] == 3
    assert entry.data["image_version"] == "2025.08.1" and entry.data["passed"] is True
    assert entry.data["checks"]["lamps"] == "passed" and entry.data["failed"] == []
    assert b.journal.verify() == []


def test_the_lamp_test_lights_every_output_before_asking(tmp_path: Path) -> None:
    b = bench(tmp_path)
    assert run(st.check_lamps, b).verdict is st.Verdict.PASSED
    for output in Output:
        states = [s for _, s in b.box.output_pin(output).states]
        assert True in states, output  # lit or sounded once
    assert any("J = ja" in p for p in b.operator.prompts)


# -- each check failing ---------------------------------------------------------------------


def test_a_bad_configuration_fails_and_nothing_else_runs(tmp_path: Path) -> None:
    kit = st.SelftestKit(None, ScriptedOperator(SimulatedScanner()), config_problems=["station.toml: «station.bord» mangler."])
    results = asyncio.run(st.run_checks(kit))
    assert [(r.key, r.verdict) for r in results] == [("config", st.Verdict.FAILED)]
    assert "station.bord" in results[0].detail and st.exit_code(results) == 1


def test_an_unplugged_scanner_fails(tmp_path: Path) -> None:
    b = bench(tmp_path)
    b.scanner.unplug()
    r = run(st.check_scanner, b)
    assert r.failed and "Finner ikke skanneren" in r.detail


def test_no_test_scan_in_time_fails(tmp_path: Path) -> None:
    b = bench(tmp_path)
    b.operator.scan = None
    r = run(st.check_scanner, b)
    assert r.failed and "ingen skanning kom" in r.detail
    assert b.operator.prompts[-1] == ""  # the prompt is cleared


def test_a_scan_that_is_not_a_valgkort_is_still_a_scan_read(tmp_path: Path) -> None:
    b = bench(tmp_path)
    b.operator.scan = "ABC123"
    r = run(st.check_scanner, b)
    assert r.verdict is st.Verdict.PASSED and "ikke et gyldig valgkort" in r.detail


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        (lambda p: setattr(p.device, "paper", Paper.OUT), "papir"),
        (lambda p: setattr(p.device, "cover_open", True), "eksel"),
        (lambda p: setattr(p, "plugged", False), ""),
    ],
    ids=["out_of_paper", "cover_open", "unplugged"],
)
def test_a_printer_that_is_not_ready_fails_and_prints_no_test_page(
    tmp_path: Path, fault: Callable[[SimulatedPrinter], None], words: str
) -> None:
    b = bench(tmp_path)
    fault(b.printer)
    status = run(st.check_printer, b)
    page = run(st.check_test_page, b)
    assert status.failed and page.failed and b.printer.printed == []
    assert words.lower() in (status.detail + page.detail).lower()


def test_paper_near_end_fails_the_printer_check(tmp_path: Path) -> None:
    b = bench(tmp_path)
    b.printer.device.paper = Paper.NEAR_END
    r = run(st.check_printer, b)
    assert r.failed and "snart slutt" in r.detail


def test_no_printer_configured_is_skipped_and_does_not_fail(tmp_path: Path) -> None:
    b = bench(tmp_path)
    b.kit.printer = None
    results = [run(st.check_printer, b), run(st.check_test_page, b)]
    assert [r.verdict for r in results] == [st.Verdict.SKIPPED] * 2 and st.exit_code(results) == 0


def test_a_printer_that_could_not_be_built_fails(tmp_path: Path) -> None:
    b = bench(tmp_path)
    b.kit.printer, b.kit.printer_problem = None, "Skriveren kan ikke settes opp: a USB printer needs vendor."
    assert run(st.check_printer, b).failed and run(st.check_test_page, b).failed


def test_every_input_is_read_and_shown_as_it_is_now(tmp_path: Path) -> None:
    b = bench(tmp_path)
    b.box.cut_router()  # raw reading: no stable time needed
    r = run(st.check_inputs, b)
    assert r.verdict is st.Verdict.PASSED
    assert "Strøm til ruteren: INGEN STRØM" in r.detail and "Strøm til kiosken: har strøm" in r.detail


def test_inputs_not_fitted_are_named(tmp_path: Path) -> None:
    from valgkiosk.drivers.gpio import DEFAULT_PINS

    b = bench(tmp_path)
    box = SimulatedGpio(replace(DEFAULT_PINS, simula=None), sleep=no_sleep)
    b.kit.inputs = box.sensors
    r = run(st.check_inputs, b)
    assert "Strøm til SIMULA-boksen: ikke montert" in r.detail and PowerSource.SIMULA not in box.sensors.raw()


def test_no_caretaker_box_is_skipped_but_one_that_would_not_open_fails(tmp_path: Path) -> None:
    b = bench(tmp_path)
    b.kit.inputs = b.kit.indicators = None
    assert run(st.check_inputs, b).verdict is st.Verdict.SKIPPED
    assert run(st.check_lamps, b).verdict is st.Verdict.SKIPPED
    b.kit.gpio_problem = "GPIO kan ikke åpnes: can not open gpiochip"
    assert run(st.check_inputs, b).failed and run(st.check_lamps, b).failed


@pytest.mark.parametrize(("answers", "words"), [([False], "så ikke alt"), ([], "Ingen svar")], ids=["no", "no_answer"])
def test_the_lamp_test_fails_unless_the_operator_confirms(tmp_path: Path, answers: list[bool], words: str) -> None:
    b = bench(tmp_path)
    b.operator.answers = answers
    r = run(st.check_lamps, b)
    assert r.failed and words in r.detail


@pytest.mark.parametrize("layer", list(Layer))
def test_a_failing_network_layer_fails_and_is_named(tmp_path: Path, layer: Layer) -> None:
    b = bench(tmp_path)
    b.net.fail_layer(layer)
    r = run(st.check_network, b)
    assert r.failed and r.detail.startswith(st.LAYER_NB[layer])


def test_a_register_for_another_table_fails(tmp_path: Path) -> None:
    b = bench(tmp_path, bord=4)
    r = run(st.check_register, b)
    assert r.failed and "bord 4" in r.detail and "bord 3" in r.detail


def test_a_refused_credential_fails_with_the_registers_words(tmp_path: Path) -> None:
    class Refusing:
        async def kiosk_info(self) -> Any:
            raise RegisterError("Manntallet godtar ikke kioskens tilgangsnøkkel.")

    b = bench(tmp_path)
    b.kit.register = Refusing()  # type: ignore[assignment]
    r = run(st.check_register, b)
    assert r.failed and "tilgangsnøkkel" in r.detail


@pytest.mark.parametrize(
    ("clock", "verdict", "words"),
    [
        (ClockSync(True, -0.0021, 0.05), st.Verdict.PASSED, "avvik -2,1 ms, feilmargin høyst 50 ms"),
        (ClockSync(True, None, None), st.Verdict.PASSED, "avvik ukjent"),
        (ClockSync(False), st.Verdict.FAILED, "ikke synkronisert"),
        (ClockSync(None), st.Verdict.FAILED, "Ukjent"),
    ],
)
def test_the_clock_shows_the_offset_or_unknown(tmp_path: Path, clock: ClockSync, verdict: st.Verdict, words: str) -> None:
    r = run(st.check_clock, bench(tmp_path, clock=clock))
    assert r.verdict is verdict and words in r.detail


def test_a_failed_check_fails_the_summary_and_the_exit_code(tmp_path: Path) -> None:
    b = bench(tmp_path, clock=ClockSync(False))

    async def main() -> list[st.CheckResult]:
        results = await st.run_checks(b.kit)
        return results + await st.finish(b.kit, results)

    results = asyncio.run(main())
    assert st.exit_code(results) == 1
    assert "IKKE BESTÅTT" in b.printer.texts[-1] and "FEIL" in b.printer.texts[-1]
    [entry] = [e for e in b.journal.entries() if e.kind == "selftest"]
    assert entry.data["passed"] is False and entry.data["checks"]["clock"] == "failed"
    assert any(f.startswith("Klokke:") for f in entry.data["failed"])


def test_a_summary_that_cannot_be_printed_or_logged_fails(tmp_path: Path) -> None:
    class FullDisk:
        def append(self, kind: str, data: dict[str, Any]) -> None:
            raise OSError(28, "No space left on device")

    b = bench(tmp_path)
    b.printer.device.paper = Paper.OUT
    b.kit.journal = FullDisk()
    extra = asyncio.run(st.finish(b.kit, []))
    assert [(r.key, r.verdict) for r in extra] == [("summary", st.Verdict.FAILED), ("loggbok", st.Verdict.FAILED)]
    assert "No space left" in extra[1].detail and st.exit_code(extra) == 1


def test_no_loggbok_configured_is_skipped(tmp_path: Path) -> None:
    b = bench(tmp_path)
    b.kit.journal = None
    extra = asyncio.run(st.finish(b.kit, []))
    assert [(r.key, r.verdict) for r in extra] == [("summary", st.Verdict.PASSED), ("loggbok", st.Verdict.SKIPPED)]


def test_the_image_version_is_read_or_unknown(tmp_path: Path) -> None:
    assert st.read_image_version(tmp_path / "none") == "ukjent"
    (tmp_path / "v").write_text("2025.08.1\n", encoding="utf-8")
    assert st.read_image_version(tmp_path / "v") == "2025.08.1"
    (tmp_path / "empty").write_text("", encoding="utf-8")
    assert st.read_image_version(tmp_path / "empty") == "ukjent"


def test_the_loggbok_entry_is_json_and_names_the_kiosk(tmp_path: Path) -> None:
    b = bench(tmp_path)
    data = st.loggbok_data(b.kit, [st.CheckResult("clock", "Klokke", st.Verdict.FAILED, "ikke synkronisert")])
    assert json.loads(json.dumps(data)) == data
    assert (data["kommune"], data["krets"], data["bord"], data["kiosk_id"]) == ("0301", "0101", 3, "ukjent")


# -- wired by the composition root ------------------------------------------------------------


def test_sim_mode_wires_every_part_and_passes_but_for_the_clock(tmp_path: Path) -> None:
    """``valgkiosk selftest --sim``: the simulated parts, the real clock reading (never
    pretended: this machine's clock is whatever it is)."""
    from valgkiosk import bootstrap

    root = Path(__file__).resolve().parents[2]
    text = (root / "config" / "sim-offline.toml").read_text(encoding="utf-8")
    (tmp_path / "station.toml").write_text(text, encoding="utf-8")
    holder: list[st.SelftestKit] = []

    class Operator:
        def show(self, prompt: str) -> None:
            if prompt.startswith("Skann"):
                holder[0].scanner.scan(VALID)  # type: ignore[union-attr]

        async def confirm(self, question: str) -> bool:
            return True

    kit = bootstrap.build_selftest(str(tmp_path / "station.toml"), sim=True, operator=Operator())
    holder.append(kit)
    assert isinstance(kit.printer, SimulatedPrinter) and isinstance(kit.connectivity, SimulatedConnectivity)
    assert kit.inputs is not None and kit.indicators is not None and kit.image_version == st.read_image_version()
    kit.indicators.timings = replace(kit.indicators.timings, lamp_step=0.01)

    async def main() -> list[st.CheckResult]:
        try:
            return await st.run_checks(kit)
        finally:
            await st.close(kit)

    results = {r.key: r for r in asyncio.run(main())}
    assert all(r.verdict is st.Verdict.PASSED for k, r in results.items() if k != "clock"), results
    assert results["clock"].detail  # synchronised with an offset, not synchronised, or unknown: said in words


def test_a_bad_configuration_gives_a_kit_with_only_the_problems(tmp_path: Path) -> None:
    from valgkiosk import bootstrap

    (tmp_path / "station.toml").write_text("[station]\nbord = 3\n", encoding="utf-8")
    kit = bootstrap.build_selftest(str(tmp_path / "station.toml"), sim=False, operator=None)
    assert kit.config is None and any("station.kommune" in p for p in kit.config_problems)


def test_the_command_line_runs_the_selftest_app_and_returns_its_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from valgkiosk import cli
    from valgkiosk.ui.selftest import SelftestApp

    (tmp_path / "station.toml").write_text("[station]\nbord = 3\n", encoding="utf-8")
    ran: list[SelftestApp] = []

    def fake_run(self: SelftestApp, **kwargs: Any) -> int:
        ran.append(self)
        self.results = asyncio.run(st.run_checks(self.kit))
        return st.exit_code(self.results)

    monkeypatch.setattr(SelftestApp, "run", fake_run)
    assert cli.main(["selftest", "--config", str(tmp_path / "station.toml")]) == 1
    assert len(ran) == 1 and ran[0].sim_scan is None
    out = capsys.readouterr().out
    assert out.startswith("FEIL") and "Konfigurasjon" in out and "station.kommune" in out


def test_a_real_kiosk_gets_the_real_probes_with_the_network_section(tmp_path: Path) -> None:
    from valgkiosk import bootstrap
    from valgkiosk.drivers.network import NetworkProbes

    (tmp_path / "station.toml").write_text("""
[station]
kommune = "0301"
krets = "0101"
bord = 3
[election]
year = 2025
[register]
url = "https://register.valg.example.no"
credential = "abcdefghijklmnopqrstuvwxyz"
[scanner]
kind = "evdev"
name = "Skanner"
[network]
interface = "end0"
check_gateway = false
""", encoding="utf-8")
    kit = bootstrap.build_selftest(str(tmp_path / "station.toml"), sim=False, operator=None)
    try:
        assert isinstance(kit.connectivity, NetworkProbes)
        assert kit.connectivity.interface == "end0" and kit.connectivity.check_gateway is False
        assert kit.printer is None and kit.printer_problem == ""  # kind "none": the checks say IKKE MONTERT
        assert kit.inputs is None and kit.indicators is None and kit.gpio_problem == ""
        assert type(kit.scanner).__name__ == "EvdevScanner"
    finally:
        asyncio.run(st.close(kit))
