"""Receipt printer drivers: python-escpos (USB, serial, network, file), the simulated
printer for sim mode and the byte-level emulator. (The persistent print queue is not a device:
it is ``valgkiosk.printqueue``.)

The composition root builds one printer from the station's ``[printer]`` settings with
:func:`build_printer` and wraps it in a ``valgkiosk.printqueue.PrintQueue``.
"""

from __future__ import annotations

from .escpos_printer import EscposPrinter, profile_columns
from .settings import PrinterSettings
from .simulated import SimulatedPrinter

__all__ = [
    "EscposPrinter",
    "PrinterSettings",
    "SimulatedPrinter",
    "build_printer",
    "profile_columns",
]


def build_printer(settings: PrinterSettings) -> EscposPrinter | SimulatedPrinter:
    """The printer ``settings`` describe: a SimulatedPrinter for ``kind = "sim"``
    (columns from the profile, text to ``output``), an EscposPrinter otherwise."""
    if settings.kind == "sim":
        columns = settings.columns or profile_columns(settings.profile)
        return SimulatedPrinter(columns=columns, output=settings.output)
    return EscposPrinter(settings)
