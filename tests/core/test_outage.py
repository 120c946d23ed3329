"""The outage detector's hysteresis, driven by a simulated clock."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from valgkiosk.core.outage import (
    DetectorState, Layer, Mode, OutageEnded, OutageStarted, ProbeRound, Probing, Timings, step,
)

T0 = datetime(2027, 9, 13, 7, 0, tzinfo=timezone.utc)
TIMINGS = Timings()


def run(pattern: list[Layer | None], timings: Timings = TIMINGS, state: DetectorState | None = None):
    """Feed probe rounds at the probe interval; return the final state and every effect with its round."""
    state = state or DetectorState()
    effects = []
    for i, failed in enumerate(pattern):
        at = T0 + timedelta(seconds=i * timings.probe_interval)
        state, out = step(state, ProbeRound(at, failed), timings)
        effects += [(i, e) for e in out]
    return state, effects


def test_one_lost_probe_never_alarms() -> None:
    state, effects = run([None, Layer.HEALTH, None, None])
    assert state.mode is Mode.REACHABLE
    assert [e for _, e in effects if not isinstance(e, Probing)] == []


def test_outage_declared_after_n_failures_with_the_lowest_failing_layer() -> None:
    pattern = [None] * 3 + [Layer.HEALTH, Layer.TCP] + [Layer.LINK] * 10
    state, effects = run(pattern)
    started = [(i, e) for i, e in effects if isinstance(e, OutageStarted)]
    assert len(started) == 1
    i, e = started[0]
    assert i == 3 + TIMINGS.fail_after - 1            # the 8th failure in a row
    assert e.at == T0 + timedelta(seconds=3 * TIMINGS.probe_interval)  # the outage began at the first failure
    assert e.layer is Layer.LINK and "nettkabelen" in e.diagnosis
    assert state.mode is Mode.UNREACHABLE


def test_recovery_needs_m_good_rounds_and_reports_duration() -> None:
    pattern = [Layer.GATEWAY] * 10 + [None] * (TIMINGS.recover_after - 1) + [Layer.GATEWAY] + \
        [None] * TIMINGS.recover_after
    state, effects = run(pattern)
    ended = [(i, e) for i, e in effects if isinstance(e, OutageEnded)]
    assert len(ended) == 1 and state.mode is Mode.REACHABLE
    i, e = ended[0]
    assert i == len(pattern) - 1
    assert e.layer is Layer.GATEWAY
    assert e.duration_s == pytest.approx(i * TIMINGS.probe_interval)


def test_no_false_alarm_over_10000_probes_at_10_percent_loss() -> None:
    rng = random.Random(20270913)
    pattern = [Layer.HEALTH if rng.random() < 0.10 else None for _ in range(10_000)]
    assert pattern.count(Layer.HEALTH) > 900  # the loss really is there
    _, effects = run(pattern)
    assert not any(isinstance(e, OutageStarted) for _, e in effects)


def test_bounds_under_flapping() -> None:
    """A link that flaps (2 s down, 1 s up) is detected within the bound and does not toggle."""
    rng = random.Random(7)
    per_s = int(1 / TIMINGS.probe_interval)
    pattern: list[Layer | None] = [None] * 20
    cut_at = len(pattern)
    for _ in range(20):  # 60 s of flapping, with 5 % loss on top while "up"
        pattern += [Layer.LINK] * (2 * per_s)
        pattern += [Layer.HEALTH if rng.random() < 0.05 else None for _ in range(1 * per_s)]
    restored_at = len(pattern)
    pattern += [None] * (10 * per_s)
    _, effects = run(pattern)
    kinds = [(i, type(e).__name__) for i, e in effects if not isinstance(e, Probing)]
    assert [k for _, k in kinds] == ["OutageStarted", "OutageEnded"]  # one outage, no toggling
    detected = (kinds[0][0] - cut_at) * TIMINGS.probe_interval
    recovered = (kinds[1][0] - restored_at) * TIMINGS.probe_interval
    assert detected <= 3.0 and recovered <= 5.0


def test_fewer_failures_than_the_threshold_only_blink() -> None:
    _, effects = run([Layer.TCP] * (TIMINGS.fail_after - 1) + [None])
    assert [type(e) for _, e in effects] == [Probing] * (TIMINGS.fail_after - 1)
