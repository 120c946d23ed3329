"""Screens and dialogs render the published view and ask by message (issue 12).

An AST check over firmware/ui: inside every screen, dialog and widget class, ``self.app``
is used only to read the view (``self.app.view``), to post a message, or to navigate
(push, pop, switch a screen; dismiss is the screen's own). No other app attribute is read
or called, no ``self.kiosk``, no ``getattr`` on the app, and the app is never bound to a
name (which would let a screen reach past this check). Besides, no screen holds the
printer's controller or the shell, and none reads the loggbok itself.

The app (valgkiosk.ui.app.KioskApp and the other App classes) and the printer's
controller (valgkiosk.ui.printing.Printing, which the app owns) are not screens: they
hand the requests (the Message dataclasses nested on the screens) to the shell.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

UI = Path(__file__).resolve().parents[2] / "firmware" / "ui"

#: What a screen may do with ``self.app``.
ALLOWED = {"view", "post_message", "push_screen", "pop_screen", "switch_screen"}
#: Classes in firmware/ui that are not screens, dialogs or widgets.
NOT_SCREENS = {"KioskApp", "ConfigErrorApp", "SelftestApp", "Printing", "SimControls", "SimView",
               "SimScanner", "SimGpio", "SimPrinter", "Place", "Choice", "DialogView"}
#: Attributes a screen must not hold or read on itself (the controller, the shell, the loggbok).
FORBIDDEN_SELF = {"kiosk", "printing", "shell", "station", "journal", "register"}


def _is_self_app(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "app"
            and isinstance(node.value, ast.Name) and node.value.id == "self")


def violations(source: str, filename: str = "<test>") -> list[str]:
    """Each use of the app (or of what stands behind it) a screen class may not make."""
    tree = ast.parse(source, filename)
    found: list[str] = []
    for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
        if cls.name in NOT_SCREENS or cls.name.endswith("App"):
            continue
        parents = {id(child): parent for parent in ast.walk(cls) for child in ast.iter_child_nodes(parent)}
        for node in ast.walk(cls):
            where = f"{filename}:{getattr(node, 'lineno', '?')} {cls.name}"
            if _is_self_app(node):
                parent = parents.get(id(node))
                if not (isinstance(parent, ast.Attribute) and parent.value is node and parent.attr in ALLOWED):
                    used = f".{parent.attr}" if isinstance(parent, ast.Attribute) else " as a value"
                    found.append(f"{where}: self.app{used}")
            elif (isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_SELF
                  and isinstance(node.value, ast.Name) and node.value.id == "self"):
                found.append(f"{where}: self.{node.attr}")
            elif isinstance(node, ast.Name) and node.id == "app" and not isinstance(node.ctx, ast.Store):
                found.append(f"{where}: a name 'app'")
            elif isinstance(node, ast.arg) and node.arg == "app":
                found.append(f"{where}: an argument 'app'")
    return sorted(set(found))


@pytest.mark.parametrize("path", sorted(UI.glob("*.py")), ids=lambda p: p.name)
def test_no_screen_reaches_into_the_app(path: Path) -> None:
    assert violations(path.read_text(), path.name) == []


@pytest.mark.parametrize("body, what", [
    ("self.app.kiosk_state.phase", "self.app.kiosk_state"),
    ("self.app.send(1)", "self.app.send"),
    ("getattr(self.app, 'sim')", "self.app as a value"),
    ("self.kiosk.confirm()", "self.kiosk"),
    ("self.printing.open_dialog()", "self.printing"),
    ("k = self.app", "self.app as a value"),
    ("self.app.printing.status_line()", "self.app.printing"),
])
def test_the_check_finds_a_screen_that_reaches_in(body: str, what: str) -> None:
    source = f"class SomeScreen:\n    def show(self) -> None:\n        {body}\n"
    assert any(what in v for v in violations(source)), violations(source)


def test_the_check_lets_a_screen_read_the_view_post_and_navigate() -> None:
    source = ("class SomeScreen:\n    def show(self) -> None:\n        self.app.view.phase\n"
              "        self.app.post_message(1)\n        self.app.push_screen('x')\n        self.dismiss()\n")
    assert violations(source) == []


def test_the_ui_screens_are_all_seen() -> None:
    """The check looks at the classes that matter (a renamed file would leave them unchecked)."""
    names = {n.name for p in UI.glob("*.py") for n in ast.walk(ast.parse(p.read_text())) if isinstance(n, ast.ClassDef)}
    assert {"KioskScreen", "IdleScreen", "LogScreen", "EmergencyScreen", "PinScreen", "CaretakerScreen",
            "PrinterDialog", "SimReceiptScreen", "SelftestScreen", "DevDock"} <= names
