"""The evdev key-event decoder: layouts, keypad, shift, repeats, terminators, garbage."""

from __future__ import annotations

import pytest
from evdev import InputEvent, ecodes as e

from valgkiosk.drivers.scanner.keymap import NORWEGIAN, US, ScanDecoder, layout_named
from valgkiosk.ports.scanner import Scan

R = "\ufffd"
SEC = 1_700_000_000


def key(code: int, value: int = 1, usec: int = 0) -> InputEvent:
    return InputEvent(SEC, usec, e.EV_KEY, code, value)


def syn() -> InputEvent:
    return InputEvent(SEC, 0, e.EV_SYN, e.SYN_REPORT, 0)


def tap(code: int, *, shift: int | None = None, altgr: bool = False) -> list[InputEvent]:
    """Press and release a key the way a scanner does, with SYN and MSC noise in between."""
    events: list[InputEvent] = []
    if shift is not None:
        events += [key(shift, 1), syn()]
    if altgr:
        events += [key(e.KEY_RIGHTALT, 1), syn()]
    events += [InputEvent(SEC, 0, e.EV_MSC, e.MSC_SCAN, 0x7001E), key(code, 1), syn()]
    events += [key(code, 0), syn()]
    if altgr:
        events += [key(e.KEY_RIGHTALT, 0), syn()]
    if shift is not None:
        events += [key(shift, 0), syn()]
    return events


def digits(text: str, *, keypad: bool = False) -> list[InputEvent]:
    prefix = "KEY_KP" if keypad else "KEY_"
    return [ev for d in text for ev in tap(getattr(e, prefix + d))]


ENTER = tap(e.KEY_ENTER)


def decode(events: list[InputEvent], layout: str = "us", **kwargs: object) -> list[str]:
    return [scan.text for scan in ScanDecoder(layout, **kwargs).feed_all(events)]


@pytest.mark.parametrize("layout", ["us", "no"])
def test_a_valgkort_decodes_in_both_layouts(layout: str) -> None:
    assert decode(digits("123456789080") + ENTER, layout) == ["123456789080"]


def test_keypad_digits_and_kp_enter() -> None:
    assert decode(digits("000001234582", keypad=True) + tap(e.KEY_KPENTER)) == ["000001234582"]


def test_two_scans_back_to_back_in_one_batch() -> None:
    batch = digits("123456789080") + ENTER + digits("000000012344") + tap(e.KEY_KPENTER)
    assert decode(batch) == ["123456789080", "000000012344"]


def test_auto_repeat_is_ignored() -> None:
    events = [key(e.KEY_1), key(e.KEY_1, 2), key(e.KEY_1, 2), key(e.KEY_1, 0), *digits("2"), *ENTER]
    assert decode(events) == ["12"]


def test_release_alone_types_nothing() -> None:
    assert decode([key(e.KEY_5, 0), key(e.KEY_6), key(e.KEY_6, 0)] + ENTER) == ["6"]


def test_enter_repeat_or_release_does_not_end_a_scan() -> None:
    events = digits("12") + [key(e.KEY_ENTER, 2), key(e.KEY_ENTER, 0)] + digits("3") + ENTER
    assert decode(events) == ["123"]


def test_empty_scan_is_dropped() -> None:
    assert decode(ENTER + ENTER + digits("7") + ENTER) == ["7"]


@pytest.mark.parametrize("shift", [e.KEY_LEFTSHIFT, e.KEY_RIGHTSHIFT])
def test_either_shift_gives_capitals_until_released(shift: int) -> None:
    events = tap(e.KEY_A, shift=shift) + tap(e.KEY_B) + ENTER
    assert decode(events) == ["Ab"]


def test_shift_is_held_until_both_shifts_are_released() -> None:
    events = [
        key(e.KEY_LEFTSHIFT),
        key(e.KEY_RIGHTSHIFT),
        key(e.KEY_LEFTSHIFT, 0),
        *tap(e.KEY_A),  # right shift still down
        key(e.KEY_RIGHTSHIFT, 2),  # a repeating shift stays down
        *tap(e.KEY_B),
        key(e.KEY_RIGHTSHIFT, 0),
        *tap(e.KEY_C),
        *ENTER,
    ]
    assert decode(events) == ["ABc"]


