"""The text buffer the scanner decoders share: one scan at a time, capped against runaway input."""

from __future__ import annotations

from valgkiosk.ports.scanner import Scan

#: Stands in for anything that could not be decoded, so a garbled scan is visibly garbled.
REPLACEMENT = "\ufffd"

#: Longest scan accepted; a valgkort carries 12 digits, so this leaves ample room.
DEFAULT_MAX_LENGTH = 64


class ScanBuffer:
    """Characters of the scan in progress, capped at ``max_length``.

    Past the cap the buffer is flushed once as a garbage scan (the first ``max_length``
    characters plus a replacement character) and further input is discarded up to the
    next terminator, so a stuck key yields one visible error instead of a flood.
    """

    def __init__(
        self, *, max_length: int = DEFAULT_MAX_LENGTH, replacement: str = REPLACEMENT
    ) -> None:
        if max_length < 1:
            raise ValueError("max_length must be at least 1")
        self.max_length = max_length
        self.replacement = replacement
        self._chars: list[str] = []
        self._discarding = False

    @property
    def text(self) -> str:
        """The text collected so far (not yet terminated)."""
        return "".join(self._chars)

    @property
    def discarding(self) -> bool:
        """True after an overflow, until the next terminator."""
        return self._discarding

    def add(self, chars: str, at: float) -> Scan | None:
        """Append decoded characters; return a garbage scan if this overflows the cap."""
        if self._discarding:
            return None
        self._chars.extend(chars)
        if len(self._chars) <= self.max_length:
            return None
        text = "".join(self._chars[: self.max_length]) + self.replacement
        self._chars.clear()
        self._discarding = True
        return Scan(text, at)

    def terminate(self, at: float) -> Scan | None:
        """End the scan at a terminator; return it, or None if empty or already flushed."""
        if self._discarding:
            self._discarding = False
            return None
        if not self._chars:
            return None
        text = "".join(self._chars)
        self._chars.clear()
        return Scan(text, at)

    def clear(self) -> str:
        """Drop any partial scan (e.g. on disconnect) and return what was dropped."""
        text = "".join(self._chars)
        self._chars.clear()
        self._discarding = False
        return text
