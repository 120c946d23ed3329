"""What the clerk asks for, as small messages: the screens and dialogs post them to the
app (they never call into it), and the app hands each to the shell
(valgkiosk.shell.KioskShell) or to the printer's controller (valgkiosk.ui.printing)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from textual.message import Message


@dataclass
class Ask(Message):
    """A clerk's event for the check-off flow (``event`` is a valgkiosk.core.checkoff event
    class, made with ``args`` and ``fields``); the shell stamps it with its clock."""

    event: type
    args: tuple[Any, ...] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Confirm(Message):
    """Enter on the confirm screen: check off the voter on screen."""


@dataclass
class StartMisregistration(Message):
    """F4: report the last check-off at this table as made on the wrong person."""


@dataclass
class StartManualValgkort(Message):
    """M: a manual valgkort for the voter on screen."""


@dataclass
class ToggleCaretaker(Message):
    """F6: open the caretaker's screen, or close it."""


@dataclass
class CloseCaretaker(Message):
    """Esc on the caretaker's screen: back to the check-off."""


@dataclass
class AcknowledgeAlarm(Message):
    """F3: the alarm is acknowledged (the buzzer stops)."""


@dataclass
class OpenChairView(Message):
    """F5 (``"pin"``) or F11 (``"log"``): the chair's screens."""

    view: str


@dataclass
class OpenPrinterDialog(Message):
    """F1: the printer's dialog."""


@dataclass
class PrinterChoice(Message):
    """The clerk picked line ``index`` of the printer's dialog (the dialog is closed)."""

    index: int


@dataclass
class RecheckPrinter(Message):
    """The printer's dialog names a fault: ask the printer whether it is still there."""