@pytest.mark.parametrize(
    ("events", "us", "no"),
    [
        (tap(e.KEY_SLASH), "/", "-"),
        (tap(e.KEY_MINUS), "-", "+"),
        (tap(e.KEY_7, shift=e.KEY_LEFTSHIFT), "&", "/"),
        (tap(e.KEY_SEMICOLON), ";", "ø"),
        (tap(e.KEY_APOSTROPHE), "'", "æ"),
        (tap(e.KEY_LEFTBRACE), "[", "å"),
        (tap(e.KEY_LEFTBRACE, shift=e.KEY_RIGHTSHIFT), "{", "Å"),
        (tap(e.KEY_2, shift=e.KEY_LEFTSHIFT), "@", '"'),
        (tap(e.KEY_0, shift=e.KEY_LEFTSHIFT), ")", "="),
        (tap(e.KEY_SLASH, shift=e.KEY_LEFTSHIFT), "?", "_"),
        (tap(e.KEY_KPDOT), ".", ","),
        (tap(e.KEY_SPACE), " ", " "),
    ],
)
def test_layout_specific_keys(events: list[InputEvent], us: str, no: str) -> None:
    events = tap(e.KEY_X) + events + ENTER
    assert decode(events, "us") == ["x" + us]
    assert decode(events, "no") == ["x" + no]


def test_norwegian_altgr_and_dead_keys() -> None:
    events = (
        tap(e.KEY_2, altgr=True)  # @
        + tap(e.KEY_RIGHTBRACE, shift=e.KEY_LEFTSHIFT)  # dead ^
        + tap(e.KEY_E)  # -> ê
        + tap(e.KEY_RIGHTBRACE)  # dead ¨
        + tap(e.KEY_SPACE)  # -> ¨ itself
        + ENTER
    )
    assert decode(events, "no") == ["@ê¨"]
    # A dead key before a key it cannot combine with, or before Enter, is kept as typed.
    assert decode(tap(e.KEY_RIGHTBRACE) + tap(e.KEY_1) + tap(e.KEY_RIGHTBRACE) + ENTER, "no") == ["¨1¨"]


def test_unknown_keys_are_visible_not_dropped() -> None:
    events = digits("12") + tap(e.KEY_F5) + tap(e.KEY_TAB) + digits("3") + ENTER
    assert decode(events) == [f"12{R}{R}3"]


def test_ctrl_chord_is_garbage_but_lock_keys_are_ignored() -> None:
    events = tap(e.KEY_C, shift=e.KEY_LEFTCTRL) + tap(e.KEY_NUMLOCK) + digits("4") + ENTER
    assert decode(events) == [f"{R}4"]


def test_custom_replacement_character() -> None:
    assert decode(tap(e.KEY_F1) + ENTER, replacement="?") == ["?"]


def test_runaway_input_is_flushed_once_as_garbage_then_discarded_to_enter() -> None:
    events = digits("1234567890" * 3) + ENTER + digits("42") + ENTER
    assert decode(events, max_length=8) == [f"12345678{R}", "42"]


def test_input_exactly_at_the_cap_is_a_normal_scan() -> None:
    assert decode(digits("12345678") + ENTER, max_length=8) == ["12345678"]


def test_scan_is_stamped_with_the_terminators_time_or_the_callers() -> None:
    events = [key(e.KEY_1, usec=100), key(e.KEY_ENTER, usec=250_000)]
    assert ScanDecoder().feed_all(events) == [Scan("1", SEC + 0.25)]
    assert ScanDecoder().feed_all(events, at=42.0) == [Scan("1", 42.0)]


def test_feed_returns_the_scan_on_the_terminator_only() -> None:
    decoder = ScanDecoder()
    assert [decoder.feed(ev, at=1.0) for ev in [key(e.KEY_9), key(e.KEY_9, 0)]] == [None, None]
    assert decoder.pending == "9"
    assert decoder.feed(key(e.KEY_KPENTER), at=2.0) == Scan("9", 2.0)
    assert decoder.pending == ""


def test_reset_drops_partial_scan_and_held_shift() -> None:
    decoder = ScanDecoder()
    decoder.feed_all([key(e.KEY_LEFTSHIFT), key(e.KEY_A)])
    assert decoder.reset() == "A"
    assert decoder.feed_all(tap(e.KEY_A) + ENTER, at=0.0) == [Scan("a", 0.0)]


def test_layout_names() -> None:
    assert layout_named("US") is US
    assert layout_named("no") is layout_named("nb") is NORWEGIAN
    with pytest.raises(ValueError, match="unknown keyboard layout"):
        layout_named("de")
