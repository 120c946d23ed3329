"""Receipt printer drivers: python-escpos (USB, serial, network, file), the simulated
printer for sim mode and the byte-level emulator. (The persistent print queue is not a device:
it is ``valgkiosk.printqueue``.)

The composition root builds one printer from the station's ``[printer]`` settings with
:func:`build_printer` and wraps it in a ``valgkiosk.printqueue.PrintQueue``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .settings import PROFILE_COLUMNS, PrinterSettings
from .simulated import SimulatedPrinter

if TYPE_CHECKING:
    from .escpos_printer import EscposPrinter, profile_columns

__all__ = [
    "EscposPrinter",
    "PrinterSettings",
    "SimulatedPrinter",
    "build_printer",
    "profile_columns",
]


def __getattr__(name: str) -> Any:
    """python-escpos (and the YAML, PIL and barcode libraries under it: a fifth of the
    kiosk's start-up, docs/benchmarks.md) is imported only when a real printer is made."""
    if name in ("EscposPrinter", "profile_columns"):
        from . import escpos_printer

        return getattr(escpos_printer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_printer(settings: PrinterSettings) -> EscposPrinter | SimulatedPrinter:
    """The printer ``settings`` describe: a SimulatedPrinter for ``kind = "sim"``
    (columns from the profile, text to ``output``), an EscposPrinter otherwise."""
    if settings.kind == "sim":
        columns = settings.columns or PROFILE_COLUMNS.get(settings.profile)  # the same as python-escpos says
        if columns is None:
            from .escpos_printer import profile_columns

            columns = profile_columns(settings.profile)
        return SimulatedPrinter(columns=columns, output=settings.output)
    from .escpos_printer import EscposPrinter

    return EscposPrinter(settings)
