"""The self-test for the IT team: every part of one kiosk, checked before election day.

A list of check functions, each ``async (SelftestKit) -> CheckResult``, run in order by
:func:`run_checks`; the UI (``valgkiosk.ui.selftest``) shows each result as it comes
and acts as the :class:`Operator` (prompts, J/N answers). The checks talk to the same
ports the kiosk uses, so they are tested with the simulated adapters and no UI.

A check that does not apply (no printer configured, no caretaker box) is
``SKIPPED`` and does not fail the self-test; every other check is required. Nothing is
assumed: what cannot be measured fails, with the reason in Norwegian.

After the checks, :func:`finish` prints the summary receipt and writes a ``selftest``
entry to the loggbok with the kiosk's identity and image version.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from valgkiosk import config as cfg
from valgkiosk.core import manntallsnummer as mn
from valgkiosk.core import receipts
from valgkiosk.core.outage import Layer
from valgkiosk.ports.connectivity import LAYER_NB, Connectivity
from valgkiosk.ports.indicators import OUTPUT_NB, Indicators
from valgkiosk.ports.power import SOURCE_NB, PowerSource
from valgkiosk.ports.printer import Paper, PrinterError, ReceiptPrinter
from valgkiosk.ports.register import Register, RegisterError
from valgkiosk.ports.scanner import Scan, Scanner, ScannerStatus

log = logging.getLogger("valgkiosk.selftest")

#: Where the OS image records its version.
IMAGE_VERSION_FILE = Path("/etc/valgkiosk/image-version")
UKJENT = "ukjent"


class Verdict(enum.Enum):
    """How one check went."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # does not apply to this kiosk (not fitted, not configured)


#: The verdicts' words on screen and on the receipt.
VERDICT_NB: dict[Verdict, str] = {Verdict.PASSED: "OK", Verdict.FAILED: "FEIL", Verdict.SKIPPED: "IKKE MONTERT"}


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check's result: ``detail`` is a short Norwegian sentence (no personal data)."""

    key: str
    title: str
    verdict: Verdict
    detail: str = ""

    @property
    def failed(self) -> bool:
        return self.verdict is Verdict.FAILED


@dataclass(frozen=True, slots=True)
class SelftestTimings:
    """How long the self-test waits, in seconds."""

    scanner_found: float = 10.0  # for the scanner to be found
    scan: float = 60.0  # for the operator's test scan
    answer: float = 120.0  # for the operator's J/N
    printer: float = 20.0  # for a status reading or a printed page
    network: float = 20.0  # for one probe round
    register: float = 10.0  # for the register's answer


class Operator(Protocol):
    """The person at the kiosk, as the self-test screen reaches them."""

    def show(self, prompt: str) -> None:
        """Show what to do now ("" clears it)."""
        ...

    async def confirm(self, question: str) -> bool:
        """Ask a J/N question; ``True`` for J. The caller bounds the wait."""
        ...


class ClockReading(Protocol):
    """What is known about the clock (valgkiosk.drivers.clocksync.ClockSync)."""

    @property
    def synchronized(self) -> bool | None: ...
    @property
    def offset(self) -> float | None: ...
    @property
    def max_error(self) -> float | None: ...


class InputReader(Protocol):
    """The power inputs' raw readings (valgkiosk.drivers.gpio.GpioPowerSensors)."""

    def raw(self) -> Mapping[PowerSource, bool]: ...


