"""Reusable widgets for the clerk's screen. Only full blocks (█), no box drawing:
the Linux console's font has them, while line-drawing glyphs may show as diamonds."""

from __future__ import annotations

from rich.text import Text
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


class BigText(Static):
    """Digits in a large block font."""

    DEFAULT_CSS = """
    BigText { width: auto; height: 5; }
    """

    def __init__(self, text: str = "", **kwargs: object) -> None:
        super().__init__(big(text), markup=False, **kwargs)  # type: ignore[arg-type]
        self.text = text

    def set_text(self, text: str) -> None:
        self.text = text
        self.update(big(text))


def plain(text: str, style: str = "") -> Text:
    """Literal text (names may contain brackets: never parse them as markup)."""
    return Text(text, style=style)
