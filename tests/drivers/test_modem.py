"""The modem driver against a fake modem on a real pty, and the pure AT-answer parsers.

The driver opens a symlink to the pty's slave, as it would ``/dev/serial/by-id/...``.
The fake echoes commands until ``ATE0``, as modems do. Closing the master and removing
the link is an unplug.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from fake_modem import GOOD, SILENT, UNPLUG, FakeModem, ok
from valgkiosk.drivers.modem import (
    Modem,
    ModemState,
    Registration,
    parse_csq,
    parse_registration,
    signal_dbm,
)

pytestmark = pytest.mark.timeout(10)

TIMEOUT = 0.3
@pytest.fixture
def link(tmp_path: Path) -> Path:
    return tmp_path / "modem"


@pytest.fixture
def fake(link: Path) -> Iterator[FakeModem]:
    modem = FakeModem(link, GOOD)
    modem.plug()
    yield modem
    modem.unplug()


def read(link: Path) -> tuple[object, float]:
    """One reading and how long it took."""
    start = time.monotonic()
    status = Modem(str(link), timeout=TIMEOUT).read_status()
    return status, time.monotonic() - start


# -- against the fake --------------------------------------------------------------------


def test_good_answers(fake: FakeModem, link: Path) -> None:
    status, _ = read(link)
    assert status.state is ModemState.OK  # type: ignore[attr-defined]
    assert status.signal_dbm == -71  # type: ignore[attr-defined]
    assert status.registration is Registration.HOME  # type: ignore[attr-defined]
    assert status.registered  # type: ignore[attr-defined]
    assert status.detail == "Registrert i mobilnettet, signal -71 dBm (godt)."  # type: ignore[attr-defined]
    assert fake.received == ["ATE0", "AT+CSQ", "AT+CREG?", "AT+CEREG?"]


REPLIES = [
    pytest.param({"AT+CREG?": ok("+CREG: 0,0"), "AT+CEREG?": ok("+CEREG: 0,5")}, -71, Registration.ROAMING, id="lte roaming"),
    pytest.param({"AT+CREG?": "\r\nERROR\r\n"}, -71, Registration.HOME, id="no CS: CREG error"),
    pytest.param({"AT+CEREG?": "\r\nERROR\r\n", "AT+CREG?": ok("+CREG: 2,5,\"1A2B\",\"01C3D4\",7")}, -71,
                 Registration.ROAMING, id="2G/3G modem, n=2"),  # fmt: skip
    pytest.param({"AT+CREG?": ok("+CREG: 0,2"), "AT+CEREG?": ok("+CEREG: 0,2")}, -71, Registration.SEARCHING, id="searching"),
    pytest.param({"AT+CREG?": ok("+CREG: 0,3"), "AT+CEREG?": ok("+CEREG: 0,3")}, -71, Registration.DENIED, id="denied"),
    pytest.param({"AT+CREG?": ok("+CREG: 0,0"), "AT+CEREG?": ok("+CEREG: 0,0")}, -71, Registration.NOT_REGISTERED,
                 id="not registered"),  # fmt: skip
    pytest.param({"AT+CSQ": ok("+CSQ: 99,99")}, None, Registration.HOME, id="signal unknown"),
    pytest.param({"AT+CSQ": "\r\n+CME ERROR: 100\r\n"}, None, Registration.HOME, id="CSQ answers CME ERROR"),
    pytest.param({"AT+CREG?": ok("+CREG: 2", "+CREG: 0,5"), "AT+CEREG?": "\r\nERROR\r\n"}, -71, Registration.ROAMING,
                 id="unsolicited code in between"),  # fmt: skip
    pytest.param({"ATE0": "\r\nERROR\r\n"}, -71, Registration.HOME, id="refuses ATE0, keeps echoing"),
]


@pytest.mark.parametrize(("replies", "dbm", "registration"), REPLIES)
def test_other_answers(link: Path, replies: dict[str, object], dbm: int | None, registration: Registration) -> None:
    modem = FakeModem(link, GOOD | replies)
    modem.plug()
    try:
        status, _ = read(link)
    finally:
        modem.unplug()
    assert (status.state, status.signal_dbm, status.registration) == (ModemState.OK, dbm, registration)  # type: ignore[attr-defined]
    if dbm is None:
        assert "signal ukjent" in status.detail  # type: ignore[attr-defined]


def test_error_to_everything(link: Path) -> None:
    modem = FakeModem(link, {})  # ERROR to every command
    modem.plug()
    try:
        status, _ = read(link)
    finally:
        modem.unplug()
    assert status.state is ModemState.ERROR  # type: ignore[attr-defined]
    assert status.registration is Registration.UNKNOWN and status.signal_dbm is None  # type: ignore[attr-defined]
    assert "ERROR" in status.detail and not status.registered  # type: ignore[attr-defined]


@pytest.mark.parametrize("silent", ["ATE0", "AT+CREG?"])
def test_silence_is_busy_within_the_time_limit(link: Path, silent: str) -> None:
    modem = FakeModem(link, GOOD | {silent: SILENT})
    modem.plug()
    try:
        status, elapsed = read(link)
    finally:
        modem.unplug()
    assert status.state is ModemState.BUSY  # type: ignore[attr-defined]
    assert status.detail == "Modemet svarer ikke (opptatt eller hengt seg opp)."  # type: ignore[attr-defined]
    assert TIMEOUT * 0.9 <= elapsed < 4 * TIMEOUT + 0.5


def test_unplugged_before_reading(link: Path) -> None:
    status, elapsed = read(link)
    assert status.state is ModemState.ABSENT  # type: ignore[attr-defined]
    assert status.detail == f"Finner ikke modemet på {link} (koblet fra?)."  # type: ignore[attr-defined]
    assert elapsed < 1


def test_unplugged_while_reading_then_replugged(link: Path) -> None:
    modem = FakeModem(link, GOOD | {"AT+CSQ": UNPLUG})
    modem.plug()
    try:
        status, elapsed = read(link)
        assert status.state is ModemState.ABSENT  # type: ignore[attr-defined]
        assert status.detail == "Modemet ble koblet fra."  # type: ignore[attr-defined]
        assert elapsed < 4 * TIMEOUT + 0.5
        modem.unplug()
        modem.replies = GOOD
        modem.plug()
        status, _ = read(link)
        assert status.state is ModemState.OK and status.registered  # type: ignore[attr-defined]
    finally:
        modem.unplug()


def test_port_held_by_another_program(fake: FakeModem, link: Path) -> None:
    holder = serial.Serial(str(link), exclusive=True)
    try:
        status, _ = read(link)
    finally:
        holder.close()
    assert status.state is ModemState.BUSY  # type: ignore[attr-defined]
    assert "i bruk av et annet program" in status.detail  # type: ignore[attr-defined]
    assert fake.received == []


def test_a_bug_in_the_driver_does_not_raise(link: Path) -> None:
    def broken() -> serial.Serial:
        raise KeyError("oops")

    status = Modem(str(link), timeout=TIMEOUT, open_port=broken).read_status()
    assert status.state is ModemState.ERROR and "Uventet feil" in status.detail


def test_async_reading_runs_off_the_loop(fake: FakeModem, link: Path) -> None:
    modem = Modem(str(link), timeout=TIMEOUT)

    async def scenario() -> tuple[object, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.001)
                ticks += 1

        task = asyncio.create_task(ticker())
        fake.replies["AT+CEREG?"] = SILENT  # the reading takes a full timeout
        status = await modem.read_status_async()
        task.cancel()
        return status, ticks

    status, ticks = asyncio.run(asyncio.wait_for(scenario(), 5))
    assert status.state is ModemState.BUSY  # type: ignore[attr-defined]
    assert ticks > 10  # the loop kept running while the modem was asked


def test_timeout_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Modem("/dev/null", timeout=0)


# -- parsers -----------------------------------------------------------------------------


@pytest.mark.parametrize(("rssi", "dbm"), [(0, -113), (1, -111), (21, -71), (31, -51), (32, None), (99, None)])
def test_signal_dbm(rssi: int, dbm: int | None) -> None:
    assert signal_dbm(rssi) == dbm


@pytest.mark.parametrize(
    ("lines", "dbm"),
    [(["+CSQ: 15,0"], -83), (["+CSQ: 99,99"], None), ([], None), (["+CSQ: x,0"], None), (["junk", "+CSQ:31,99"], -51)],
)
def test_parse_csq(lines: list[str], dbm: int | None) -> None:
    assert parse_csq(lines) == dbm


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["+CREG: 0,1"], Registration.HOME),
        (["+CREG: 0,5"], Registration.ROAMING),
        (["+CREG: 0,2"], Registration.SEARCHING),
        (["+CREG: 0,3"], Registration.DENIED),
        (["+CREG: 0,0"], Registration.NOT_REGISTERED),
        (["+CREG: 0,4"], Registration.UNKNOWN),
        (["+CREG: 0,9"], Registration.HOME),
        (["+CREG: 0,42"], Registration.UNKNOWN),
        (['+CREG: 2,1,"1A2B","01C3D4E5",7'], Registration.HOME),
        (['+CREG: 5,"1A2B","01C3D4E5"'], Registration.ROAMING),  # unsolicited, with location
        (["+CREG: 1", "+CREG: 0,3"], Registration.DENIED),  # the query answer wins
        (["+CEREG: 0,1"], None),  # another prefix
        ([], None),
    ],
)
def test_parse_registration(lines: list[str], expected: Registration | None) -> None:
    assert parse_registration(lines, "+CREG:") is expected