@dataclass
class SelftestKit:
    """Everything the checks use; ``None`` where a part is not configured. Built by
    :func:`valgkiosk.bootstrap.build_selftest` (or by tests, with simulated adapters)."""

    config: cfg.StationConfig | None
    operator: Operator
    config_problems: list[str] = field(default_factory=list)
    scanner: Scanner | None = None
    printer: ReceiptPrinter | None = None
    printer_label: str = ""  # e.g. "usb TM-T20II"
    printer_problem: str = ""  # why a configured printer could not be built
    inputs: InputReader | None = None
    indicators: Indicators | None = None
    gpio_problem: str = ""  # why a configured caretaker box could not be opened
    connectivity: Connectivity | None = None
    register: Register | None = None
    read_clock: Callable[[], ClockReading] | None = None
    #: The clock rules' keeper (valgkiosk.drivers.timesource.ClockKeeper), or None: NTP only.
    clock_keeper: Any = None
    journal: Any = None  # valgkiosk.journal.Journal, or None without a loggbok
    image_version: str = UKJENT
    now: Callable[[], datetime] = datetime.now
    timings: SelftestTimings = SelftestTimings()
    kiosk_id: str = ""  # filled in by the register check


Check = Callable[[SelftestKit], Awaitable[CheckResult]]


def read_image_version(path: Path = IMAGE_VERSION_FILE) -> str:
    """The image version the OS image wrote, or ``ukjent``."""
    try:
        return path.read_text(encoding="utf-8").strip() or UKJENT
    except (OSError, UnicodeDecodeError):
        return UKJENT


# -- the checks ---------------------------------------------------------------------------


async def check_config(kit: SelftestKit) -> CheckResult:
    """The station configuration loaded and validated."""
    title = "Konfigurasjon"
    if kit.config is None:
        return CheckResult("config", title, Verdict.FAILED, " ".join(kit.config_problems) or "Ingen konfigurasjon.")
    st = kit.config.station
    return CheckResult("config", title, Verdict.PASSED, f"Gyldig: kommune {st.kommune}, krets {st.krets}, bord {st.bord}.")


async def check_scanner(kit: SelftestKit) -> CheckResult:
    """The scanner is found and reads one test scan (any valgkort). Unplugging it while
    the operator is asked to scan counts as not found."""
    key, title = "scanner", "Skanner og testskanning"
    if kit.scanner is None:
        return CheckResult(key, title, Verdict.FAILED, "Ingen skanner er satt opp.")
    statuses: asyncio.Queue[ScannerStatus] = asyncio.Queue()
    scans: asyncio.Queue[Scan] = asyncio.Queue()
    task = asyncio.create_task(kit.scanner.run(scans.put_nowait, statuses.put_nowait))
    try:
        status = await _next_status(statuses, kit.timings.scanner_found, want_connected=True)
        if status.connected:
            kit.operator.show("Skann et valgkort nå (hvilket som helst).")
            scan, status = await _scan_or_unplug(scans, statuses, status, kit.timings.scan)
            if scan is not None:
                return CheckResult(key, title, Verdict.PASSED, f"Skanneren virker: {_describe_scan(scan.text, kit)}")
        if not status.connected:
            return CheckResult(key, title, Verdict.FAILED, f"Finner ikke skanneren: {status.detail or 'ukjent feil'}.")
        return CheckResult(key, title, Verdict.FAILED,
                           f"Skanneren er funnet, men ingen skanning kom innen {kit.timings.scan:g} s.")  # fmt: skip
    finally:
        kit.operator.show("")
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _next_status(statuses: asyncio.Queue[ScannerStatus], seconds: float, *, want_connected: bool) -> ScannerStatus:
    """The first status that is ``want_connected`` within ``seconds``, else the last seen."""
    last = ScannerStatus(False, "skanneren meldte seg ikke")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining := deadline - loop.time()) > 0:
        try:
            last = await asyncio.wait_for(statuses.get(), remaining)
        except TimeoutError:
            break
        if last.connected == want_connected:
            return last
    return last


