"""Debian's headless Chromium driven by Selenium through Debian's chromium-driver.

Nothing is downloaded: the driver and the browser are the packages scripts/test
installs (the same Chromium build, so their versions always match), and Selenium
Manager is told to stay offline.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ROOT = Path(__file__).resolve().parents[2]


def screenshot_dir(section: str) -> Path:
    """Where a browser test saves its screenshots: build/screenshots/<section> (ignored),
    or docs/<section> when VALGKIOSK_UPDATE_DOCS=1 asks to refresh the documentation's
    pictures (a plain test run must not rewrite tracked files)."""
    if os.environ.get("VALGKIOSK_UPDATE_DOCS") == "1":
        folder = ROOT / "docs" / section
    else:
        folder = ROOT / "build" / "screenshots" / section
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def require_chromium() -> None:
    """Skip (fail in CI) when Debian's chromium or chromium-driver is missing."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    if missing:
        message = f"Debian's chromium and chromium-driver are needed (missing: {', '.join(missing)}); scripts/test installs them"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@contextmanager
def chromium(width: int = 1280, height: int = 900) -> Iterator["object"]:
    """A headless Chromium window of the given size (a selenium WebDriver); under 500 px
    wide it is a phone's screen (device emulation)."""
    require_chromium()
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--lang=nb-NO", "--no-first-run", "--disable-extensions", "--force-device-scale-factor=1",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    if width < 500:  # a headless window is at least 500 px wide: emulate a phone's screen
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": True})
    try:
        yield driver
    finally:
        driver.quit()
