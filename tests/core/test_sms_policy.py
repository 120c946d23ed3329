"""The SMS policy, pure and table-driven where it can be: when the office is texted, what
the text says, one message per incident, rate limits and retries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

import pytest

from valgkiosk.core.outage import Layer
from valgkiosk.core.sms import (
    Event, Mains, Reachable, Reason, Record, SendSms, Sent, Settings, SmsState, Tick, Unreachable, step,
)

T0 = datetime(2027, 9, 13, 7, 2, tzinfo=timezone.utc)  # 09.02 in Oslo
SETTINGS = Settings(numbers=("+4799887766",), station_name="Prøveskolen", krets="0101", bord=1,
                    unreachable_after_s=30)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def run(events: Iterable[Event], settings: Settings = SETTINGS, state: SmsState = SmsState()
        ) -> tuple[SmsState, list[object]]:
    effects: list[object] = []
    for e in events:
        state, more = step(state, e, settings)
        effects += more
    return state, effects


def sends(effects: list[object]) -> list[SendSms]:
    return [e for e in effects if isinstance(e, SendSms)]


def records(effects: list[object], kind: str) -> list[Record]:
    return [e for e in effects if isinstance(e, Record) and e.kind == kind]


def test_an_outage_is_texted_once_it_has_lasted_the_configured_time() -> None:
    state, effects = run([Unreachable(at(2), at(0), Layer.GATEWAY), Tick(at(29), "Beredskapsrutinen er ikke startet.")])
    assert sends(effects) == []
    state, effects = run([Tick(at(30), "Beredskapsrutinen er ikke startet.")], state=state)
    [sms] = sends(effects)
    assert sms.number == "+4799887766" and sms.reason is Reason.UNREACHABLE and sms.attempt == 1
    assert sms.text == ("Valgkiosk Prøveskolen (krets 0101) bord 1: manntallet kan ikke nås siden kl. 09.02. "
                        "Feil: ruteren svarer ikke (strøm til ruteren, sikringer, SIMULA-boksen). "
                        "Beredskapsrutinen er ikke startet.")
    # nothing more for the same incident, however long it lasts
    state, effects = run([Sent(at(31), sms.message_id, True, "ok")] + [Tick(at(40 + i)) for i in range(100)],
                         state=state)
    assert sends(effects) == [] and records(effects, "sms_sent")[0].data["text"] == sms.text


def test_with_no_wait_the_text_goes_at_the_alarm() -> None:
    _, effects = run([Unreachable(at(2), at(0), Layer.DNS)], Settings(
        numbers=("+4711111111", "+4722222222"), station_name="Testhallen", krets="0102", bord=2,
        unreachable_after_s=0))
    [first] = sends(effects)  # one at a time: the modem is a serial line
    assert first.number == "+4711111111" and "navneoppslag feiler" in first.text


def test_back_is_texted_only_after_the_outage_was() -> None:
    state, effects = run([Unreachable(at(2), at(0), Layer.LINK), Tick(at(30))])
    [sms] = sends(effects)
    state, effects = run([Sent(at(31), sms.message_id, True), Reachable(at(300), )], state=state)
    [back] = sends(effects)
    assert back.reason is Reason.BACK
    assert "manntallet er tilbake kl. 09.07 (brudd fra kl. 09.02, 5 min)" in back.text
    # a short outage sends nothing at all
    _, effects = run([Unreachable(at(2), at(0), Layer.LINK), Tick(at(10)), Reachable(at(20))])
    assert sends(effects) == [] and records(effects, "sms_dropped") == []


def test_an_outage_that_ends_before_its_text_left_drops_it() -> None:
    state, effects = run([Unreachable(at(2), at(0), Layer.LINK), Tick(at(30))])
    [sms] = sends(effects)
    state, effects = run([Sent(at(32), sms.message_id, False, "ingen dekning"), Reachable(at(35)),
                          Tick(at(100))], state=state)
    assert sends(effects) == [] and state.outbox == ()
    assert records(effects, "sms_failed") and records(effects, "sms_dropped")


def test_an_outage_that_ends_while_its_text_is_with_the_modem_sends_back_after_it() -> None:
    state, effects = run([Unreachable(at(2), at(0), Layer.LINK), Tick(at(30)), Reachable(at(31))])
    [sms] = sends(effects)
    state, effects = run([Sent(at(33), sms.message_id, True)], state=state)
    [back] = sends(effects)
    assert back.reason is Reason.BACK and "brudd fra kl. 09.02" in back.text


def test_failed_sends_are_retried_with_growing_delays_and_given_up() -> None:
    settings = Settings(numbers=("+4799887766",), station_name="P", krets="0101", bord=1, unreachable_after_s=0,
                        retry_delays_s=(10, 30), max_attempts=3)
    state, effects = run([Unreachable(at(2), at(0), Layer.TCP)], settings)
    [sms] = sends(effects)
    state, effects = run([Sent(at(3), sms.message_id, False, "ingen dekning"), Tick(at(12))], settings, state)
    assert sends(effects) == [] and records(effects, "sms_failed")[0].data["retry_in_s"] == 10
    state, effects = run([Tick(at(13))], settings, state)
    [again] = sends(effects)
    assert again.attempt == 2 and again.text == sms.text
    state, effects = run([Sent(at(14), sms.message_id, False), Tick(at(44))], settings, state)
    assert sends(effects)[0].attempt == 3
    state, effects = run([Sent(at(45), sms.message_id, False), Tick(at(1000))], settings, state)
    assert sends(effects) == [] and records(effects, "sms_given_up")


def test_no_sim_is_not_retried() -> None:
    settings = Settings(numbers=("+4799887766",), station_name="P", krets="0101", bord=1, unreachable_after_s=0)
    state, effects = run([Unreachable(at(2), at(0), Layer.TCP)], settings)
    state, effects = run([Sent(at(3), sends(effects)[0].message_id, False, "SIM mangler", retry=False),
                          Tick(at(1000))], settings, state)
    assert sends(effects) == [] and records(effects, "sms_given_up")


def test_mains_failure_once_per_flicker_and_the_hourly_limit() -> None:
    settings = Settings(numbers=("+4799887766",), station_name="P", krets="0101", bord=1, mains_repeat_s=600,
                        max_per_hour=2)
    events: list[Event] = []
    for i in range(5):  # flickers every 2 minutes
        events += [Mains(at(i * 120), False), Mains(at(i * 120 + 60), True)]
    state, effects = run(events, settings)
    [sms] = sends(effects)
    assert "strømbrudd kl. 09.02, kiosken går på batteri" in sms.text
    state, effects = run([Sent(at(700), sms.message_id, True), Mains(at(700), False), Mains(at(701), True),
                          Unreachable(at(702), at(702), Layer.LINK), Tick(at(1000))], settings, state)
    assert [s.reason for s in sends(effects)] == [Reason.MAINS]
    assert records(effects, "sms_dropped")[0].data["why"] == "høyst 2 meldinger i timen"


@pytest.mark.parametrize("settings", [
    Settings(numbers=("+4799887766",), station_name="P", krets="0101", bord=2, messenger=False),
    Settings(numbers=(), station_name="P", krets="0101", bord=1),
])
def test_only_the_messenger_with_numbers_sends(settings: Settings) -> None:
    _, effects = run([Unreachable(at(2), at(0), Layer.LINK), Tick(at(100)), Mains(at(101), False)], settings)
    assert effects == []


def test_no_text_carries_more_than_the_station_and_the_table() -> None:
    state, effects = run([Unreachable(at(2), at(0), Layer.HEALTH), Tick(at(30), "Alarmen er kvittert ved bordet.")])
    text = sends(effects)[0].text
    assert len(text) < 210 and text.startswith("Valgkiosk Prøveskolen (krets 0101) bord 1:")
    assert not any(ch.isdigit() and len(word) >= 11 for word in text.split() for ch in word[:1])