async def _scan_or_unplug(
    scans: asyncio.Queue[Scan], statuses: asyncio.Queue[ScannerStatus], status: ScannerStatus, seconds: float
) -> tuple[Scan | None, ScannerStatus]:
    """The first scan within ``seconds`` (``None``: none), and the scanner's status then."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining := deadline - loop.time()) > 0:
        scan_wait = asyncio.ensure_future(scans.get())
        status_wait = asyncio.ensure_future(statuses.get())
        done, pending = await asyncio.wait({scan_wait, status_wait}, timeout=remaining,
                                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
        for waiter in pending:
            waiter.cancel()
        if status_wait in done:
            status = status_wait.result()
        if scan_wait in done:
            return scan_wait.result(), status
    return None, status


def _describe_scan(text: str, kit: SelftestKit) -> str:
    """What the scan was, without the number itself (no personal data on the receipt)."""
    year = kit.config.election.year if kit.config is not None else None
    try:
        mn.parse(text, election_year=year)
    except mn.InvalidManntallsnummer as exc:
        return f"leste {len(text)} tegn, men ikke et gyldig valgkort for dette valget ({exc})."
    return f"leste et gyldig manntallsnummer ({len(text)} tegn)."


async def check_printer(kit: SelftestKit) -> CheckResult:
    """The printer answers: online, paper in, cover shut."""
    key, title = "printer", "Skriver"
    if kit.printer is None:
        if kit.printer_problem:
            return CheckResult(key, title, Verdict.FAILED, kit.printer_problem)
        return CheckResult(key, title, Verdict.SKIPPED, "Ingen skriver er satt opp.")
    try:
        status = await asyncio.wait_for(asyncio.to_thread(kit.printer.status), kit.timings.printer)
    except TimeoutError:
        return CheckResult(key, title, Verdict.FAILED, "Skriveren svarer ikke.")
    except Exception as exc:  # noqa: BLE001 - an adapter bug is a failed check, not a crash
        log.exception("printer status failed")
        return CheckResult(key, title, Verdict.FAILED, f"Uventet feil: {type(exc).__name__}.")
    label = f" ({kit.printer_label})" if kit.printer_label else ""
    if status.online is None:
        return CheckResult(key, title, Verdict.FAILED, f"Ukjent om skriveren er klar{label}: {status.detail or 'ingen svar'}.")
    if not status.online or status.cover_open or status.paper is Paper.OUT:
        return CheckResult(key, title, Verdict.FAILED, status.detail or f"Skriveren er ikke klar{label}.")
    paper = {Paper.OK: "papir i orden", Paper.NEAR_END: "papiret er snart slutt: bytt rull",
             Paper.UNKNOWN: "papir ukjent"}[status.paper]  # fmt: skip
    verdict = Verdict.PASSED if status.paper is Paper.OK else Verdict.FAILED
    return CheckResult(key, title, verdict, f"Klar{label}, {paper}.")


async def check_test_page(kit: SelftestKit) -> CheckResult:
    """A test page is printed (CP865 characters, the width, a barcode)."""
    key, title = "test_page", "Testside"
    if kit.printer is None:
        verdict = Verdict.FAILED if kit.printer_problem else Verdict.SKIPPED
        return CheckResult(key, title, verdict, "Ingen skriver." if verdict is Verdict.SKIPPED else kit.printer_problem)
    printer = kit.printer
    page = receipts.test_page(receipts.TestPage(kiosk_id=_kiosk_label(kit), image_version=kit.image_version,
                                                printed_at=kit.now(), printer=kit.printer_label),
                              printer.columns)  # fmt: skip
    try:
        await asyncio.wait_for(asyncio.to_thread(printer.print, page), kit.timings.printer)
    except TimeoutError:
        return CheckResult(key, title, Verdict.FAILED, "Skriveren tok ikke imot testsiden i tide.")
    except PrinterError as exc:
        return CheckResult(key, title, Verdict.FAILED, f"Testsiden ble ikke skrevet ut: {exc.message}")
    return CheckResult(key, title, Verdict.PASSED,
                       f"Skrevet ut ({printer.columns} kolonner); sjekk at æøå og strekkoden er riktige.")  # fmt: skip


async def check_inputs(kit: SelftestKit) -> CheckResult:
    """Every fitted power input read once and shown (not debounced)."""
    key, title = "inputs", "Strøminnganger (GPIO)"
    if kit.inputs is None:
        if kit.gpio_problem:
            return CheckResult(key, title, Verdict.FAILED, kit.gpio_problem)
        return CheckResult(key, title, Verdict.SKIPPED, "Ingen vaktmesterboks er satt opp.")
    try:
        raw = dict(kit.inputs.raw())
    except Exception as exc:  # noqa: BLE001
        log.exception("reading the inputs failed")
        return CheckResult(key, title, Verdict.FAILED, f"Inngangene kan ikke leses: {type(exc).__name__}.")
    parts = []
    for source in PowerSource:
        state = "ikke montert" if source not in raw else "har strøm" if raw[source] else "INGEN STRØM"
        parts.append(f"{SOURCE_NB[source]}: {state}")
    return CheckResult(key, title, Verdict.PASSED, "; ".join(parts) + ".")


async def check_lamps(kit: SelftestKit) -> CheckResult:
    """The lamp test, confirmed by the operator (J/N)."""
    key, title = "lamps", "Lampetest"
    indicators = kit.indicators
    if indicators is None:
        if kit.gpio_problem:
            return CheckResult(key, title, Verdict.FAILED, kit.gpio_problem)
        return CheckResult(key, title, Verdict.SKIPPED, "Ingen lamper eller summer er satt opp.")
    kit.operator.show("Se på lampene og lytt etter summeren …")
    try:
        tested = await indicators.lamp_test()
    finally:
        kit.operator.show("")
    if not tested:
        return CheckResult(key, title, Verdict.SKIPPED, "Ingen lamper eller summer er montert.")
    names = ", ".join(OUTPUT_NB[o] for o in tested)
    try:
        lit = await asyncio.wait_for(kit.operator.confirm(f"Lyste alle lampene og pep summeren, etter tur ({names})?  J = ja, N = nei"),
                                     kit.timings.answer)  # fmt: skip
    except TimeoutError:
        return CheckResult(key, title, Verdict.FAILED, "Ingen svar fra operatøren.")
    if not lit:
        return CheckResult(key, title, Verdict.FAILED, f"Operatøren så ikke alt lyse eller høre summeren ({names}).")
    return CheckResult(key, title, Verdict.PASSED, f"Bekreftet av operatøren: {names}.")


async def check_network(kit: SelftestKit) -> CheckResult:
    """One probe round: cable, router, name lookup, the register's port and health."""
    key, title = "network", "Nett og helsesjekk"
    if kit.connectivity is None:
        return CheckResult(key, title, Verdict.FAILED, "Nettet kan ikke prøves uten gyldig konfigurasjon.")
    try:
        result = await asyncio.wait_for(kit.connectivity.probe_round(), kit.timings.network)
    except TimeoutError:
        return CheckResult(key, title, Verdict.FAILED, "Nettprøven ble ikke ferdig i tide.")
    except Exception as exc:  # noqa: BLE001
        log.exception("probe round failed")
        return CheckResult(key, title, Verdict.FAILED, f"Uventet feil: {type(exc).__name__}.")
    if not result.ok:
        first = result.first_failed
        assert first is not None
        return CheckResult(key, title, Verdict.FAILED, f"{LAYER_NB[first]} feiler: {result.detail}")
    done = [LAYER_NB[r.layer] for r in result.layers if r.ok]
    if Layer.HEALTH not in {r.layer for r in result.layers if r.ok}:
        return CheckResult(key, title, Verdict.FAILED, "Manntallets helsesjekk ble ikke prøvd.")
    return CheckResult(key, title, Verdict.PASSED, "I orden: " + ", ".join(done) + ".")


