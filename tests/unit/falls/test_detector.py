"""The detector on synthetic traces: falls raise, the activities that look like one do not; causal and bounded."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_sim import traces
from gateway.falls.detector import Candidate, FallDetector, FallParams
from gateway.falls.resample import Resampled

T0 = 1_764_000_000.0
RATE = 50.0


def run(xyz: np.ndarray, chunk: int = 50, detector: FallDetector | None = None) -> list[Candidate]:
    det = detector or FallDetector()
    out: list[Candidate] = []
    for i in range(0, len(xyz), chunk):
        out.extend(det.feed(Resampled(T0 + i / RATE, RATE, xyz[i : i + chunk])))
    return out


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("impact_g", [3.0, 3.5, 4.0])
def test_a_fall_raises_exactly_one_alarm_within_a_few_seconds(seed, impact_g):
    xyz = traces.fall(RATE, seed, impact_g)
    falls = [c for c in run(xyz) if c.is_fall]
    assert len(falls) == 1
    impact = T0 + int(np.argmax(np.linalg.norm(xyz, axis=1))) / RATE
    assert abs(falls[0].impact_t - impact) < 0.05
    assert 0 < falls[0].decided_t - impact <= FallParams().after[1] + 0.1
    assert falls[0].angle_deg > 60 and falls[0].free_fall_g < 0.6 and falls[0].still_g < 0.05


@pytest.mark.parametrize("name", ["sit-hard", "jump", "stairs", "walk", "lie-down"])
@pytest.mark.parametrize("seed", range(5))
def test_activities_that_resemble_a_fall_raise_nothing(name, seed):
    assert [c for c in run(traces.TRACES[name](RATE, seed)) if c.is_fall] == []


@pytest.mark.parametrize("chunk", [1, 7, 50, 400, 10_000])
def test_verdicts_do_not_depend_on_how_the_stream_is_chunked(chunk):
    xyz = np.vstack((traces.jump(RATE, 3), traces.fall(RATE, 3)))
    reference = run(xyz, 50)
    assert run(xyz, chunk) == reference
    assert sum(c.is_fall for c in reference) == 1


def test_the_verdict_uses_no_sample_after_its_decision_time():
    xyz = traces.fall(RATE, 1)
    fall = next(c for c in run(xyz) if c.is_fall)
    used = int(round((fall.decided_t - T0) * RATE)) + 1
    tampered = xyz.copy()
    tampered[used:] = [0.0, 3.0, 0.0]  # whatever comes later cannot change what was already decided
    assert next(c for c in run(tampered) if c.is_fall) == fall


def test_memory_per_stream_stays_bounded_over_an_hour_of_walking():
    det = FallDetector()
    xyz = traces.walk(RATE, 0, seconds=60)
    for _ in range(60):
        run(xyz, 50, det)
    assert det.held_samples <= int(np.ceil(FallParams().history_s * RATE)) + int(RATE)
    assert det.pending <= 10


def test_two_falls_far_apart_raise_two_alarms_and_one_fall_never_two():
    xyz = np.vstack((traces.fall(RATE, 1), traces.TRACES["lie-down"](RATE, 2)[::-1], traces.fall(RATE, 2)))
    assert sum(c.is_fall for c in run(xyz)) == 2


def test_a_stream_that_starts_with_the_impact_is_not_judged_on_missing_history():
    xyz = traces.fall(RATE, 0)[int(5.2 * RATE) :]
    assert [c for c in run(xyz) if c.is_fall] == []


def test_the_rule_is_the_documented_one():
    p = FallParams()
    assert p.verdict(peak_g=2.5, horizontal_g=0.1, still_g=0.05, angle_deg=80)
    assert p.verdict(peak_g=1.9, horizontal_g=0.8, still_g=0.05, angle_deg=80)  # sideways impact, clipped peak
    assert not p.verdict(peak_g=1.9, horizontal_g=0.4, still_g=0.05, angle_deg=80)  # sitting down
    assert not p.verdict(peak_g=3.0, horizontal_g=0.8, still_g=0.5, angle_deg=80)  # moving on afterwards
    assert not p.verdict(peak_g=3.0, horizontal_g=0.8, still_g=0.05, angle_deg=10)  # landing a jump
