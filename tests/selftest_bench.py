"""A self-test bench for the checks' tests and the self-test screen's: a kit on the
simulated adapters (scanner, printer, caretaker box on MockFactory, network probes, the
in-memory register), a fixed clock reading, a real loggbok file and a scripted operator."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from valgkiosk import config as cfg
from valgkiosk import selftest as st
from valgkiosk.core import manntallsnummer as mn
from valgkiosk.drivers.clocksync import ClockSync
from valgkiosk.drivers.gpio import SimulatedGpio
from valgkiosk.drivers.network import SimulatedConnectivity
from valgkiosk.drivers.printer import SimulatedPrinter
from valgkiosk.drivers.scanner import SimulatedScanner
from valgkiosk.journal import Journal
from valgkiosk.register_memory import demo_register

CONFIG = """
[station]
kommune = "0301"
krets = "0101"
bord = 3

[election]
year = 2025

[register]
url = "memory:"

[scanner]
kind = "sim"
"""

VALID = str(mn.make(42, 2025))


@dataclass
class ScriptedOperator:
    """Answers J/N from ``answers`` (an exception or a hang when empty) and scans ``scan``
    when asked to scan."""

    scanner: SimulatedScanner
    scan: str | None = VALID
    answers: list[bool] = field(default_factory=lambda: [True])
    prompts: list[str] = field(default_factory=list)

    def show(self, prompt: str) -> None:
        self.prompts.append(prompt)
        if prompt.startswith("Skann") and self.scan is not None:
            self.scanner.scan(self.scan)

    async def confirm(self, question: str) -> bool:
        self.prompts.append(question)
        if not self.answers:
            await asyncio.Event().wait()  # nobody answers
        return self.answers.pop(0)


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


@dataclass
class Bench:
    kit: st.SelftestKit
    operator: ScriptedOperator
    scanner: SimulatedScanner
    printer: SimulatedPrinter
    box: SimulatedGpio
    net: SimulatedConnectivity
    journal: Journal


def bench(tmp_path: Path, *, bord: int = 3, clock: ClockSync = ClockSync(True, 0.0004, 0.012)) -> Bench:
    scanner = SimulatedScanner()
    printer = SimulatedPrinter(columns=48)
    box = SimulatedGpio(sleep=no_sleep)
    net = SimulatedConnectivity()
    register, _ = demo_register(kommune="0301", krets="0101", bord=bord)
    journal = Journal(tmp_path / "loggbok.jsonl")
    operator = ScriptedOperator(scanner)
    kit = st.SelftestKit(
        cfg.parse(CONFIG),
        operator,
        scanner=scanner,
        printer=printer,
        printer_label="sim TM-T20II",
        inputs=box.sensors,
        indicators=box.indicators,
        connectivity=net,
        register=register,
        read_clock=lambda: clock,
        journal=journal,
        image_version="2025.08.1",
        now=lambda: datetime(2025, 9, 1, 7, 30),
        timings=st.SelftestTimings(scanner_found=0.5, scan=0.3, answer=0.3, printer=2, network=2, register=2),
    )
    return Bench(kit, operator, scanner, printer, box, net, journal)
