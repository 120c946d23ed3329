"""Reusable widgets for the clerk's screen. Only full blocks (█), no box drawing:
the Linux console's font has them, while line-drawing glyphs may show as diamonds."""

from __future__ import annotations

from rich.text import Text
from textual.visual import VisualType
from textual.widgets import Static

# A 5-row block font for dates of birth and counts: readable at arm's length.
_FONT: dict[str, tuple[str, ...]] = {
    "0": ("████", "█  █", "█  █", "█  █", "████"),
    "1": ("  █ ", " ██ ", "  █ ", "  █ ", " ███"),
    "2": ("████", "   █", "████", "█   ", "████"),
    "3": ("████", "   █", " ███", "   █", "████"),
    "4": ("█  █", "█  █", "████", "   █", "   █"),
    "5": ("████", "█   ", "████", "   █", "████"),
    "6": ("████", "█   ", "████", "█  █", "████"),
    "7": ("████", "   █", "  █ ", " █  ", " █  "),
    "8": ("████", "█  █", "████", "█  █", "████"),
    "9": ("████", "█  █", "████", "   █", "████"),
    ".": ("  ", "  ", "  ", "  ", "██"),
    " ": ("  ", "  ", "  ", "  ", "  "),
}


def big(text: str) -> str:
    """``text`` (digits, dots, spaces) in the 5-row block font."""
    rows = ["", "", "", "", ""]
    for ch in text:
        glyph = _FONT.get(ch, _FONT[" "])
        for i in range(5):
            rows[i] += glyph[i] + " "
    return "\n".join(r.rstrip() for r in rows)


class Line(Static):
    """A Static that ignores an update to what it already shows. Every screen sets all of
    its lines at each change of the kiosk's state (valgkiosk.ui.screens.KioskScreen.show);
    Static.update would throw away each one's rendered lines and lay the screen out again
    even when its text is the same, which was most of a scan's redraw (docs/benchmarks.md)."""

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        if _same(content, self.content):
            return
        super().update(content, layout=layout)


def _same(new: object, old: object) -> bool:
    """Whether ``new`` shows exactly what ``old`` shows (plain strings and rich Texts; any
    other content counts as changed)."""
    if type(new) is not type(old):
        return False
    if isinstance(new, str):
        return new == old
    if isinstance(new, Text) and isinstance(old, Text):
        return (new.plain, new.style, new.spans, new.justify, new.overflow, new.no_wrap, new.end) == (
            old.plain, old.style, old.spans, old.justify, old.overflow, old.no_wrap, old.end)
    return False


class BigText(Line):
    """Digits in a large block font."""

    DEFAULT_CSS = """
    BigText { width: auto; height: 5; }
    """

    def __init__(self, text: str = "", **kwargs: object) -> None:
        super().__init__(big(text), markup=False, **kwargs)  # type: ignore[arg-type]
        self.text = text

    def set_text(self, text: str) -> None:
        if text == self.text:
            return
        self.text = text
        self.update(big(text))


def plain(text: str, style: str = "") -> Text:
    """Literal text (names may contain brackets: never parse them as markup)."""
    return Text(text, style=style)
