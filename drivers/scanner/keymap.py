"""Pure decoder from evdev key events to scans, for a hand scanner in keyboard mode.

evdev reports physical keys; the scanner's own keyboard-language setting decides which
keys it presses for a character. The decoder therefore needs the layout the scanner is
set to (``"us"`` or ``"no"``). Digits sit on the same keys in both, so a valgkort's
12 digits decode either way. No I/O and no clock reads: timestamps come from the event
or from the caller.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from evdev import ecodes as e

from valgkiosk.ports.scanner import Scan

from ._buffer import DEFAULT_MAX_LENGTH, REPLACEMENT, ScanBuffer

__all__ = [
    "KeyboardLayout",
    "LAYOUTS",
    "NORWEGIAN",
    "US",
    "KeyEventLike",
    "ScanDecoder",
    "layout_named",
]


class KeyEventLike(Protocol):
    """What the decoder reads from an event: ``evdev.InputEvent`` fits."""

    type: int
    code: int
    value: int

    def timestamp(self) -> float: ...


@dataclass(frozen=True)
class KeyboardLayout:
    """How a keyboard layout maps physical keys to characters.

    ``keys`` maps a key code to (unshifted, shifted); ``altgr`` maps a key code to its
    AltGr character; ``dead`` maps a dead key's character to the combining mark it adds
    to the next letter (a dead key followed by a space gives the character itself).
    """

    name: str
    keys: Mapping[int, tuple[str, str]]
    altgr: Mapping[int, str] = field(default_factory=dict)
    dead: Mapping[str, str] = field(default_factory=dict)


def _letters() -> dict[int, tuple[str, str]]:
    """The 26 letter keys, QWERTY in both layouts."""
    return {getattr(e, f"KEY_{c.upper()}"): (c, c.upper()) for c in "abcdefghijklmnopqrstuvwxyz"}


def _digit_row(shifted: str) -> dict[int, tuple[str, str]]:
    """KEY_1..KEY_0 with the layout's shifted characters (in key order 1..9, 0)."""
    return {getattr(e, f"KEY_{d}"): (d, s) for d, s in zip("1234567890", shifted, strict=True)}


def _keypad(dot: str) -> dict[int, tuple[str, str]]:
    """Keypad keys; scanners send them with NumLock semantics, shift has no effect."""
    keys = {getattr(e, f"KEY_KP{d}"): (d, d) for d in "0123456789"}
    keys |= {
        e.KEY_KPASTERISK: ("*", "*"),
        e.KEY_KPMINUS: ("-", "-"),
        e.KEY_KPPLUS: ("+", "+"),
        e.KEY_KPSLASH: ("/", "/"),
        e.KEY_KPEQUAL: ("=", "="),
        e.KEY_KPDOT: (dot, dot),
        e.KEY_KPCOMMA: (",", ","),
    }
    return keys


US = KeyboardLayout(
    name="us",
    keys=_letters()
    | _digit_row("!@#$%^&*()")
    | _keypad(".")
    | {
        e.KEY_SPACE: (" ", " "),
        e.KEY_MINUS: ("-", "_"),
        e.KEY_EQUAL: ("=", "+"),
        e.KEY_LEFTBRACE: ("[", "{"),
        e.KEY_RIGHTBRACE: ("]", "}"),
        e.KEY_SEMICOLON: (";", ":"),
        e.KEY_APOSTROPHE: ("'", '"'),
        e.KEY_GRAVE: ("`", "~"),
        e.KEY_BACKSLASH: ("\\", "|"),
        e.KEY_102ND: ("\\", "|"),
        e.KEY_COMMA: (",", "<"),
        e.KEY_DOT: (".", ">"),
        e.KEY_SLASH: ("/", "?"),
    },
)

NORWEGIAN = KeyboardLayout(
    name="no",
    keys=_letters()
    | _digit_row('!"#¤%&/()=')
    | _keypad(",")
    | {
        e.KEY_SPACE: (" ", " "),
        e.KEY_MINUS: ("+", "?"),
        e.KEY_EQUAL: ("\\", "`"),
        e.KEY_LEFTBRACE: ("å", "Å"),
        e.KEY_RIGHTBRACE: ("¨", "^"),
        e.KEY_SEMICOLON: ("ø", "Ø"),
        e.KEY_APOSTROPHE: ("æ", "Æ"),
        e.KEY_GRAVE: ("|", "§"),
        e.KEY_BACKSLASH: ("'", "*"),
        e.KEY_102ND: ("<", ">"),
        e.KEY_COMMA: (",", ";"),
        e.KEY_DOT: (".", ":"),
        e.KEY_SLASH: ("-", "_"),
    },
    altgr={
        e.KEY_2: "@",
        e.KEY_3: "£",
        e.KEY_4: "$",
        e.KEY_5: "€",
        e.KEY_7: "{",
        e.KEY_8: "[",
        e.KEY_9: "]",
        e.KEY_0: "}",
        e.KEY_E: "€",
        e.KEY_EQUAL: "´",
        e.KEY_RIGHTBRACE: "~",
    },
    dead={"¨": "\u0308", "^": "\u0302", "`": "\u0300", "´": "\u0301", "~": "\u0303"},
)

