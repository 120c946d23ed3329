"""Øvingsmodus in a real browser: `valgkiosk train-serve` (textual-serve) on loopback, and
Debian's headless Chromium through Selenium. A trainee opens the page, picks a nickname,
types a scan, sees the verdict and finishes a drill; a second tab is a kiosk of its own
(its own training register); the course leader's page lists both by nickname. Every
asset comes from the server. Screenshots go to build/screenshots/training/
(docs/training/ with VALGKIOSK_UPDATE_DOCS=1).

The terminal is drawn on a canvas (xterm.js), so the test reads what the server sent to
the page: a script added before the page loads keeps the WebSocket's bytes, and the text
is taken from them with the escape sequences removed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.kiosk.kiosk_servers import free_port
from valgkiosk.training.register import voters

from .chromium import chromium, screenshot_dir

pytestmark = [pytest.mark.timeout(240)]

DOCS = screenshot_dir("training")
KEEP_BYTES = """
(() => {
  window.__vk = {text: [], urls: []};
  const decoder = new TextDecoder();
  const Original = window.WebSocket;
  window.WebSocket = function (url, protocols) {
    const socket = protocols ? new Original(url, protocols) : new Original(url);
    socket.addEventListener("message", (event) => {
      if (event.data instanceof ArrayBuffer) window.__vk.text.push(decoder.decode(event.data, {stream: true}));
      else if (event.data instanceof Blob) event.data.arrayBuffer().then((b) => window.__vk.text.push(decoder.decode(b)));
    });
    return socket;
  };
  window.WebSocket.prototype = Original.prototype;
  Object.assign(window.WebSocket, Original);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__vk.urls.push(e.name);
  }).observe({type: "resource", buffered: true});
})();
"""
ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\x1b\][^\x07]*\x07")


@pytest.fixture(scope="module")
def course() -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "valgkiosk", "train-serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/kursleder", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None, "valgkiosk train-serve exited"
            assert time.monotonic() < deadline, "valgkiosk train-serve did not start"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()


def screen(driver: Any) -> str:
    """Everything the server has drawn in this tab so far, as text."""
    raw = "".join(driver.execute_script("return window.__vk.text"))
    return " ".join(ANSI.sub(" ", raw).split())


def wait_for(driver: Any, check: Callable[[], bool], what: str, timeout: float = 90) -> None:
    end = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, f"timed out waiting for {what}: ...{screen(driver)[-1500:]}"
        time.sleep(0.2)


def seen_after(driver: Any, mark: int, words: str) -> bool:
    return words in screen(driver)[mark:]


def keys(driver: Any, *sequence: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    chain = ActionChains(driver)
    for key in sequence:
        chain.send_keys(key).pause(0.15)
    chain.perform()


def open_session(driver: Any, url: str, nickname: str) -> None:
    """Open the training page in this tab and pick a nickname."""
    from selenium.webdriver.common.by import By

    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": KEEP_BYTES})
    driver.get(url + "/")
    wait_for(driver, lambda: "kallenavn" in screen(driver).lower(), "the nickname prompt")
    driver.find_element(By.CSS_SELECTOR, "#terminal").click()
    keys(driver, nickname, "\ue007")  # Enter
    wait_for(driver, lambda: "ØVELSE 1 av 10" in screen(driver), "the first drill")


def test_a_course_in_the_browser(course: str) -> None:
    from selenium.webdriver.common.keys import Keys

    card = voters()["ready"].manntallsnummer
    assert card is not None
    with chromium(1280, 900) as driver:
        open_session(driver, course, "Ugla")
        first_tab = driver.current_window_handle
        # every asset the page loaded came from the course server itself
        urls = driver.execute_script("return window.__vk.urls")
        assert urls and all(u.startswith(course) or u.startswith("ws://127.0.0.1") for u in urls), urls
        # ask for the ID (the drill's panel: F12, then l), type the valgkort's number as a scan
        keys(driver, Keys.F12, "l")
        wait_for(driver, lambda: "Legitimasjon (førerkort)" in screen(driver), "the ID on the voter's card")
        mark = len(screen(driver))
        keys(driver, *card, Keys.ENTER)
        wait_for(driver, lambda: seen_after(driver, mark, "Stemmer det med legitimasjonen"), "the confirm screen")
        mark = len(screen(driver))
        keys(driver, Keys.ENTER)
        wait_for(driver, lambda: seen_after(driver, mark, "KRYSSET AV"), "the verdict")
        driver.save_screenshot(str(DOCS / "browser-verdict.png"))
        keys(driver, Keys.F12, "k")  # ask the second worker to stamp: the drill is done
        wait_for(driver, lambda: "full score!" in screen(driver), "the drill's result")
        driver.save_screenshot(str(DOCS / "browser-result.png"))

        # a second tab: a kiosk of its own, whose register has not seen the first tab's check-off
        driver.switch_to.new_window("tab")
        open_session(driver, course, "Reven")
        mark = len(screen(driver))
        keys(driver, *card, Keys.ENTER)
        wait_for(driver, lambda: seen_after(driver, mark, "Stemmer det med legitimasjonen"), "the second tab's verdict")
        assert "HAR STEMT FØR" not in screen(driver)
        assert "full score!" not in screen(driver)

        # the course leader's page: both trainees by nickname, their own progress, no personal data
        driver.switch_to.new_window("tab")
        driver.get(course + "/kursleder")
        wait_for(driver, lambda: "Reven" in driver.page_source and "Ugla" in driver.page_source, "the trainees")
        rows = {r.split()[0]: r for r in driver.execute_script(
            "return [...document.querySelectorAll('#trainees tbody tr')].map(r => r.innerText)")}
        assert "4 av 4" in rows["Ugla"] and "Vanlig avkrysning: 4/4 ✔" in rows["Ugla"]
        assert "1 av 10" in rows["Reven"] and "4 av 4" not in rows["Reven"]
        page = driver.page_source
        assert "Kari" not in page and card not in page
        driver.save_screenshot(str(DOCS / "course-leader.png"))
        driver.switch_to.window(first_tab)
        assert "full score!" in screen(driver)  # the first tab kept its own state
