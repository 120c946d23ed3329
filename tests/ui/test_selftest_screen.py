"""The self-test screen driven with Textual's pilot: the operator scans when asked,
answers the lamp test with J or N, reads the result and leaves with Enter; the app's
return code is the exit code. Snapshots of the screen asking for a scan, asking about
the lamps, passed and failed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Static

from selftest_bench import VALID, Bench, bench
from valgkiosk import selftest as st
from valgkiosk.core.outage import Layer
from valgkiosk.drivers.clocksync import ClockSync
from valgkiosk.ui.selftest import SelftestApp
from valgkiosk.ui.testing import SIZE

pytestmark = pytest.mark.timeout(30)


def make_app(b: Bench) -> SelftestApp:
    """The self-test app over the bench's kit; S scans a valid card, as in sim mode."""
    b.kit.timings = st.SelftestTimings(scanner_found=2, scan=30, answer=30, printer=5, network=5, register=5)

    def make_kit(operator: st.Operator) -> st.SelftestKit:
        b.kit.operator = operator
        return b.kit

    return SelftestApp(make_kit, sim_scan=lambda: b.scanner.scan(VALID))


async def until(pilot: Pilot[Any], predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not predicate():
        assert loop.time() < deadline, "timed out: " + text(pilot.app)  # type: ignore[arg-type]
        await asyncio.sleep(0.02)
        await pilot.pause()


def text(app: SelftestApp) -> str:
    """Every Static's content on the self-test screen, in order (the compositor's strips
    lag behind rows mounted while the checks run)."""
    return " ".join(" ".join(str(w.render()) for w in app.screen.query(Static)).split())


async def to_scan_prompt(pilot: Pilot[Any]) -> None:
    await until(pilot, lambda: "Skann et valgkort" in text(pilot.app))  # type: ignore[arg-type]


async def to_lamp_question(pilot: Pilot[Any]) -> None:
    await to_scan_prompt(pilot)
    await pilot.press("s")
    await until(pilot, lambda: "J = ja, N = nei" in text(pilot.app))  # type: ignore[arg-type]


def answering(key: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def steps(pilot: Pilot[Any]) -> None:
        await to_lamp_question(pilot)
        await pilot.press(key)
        await until(pilot, lambda: pilot.app.done)  # type: ignore[attr-defined]

    return steps


def test_the_operator_scans_confirms_the_lamps_and_leaves_with_exit_code_0(tmp_path: Path) -> None:
    b = bench(tmp_path)
    app = make_app(b)

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await to_lamp_question(pilot)
            await pilot.press("enter")  # not done yet: Enter does nothing
            await pilot.pause()
            assert app.is_running
            await pilot.press("j")
            await until(pilot, lambda: app.done)
            shown = text(app)
            assert "BESTÅTT: alle påkrevde sjekker er i orden" in shown and "FEIL" not in shown
            assert app.screen.query_one("#check-lamps .selftest-verdict").has_class("-ok")
            await pilot.press("ctrl+c", "ctrl+q")  # locked
            await pilot.pause()
            assert app.is_running
            await pilot.press("enter")
            await pilot.pause()

    asyncio.run(main())
    assert app.return_code == 0
    assert [r.key for r in app.results][-2:] == ["summary", "loggbok"]
    assert [e.kind for e in b.journal.entries()] == ["selftest"]


def test_n_fails_the_lamp_test_and_the_exit_code(tmp_path: Path) -> None:
    b = bench(tmp_path)
    app = make_app(b)

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await answering("n")(pilot)
            assert "IKKE BESTÅTT: 1 sjekk feilet" in text(app)
            assert app.screen.query_one("#check-lamps .selftest-verdict").has_class("-bad")
            await pilot.press("enter")
            await pilot.pause()

    asyncio.run(main())
    assert app.return_code == 1



def test_a_capital_j_answers_too(tmp_path: Path) -> None:
    """With Shift or Caps Lock on, J is still yes."""
    b = bench(tmp_path)
    app = make_app(b)

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await answering("J")(pilot)
            assert "BESTÅTT: alle påkrevde sjekker er i orden" in text(app)
            await pilot.press("enter")
            await pilot.pause()

    asyncio.run(main())
    assert app.return_code == 0


def test_on_the_table_it_tells_systemd_it_is_ready_and_alive(tmp_path: Path) -> None:
    """In the kiosk's unit (Type=notify, WatchdogSec) the self-test says READY once its
    screen is up and pets the watchdog while it waits for the operator: the datagrams on
    a real notify socket, as systemd would read them."""
    import os
    import socket

    from valgkiosk.service import ServiceNotifier

    path = tmp_path / "notify.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(5)
    env = {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "200000", "WATCHDOG_PID": str(os.getpid())}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # sdnotify reads the socket's address from the environment
    try:
        b = bench(tmp_path)
        b.kit.timings = st.SelftestTimings(scanner_found=2, scan=30, answer=30, printer=5, network=5, register=5)

        def make_kit(operator: st.Operator) -> st.SelftestKit:
            b.kit.operator = operator
            return b.kit

        app = SelftestApp(make_kit, sim_scan=lambda: b.scanner.scan(VALID), service=ServiceNotifier(env))

        async def main() -> None:
            async with app.run_test(size=SIZE) as pilot:
                await to_scan_prompt(pilot)
                await asyncio.sleep(0.5)  # waiting for the operator: the watchdog is petted meanwhile
                await pilot.pause()

        asyncio.run(main())
        got = []
        server.settimeout(0.5)
        try:
            while True:
                got.append(server.recv(4096).decode())
        except TimeoutError:
            pass
    finally:
        server.close()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert got and got[0].startswith("READY=1"), got
    assert got.count("WATCHDOG=1") >= 2, got


def test_a_bug_in_a_check_is_a_failed_self_test_not_a_traceback(tmp_path: Path) -> None:
    b = bench(tmp_path)

    async def broken(kit: st.SelftestKit) -> st.CheckResult:
        raise RuntimeError("bug")

    app = make_app(b)
    app.checks = (st.check_config, broken)

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.done)
            assert "Uventet feil i selvtesten" in text(app) and "IKKE BESTÅTT" in text(app)
            await pilot.press("enter")
            await pilot.pause()

    asyncio.run(main())
    assert app.return_code == 1


@pytest.mark.parametrize(
    ("name", "setup", "steps"),
    [
        pytest.param("asks_for_a_scan", None, to_scan_prompt, id="asks_for_a_scan"),
        pytest.param("asks_about_the_lamps", None, to_lamp_question, id="asks_about_the_lamps"),
        pytest.param("passed", None, answering("j"), id="passed"),
        pytest.param("failed", "faults", answering("j"), id="failed"),
    ],
)
def test_selftest_screen(
    tmp_path: Path, snap_compare: Any, name: str, setup: str | None, steps: Callable[[Pilot[Any]], Awaitable[None]]
) -> None:
    b = bench(tmp_path, clock=ClockSync(False) if setup else ClockSync(True, 0.0004, 0.012))
    if setup:
        b.net.fail_layer(Layer.GATEWAY)
        b.box.cut_router()
    assert snap_compare(make_app(b), terminal_size=SIZE, run_before=steps)