#: Layouts by the names configuration uses.
LAYOUTS: Mapping[str, KeyboardLayout] = {"us": US, "no": NORWEGIAN, "nb": NORWEGIAN}

_SHIFT = frozenset({e.KEY_LEFTSHIFT, e.KEY_RIGHTSHIFT})
_ALTGR = e.KEY_RIGHTALT
#: Modifiers that turn a key into a command, not text: a character typed with one held is garbage.
_COMMAND_MODIFIERS = frozenset(
    {e.KEY_LEFTCTRL, e.KEY_RIGHTCTRL, e.KEY_LEFTALT, e.KEY_LEFTMETA, e.KEY_RIGHTMETA}
)
#: Lock keys carry no character and no state the scanner relies on.
_IGNORED = frozenset({e.KEY_CAPSLOCK, e.KEY_NUMLOCK, e.KEY_SCROLLLOCK})
_TERMINATORS = frozenset({e.KEY_ENTER, e.KEY_KPENTER})

_PRESS = 1


def layout_named(name: str) -> KeyboardLayout:
    """The layout for a configuration name (``us``, ``no`` or ``nb``)."""
    try:
        return LAYOUTS[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(LAYOUTS))
        raise ValueError(f"unknown keyboard layout {name!r}; known: {known}") from None


class ScanDecoder:
    """Turns a stream of evdev key events into scans, one event at a time.

    Acts on key presses (value 1) only; releases (0) matter just for modifiers and
    auto-repeats (2) are ignored. ``KEY_ENTER``/``KEY_KPENTER`` end a scan; an empty
    scan is dropped. A key the layout does not know becomes ``replacement``, so a
    garbled scan is visibly garbled and never silently shortened. Input longer than
    ``max_length`` is flushed once as a garbage scan and the rest discarded up to the
    next terminator.
    """

    def __init__(
        self,
        layout: KeyboardLayout | str = US,
        *,
        max_length: int = DEFAULT_MAX_LENGTH,
        replacement: str = REPLACEMENT,
    ) -> None:
        self.layout = layout_named(layout) if isinstance(layout, str) else layout
        self.replacement = replacement
        self._buffer = ScanBuffer(max_length=max_length, replacement=replacement)
        self._held: set[int] = set()
        self._dead: str | None = None

    @property
    def pending(self) -> str:
        """Text read since the last terminator."""
        return self._buffer.text + (self._dead or "")

    def reset(self) -> str:
        """Forget the partial scan and held modifiers (on disconnect); return the dropped text."""
        dropped = self.pending
        self._buffer.clear()
        self._held.clear()
        self._dead = None
        return dropped

    def feed(self, event: KeyEventLike, at: float | None = None) -> Scan | None:
        """Process one event; return a scan when it completes one.

        ``at`` stamps the scan (e.g. the caller's ``time.monotonic()``); without it the
        event's own timestamp is used.
        """
        if event.type != e.EV_KEY:
            return None
        code, value = event.code, event.value
        if code in _SHIFT or code in _COMMAND_MODIFIERS or code == _ALTGR:
            if value == _PRESS:
                self._held.add(code)
            elif value == 0:
                self._held.discard(code)
            return None
        if value != _PRESS or code in _IGNORED:
            return None
        when = event.timestamp() if at is None else at
        if code in _TERMINATORS:
            pending_dead, self._dead = self._dead, None
            if pending_dead is not None:
                overflow = self._buffer.add(pending_dead, when)
                if overflow is not None:
                    self._buffer.terminate(when)
                    return overflow
            return self._buffer.terminate(when)
        return self._buffer.add(self._compose(self._char_for(code)), when)

    def feed_all(self, events: Iterable[KeyEventLike], at: float | None = None) -> list[Scan]:
        """Process a batch of events; return the scans it completed, in order."""
        scans = []
        for event in events:
            scan = self.feed(event, at)
            if scan is not None:
                scans.append(scan)
        return scans

    def _char_for(self, code: int) -> str:
        """The character a key press gives under the held modifiers."""
        if self._held & _COMMAND_MODIFIERS:
            return self.replacement
        layout = self.layout
        if _ALTGR in self._held:
            return layout.altgr.get(code, self.replacement)
        pair = layout.keys.get(code)
        if pair is None:
            return self.replacement
        return pair[1] if self._held & _SHIFT else pair[0]

    def _compose(self, char: str) -> str:
        """Apply a pending dead key to ``char``; return the text to append (maybe empty)."""
        dead, self._dead = self._dead, None
        if dead is None:
            if char in self.layout.dead:
                self._dead = char
                return ""
            return char
        if char == " ":
            return dead
        composed = unicodedata.normalize("NFC", char + self.layout.dead[dead])
        if len(composed) == 1:
            return composed
        # No precomposed character: keep both, and let a second dead key start anew.
        if char in self.layout.dead:
            self._dead = char
            return dead
        return dead + char
