"""Text messages through the modem driver, against the fake modem on a real pty:
the text-mode dialogue, the character sets, long texts, and every way a send can fail."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fake_modem import SILENT, SMS_GOOD, UNPLUG, FakeModem, ok
from valgkiosk.drivers.modem import MAX_PARTS, Modem, SmsFailure, encode_sms, split_sms

pytestmark = pytest.mark.timeout(20)

TIMEOUT = 0.3
OFFICE = "+4799887766"
NORWEGIAN = "Prøveskolen bord 1: manntallet kan ikke nås siden kl. 09.02. Ruteren svarer ikke."


@pytest.fixture
def link(tmp_path: Path) -> Path:
    return tmp_path / "modem"


def plugged(link: Path, **changes: object) -> FakeModem:
    fake = FakeModem(link, {**SMS_GOOD, **changes})
    fake.plug()
    return fake


@pytest.fixture
def fake(link: Path) -> Iterator[FakeModem]:
    modem = plugged(link)
    yield modem
    modem.unplug()


def send(link: Path, text: str, number: str = OFFICE, send_timeout: float = 1.0):  # type: ignore[no-untyped-def]
    return Modem(str(link), timeout=TIMEOUT).send_sms(number, text, send_timeout=send_timeout)


def test_plain_ascii_goes_as_one_gsm_message(fake: FakeModem, link: Path) -> None:
    result = send(link, "Valgkiosk test: alt er i orden.")
    assert result.ok and result.parts == 1 and result.references == (1,) and not result.trimmed
    assert fake.sms == [(OFFICE, "Valgkiosk test: alt er i orden.")]
    assert fake.received[-4:] == ["AT+CMGF=1", 'AT+CSCS="IRA"', "AT+CSMP=17,167,0,0", f'AT+CMGS="{OFFICE}"']
    assert result.detail == f"Sendt til {OFFICE} (1 melding)."


def test_norwegian_letters_go_as_ucs2_and_arrive_whole(fake: FakeModem, link: Path) -> None:
    result = send(link, "Strømbrudd på Øvingshuset, bord 2. Æ!")
    assert result.ok
    assert fake.sms == [(OFFICE, "Strømbrudd på Øvingshuset, bord 2. Æ!")]
    assert 'AT+CSCS="UCS2"' in fake.received and "AT+CSMP=17,167,0,8" in fake.received


def test_a_long_text_is_split_into_numbered_messages(fake: FakeModem, link: Path) -> None:
    result = send(link, NORWEGIAN + " Beredskapsrutinen er startet kl. 09.05.")
    assert result.ok and result.parts == 2 and result.references == (1, 2)
    texts = [t for _, t in fake.sms]
    assert [t[:4] for t in texts] == ["1/2 ", "2/2 "]
    assert all(len(t) <= 70 for t in texts)
    assert " ".join(t[4:] for t in texts) == NORWEGIAN + " Beredskapsrutinen er startet kl. 09.05."


def test_a_text_too_long_for_three_messages_is_trimmed() -> None:
    parts, trimmed = split_sms(NORWEGIAN * 4, per_message=70)
    assert trimmed and len(parts) == MAX_PARTS and parts[-1].endswith("…")
    assert all(len(p) <= 70 for p in parts)
    assert split_sms("kort", per_message=70) == (["kort"], False)
    charset, encoded, _ = encode_sms("a" * 160)
    assert charset == "IRA" and encoded == ["a" * 160]
    assert len(encode_sms("a" * 161)[1]) == 2
    assert encode_sms("Kl. [09] ~ ok")[0] == "UCS2"  # GSM escape characters are not sent as IRA


@pytest.mark.parametrize("changes, failure, words", [
    pytest.param({"CMGS_BODY": "\r\n+CMS ERROR: 331\r\n"}, SmsFailure.NO_NETWORK, "ingen dekning", id="CMS 331"),
    pytest.param({"CMGS_BODY": "\r\n+CMS ERROR: 42\r\n"}, SmsFailure.REFUSED, "overbelastet", id="CMS 42"),
    pytest.param({"CMGS_BODY": "\r\n+CMS ERROR: 9999\r\n"}, SmsFailure.REFUSED, "feilkode 9999", id="CMS unknown"),
    pytest.param({"AT+CMGS": "\r\n+CMS ERROR: 330\r\n"}, SmsFailure.REFUSED, "SMS-sentralens nummer", id="refused at the prompt"),
    pytest.param({"AT+CPIN?": "\r\n+CME ERROR: 10\r\n"}, SmsFailure.NO_SIM, "finner ikke SIM-kortet", id="no SIM"),
    pytest.param({"AT+CPIN?": ok("+CPIN: SIM PIN")}, SmsFailure.SIM_LOCKED, "krever PIN", id="SIM locked"),
    pytest.param({"AT+CREG?": ok("+CREG: 0,2"), "AT+CEREG?": ok("+CEREG: 0,2")}, SmsFailure.NO_NETWORK,
                 "søker etter mobilnett", id="searching"),
    pytest.param({"AT+CREG?": ok("+CREG: 0,3"), "AT+CEREG?": "\r\nERROR\r\n"}, SmsFailure.NO_NETWORK,
                 "avviser modemet", id="denied"),
    pytest.param({"AT+CMGF=1": "\r\nERROR\r\n"}, SmsFailure.REFUSED, "AT+CMGF=1", id="no text mode"),
])
def test_error_answers_are_told_in_norwegian(link: Path, changes: dict[str, object], failure: SmsFailure,
                                             words: str) -> None:
    fake = plugged(link, **changes)
    try:
        result = send(link, NORWEGIAN)
    finally:
        fake.unplug()
    assert not result.ok and result.failure is failure, result
    assert words in result.detail
    assert result.failure.retry is (failure not in (SmsFailure.NO_SIM, SmsFailure.SIM_LOCKED))
    assert fake.sms == []


def test_a_modem_that_stops_answering_after_the_text(link: Path) -> None:
    fake = plugged(link, CMGS_BODY=SILENT)
    try:
        start = time.monotonic()
        result = send(link, NORWEGIAN, send_timeout=0.8)
        took = time.monotonic() - start
    finally:
        fake.unplug()
    assert result.failure is SmsFailure.NO_ANSWER and "svarer ikke" in result.detail
    assert 0.8 <= took < 3.0


def test_a_silent_modem(link: Path) -> None:
    fake = plugged(link, ATE0=SILENT)
    try:
        result = send(link, NORWEGIAN)
    finally:
        fake.unplug()
    assert result.failure is SmsFailure.NO_ANSWER


def test_no_modem_and_a_modem_pulled_out_mid_send(link: Path) -> None:
    assert send(link, NORWEGIAN).failure is SmsFailure.ABSENT
    fake = plugged(link, CMGS_BODY=UNPLUG)
    try:
        result = send(link, NORWEGIAN)
    finally:
        fake.unplug()
    assert result.failure in (SmsFailure.ABSENT, SmsFailure.NO_ANSWER) and not result.ok


def test_a_bad_number_never_reaches_the_modem(fake: FakeModem, link: Path) -> None:
    result = send(link, "test", number="99 88 77 66; ATD112")
    assert result.failure is SmsFailure.REFUSED and "Ugyldig telefonnummer" in result.detail
    assert fake.received == []


def test_the_next_message_goes_after_a_failed_one(link: Path) -> None:
    fake = plugged(link, CMGS_BODY="\r\n+CMS ERROR: 332\r\n")
    try:
        assert send(link, NORWEGIAN).failure is SmsFailure.REFUSED
        fake.replies["CMGS_BODY"] = None
        assert send(link, NORWEGIAN).ok
    finally:
        fake.unplug()
    assert [t for _, t in fake.sms][0].startswith("1/2 ")