async def check_register(kit: SelftestKit) -> CheckResult:
    """The register accepts the credential, and it belongs to this table."""
    key, title = "register", "Manntall og tilgangsnøkkel"
    if kit.register is None or kit.config is None:
        return CheckResult(key, title, Verdict.FAILED, "Manntallet kan ikke spørres uten gyldig konfigurasjon.")
    try:
        info = await asyncio.wait_for(kit.register.kiosk_info(), kit.timings.register)
    except TimeoutError:
        return CheckResult(key, title, Verdict.FAILED, "Manntallet svarte ikke i tide.")
    except RegisterError as exc:
        return CheckResult(key, title, Verdict.FAILED, str(exc))
    except Exception as exc:  # noqa: BLE001
        log.exception("kiosk_info failed")
        return CheckResult(key, title, Verdict.FAILED, f"Uventet feil: {type(exc).__name__}.")
    kit.kiosk_id = info.kiosk_id
    st = kit.config.station
    if (info.kommune, info.krets, info.bord) != (st.kommune, st.krets, st.bord):
        return CheckResult(key, title, Verdict.FAILED,
                           f"Tilgangsnøkkelen gjelder kommune {info.kommune}, krets {info.krets}, bord {info.bord}, "
                           f"men kiosken er satt opp for kommune {st.kommune}, krets {st.krets}, bord {st.bord}.")  # fmt: skip
    if info.election_year != kit.config.election.year:
        return CheckResult(key, title, Verdict.FAILED,
                           f"Manntallet gjelder {info.election_title}, men kiosken er satt opp for "
                           f"valget i {kit.config.election.year}.")  # fmt: skip
    return CheckResult(key, title, Verdict.PASSED,
                       f"Tilgangsnøkkelen er godtatt: kiosk {info.kiosk_id}, {info.election_title}.")  # fmt: skip


