"""The platform probe of the image's self-test, on this machine: the time zone check
reads the link it is given, the clock source comes from the clock rules, and without
lgpio the GPIO check fails with the reason (the image boot test runs it with lgpio)."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from valgkiosk import platform_probe as pp


def test_timezone_check_reads_the_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    zone = tmp_path / "zoneinfo" / "Europe" / "Oslo"
    zone.parent.mkdir(parents=True)
    zone.write_bytes(Path("/usr/share/zoneinfo/Europe/Oslo").read_bytes())
    link = tmp_path / "localtime"
    link.symlink_to(zone)
    monkeypatch.setenv("TZ", "Europe/Oslo")
    time.tzset()
    try:
        ok, detail = pp.check_timezone(link)
    finally:
        monkeypatch.undo()
        time.tzset()
    assert ok and detail.endswith(("zone=CET", "zone=CEST"))
    (tmp_path / "utc").symlink_to(tmp_path / "zoneinfo" / "UTC")
    assert pp.check_timezone(tmp_path / "utc")[0] is False


@pytest.mark.parametrize(("ntp", "words"), [(lambda: True, "source=ntp synchronized=yes"),
                                            (lambda: None, "synchronized=")])
def test_clock_source_line(ntp: object, words: str) -> None:
    ok, detail = pp.check_clock_source(ntp)  # type: ignore[arg-type]
    assert ok and words in detail


@pytest.mark.skipif(importlib.util.find_spec("lgpio") is not None, reason="lgpio is installed here")
def test_gpio_without_lgpio_fails_with_the_reason() -> None:
    ok, detail = pp.check_gpio()
    assert not ok and detail.startswith("import failed")


def test_main_prints_one_check_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    pp.main()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["lgpio-gpiochip", "clock-source", "timezone-oslo"]
    assert all(line.split()[2] in ("ok", "FAIL") for line in lines)