async def check_clock(kit: SelftestKit) -> CheckResult:
    """The clock is synchronised; the offset is shown, or ``ukjent``."""
    key, title = "clock", "Klokke"
    if kit.read_clock is None:
        return CheckResult(key, title, Verdict.FAILED, "Klokkens synkronisering er ukjent.")
    reading = await asyncio.to_thread(kit.read_clock)
    if kit.clock_keeper is not None:  # no NTP, but the network's time or an RTC may vouch
        state = await asyncio.to_thread(kit.clock_keeper.check)
        return CheckResult(key, title, Verdict.PASSED if state.synchronized else Verdict.FAILED,
                           f"{describe_clock(reading)} Tidskilde: {state.describe()}.")
    return CheckResult(key, title, Verdict.PASSED if reading.synchronized else Verdict.FAILED, describe_clock(reading))


def describe_clock(reading: ClockReading) -> str:
    """The clock's state in words: synchronised with the offset, not synchronised, or unknown."""
    if reading.synchronized is None:
        return "Ukjent om klokken er synkronisert (kan ikke leses); avvik ukjent."
    if not reading.synchronized:
        return "Klokken er ikke synkronisert med en tidstjener; avvik ukjent."
    offset = UKJENT if reading.offset is None else f"{reading.offset * 1000:+.1f} ms".replace(".", ",")
    bound = "" if reading.max_error is None else f", feilmargin høyst {reading.max_error * 1000:.0f} ms"
    return f"Synkronisert: avvik {offset}{bound}."


#: Every check, in the order the IT team's checklist has them.
CHECKS: tuple[Check, ...] = (
    check_config,
    check_scanner,
    check_printer,
    check_test_page,
    check_inputs,
    check_lamps,
    check_network,
    check_register,
    check_clock,
)


async def run_checks(
    kit: SelftestKit,
    checks: Sequence[Check] = CHECKS,
    on_result: Callable[[CheckResult], None] = lambda r: None,
) -> list[CheckResult]:
    """Run ``checks`` in order, reporting each result as it comes. With no valid
    configuration only the configuration check runs."""
    results: list[CheckResult] = []
    for check in checks:
        if kit.config is None and check is not check_config:
            continue
        result = await check(kit)
        log.info("selftest %s: %s %s", result.key, result.verdict.value, result.detail)
        results.append(result)
        on_result(result)
    return results


def passed(results: Sequence[CheckResult]) -> bool:
    """Whether every required check passed (and there were checks at all)."""
    return bool(results) and not any(r.failed for r in results)


def exit_code(results: Sequence[CheckResult]) -> int:
    """0 only when every required check passed; 1 otherwise."""
    return 0 if passed(results) else 1


# -- the summary ---------------------------------------------------------------------------


def _kiosk_label(kit: SelftestKit) -> str:
    if kit.kiosk_id:
        return kit.kiosk_id
    if kit.config is not None:
        st = kit.config.station
        return f"{st.kommune}-{st.krets}-bord {st.bord}"
    return UKJENT


def summary(kit: SelftestKit, results: Sequence[CheckResult]) -> receipts.SelftestSummary:
    """The summary receipt's content."""
    st = kit.config.station if kit.config is not None else None
    return receipts.SelftestSummary(
        kommune=st.kommune if st else UKJENT,
        krets=st.krets if st else UKJENT,
        bord=st.bord if st else 0,
        kiosk_id=kit.kiosk_id,
        image_version=kit.image_version,
        printed_at=kit.now(),
        passed=passed(results),
        lines=tuple(receipts.SelftestLine(r.title, VERDICT_NB[r.verdict], r.detail) for r in results),
    )


def loggbok_data(kit: SelftestKit, results: Sequence[CheckResult]) -> dict[str, Any]:
    """The ``selftest`` loggbok entry: identity, image version and every verdict."""
    st = kit.config.station if kit.config is not None else None
    return {
        "kommune": st.kommune if st else UKJENT,
        "krets": st.krets if st else UKJENT,
        "bord": st.bord if st else None,
        "kiosk_id": kit.kiosk_id or UKJENT,
        "image_version": kit.image_version,
        "passed": passed(results),
        "checks": {r.key: r.verdict.value for r in results},
        "failed": [f"{r.title}: {r.detail}" for r in results if r.failed],
    }


async def finish(kit: SelftestKit, results: list[CheckResult]) -> list[CheckResult]:
    """Print the summary receipt and write the loggbok entry; returns the two results
    (a receipt or loggbok that could not be written fails the self-test too)."""
    done: list[CheckResult] = []
    if kit.printer is not None:
        receipt = receipts.selftest_summary(summary(kit, results), kit.printer.columns)
        try:
            await asyncio.wait_for(asyncio.to_thread(kit.printer.print, receipt), kit.timings.printer)
        except (PrinterError, TimeoutError) as exc:
            why = exc.message if isinstance(exc, PrinterError) else "skriveren svarte ikke i tide"
            done.append(CheckResult("summary", "Oppsummering skrevet ut", Verdict.FAILED, why))
        else:
            done.append(CheckResult("summary", "Oppsummering skrevet ut", Verdict.PASSED, "Legg den ved sjekklisten."))
    if kit.journal is None:
        done.append(CheckResult("loggbok", "Loggbok", Verdict.SKIPPED, "Ingen loggbok er satt opp."))
    else:
        try:
            kit.journal.append("selftest", loggbok_data(kit, results))
        except OSError as exc:
            log.error("the selftest could not be logged: %s", exc)
            done.append(CheckResult("loggbok", "Loggbok", Verdict.FAILED, f"Kan ikke skrive loggboken ({exc.strerror})."))
        else:
            done.append(CheckResult("loggbok", "Loggbok", Verdict.PASSED, "Selvtesten er ført i loggboken."))
    return done


async def close(kit: SelftestKit) -> None:
    """Release what the kit opened: LEDs off, pins, the register's and the probes' clients."""
    for part in (kit.indicators, kit.inputs):
        closer = getattr(part, "close", None)
        if closer is not None:
            try:
                closer()
            except Exception:  # noqa: BLE001 - closing must not fail the exit
                log.exception("closing %r failed", part)
    for closing in (kit.register, kit.connectivity):
        if closing is not None:
            try:
                await closing.aclose()
            except Exception:  # noqa: BLE001
                log.exception("closing %r failed", part)
