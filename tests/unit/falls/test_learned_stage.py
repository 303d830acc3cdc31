"""The learned impact stage: a car seat is not a floor, a soft landing is a fall; fitted without the judged subject."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from falls_eval.evaluate import judge
from falls_eval.fit import Features, fit
from gateway.falls.detector import FallParams
from gateway.falls.impact import impact_vector
from gateway.falls.recordings import load_recording
from tests.unit.falls.mobifall import dataset_dir

# Derived feature traces (docs/falls.md): the features the detector measured on two MobiFall recordings.
# sub7/CSI/2, stepping into a car: 2.62 g onto the seat, turned 109°, then still; the old rule raised a fall.
CAR_ENTRY = {
    "peak_g": 2.62,
    "horizontal_g": 0.396,
    "still_g": 0.047,
    "angle_deg": 109.0,
    "dynamics": impact_vector(2.62, 0.396, impact_gs=0.083, high_s=0.06, fall_std_g=0.269, velocity_ms=-0.30),
}
# sub14/FKL/3, the body landing after the knees: 1.79 g and 0.60 g across the plane, below both old thresholds.
SOFT_LANDING = {
    "peak_g": 1.79,
    "horizontal_g": 0.601,
    "still_g": 0.008,
    "angle_deg": 90.2,
    "dynamics": impact_vector(1.79, 0.601, impact_gs=0.098, high_s=0.12, fall_std_g=0.396, velocity_ms=-0.49),
}
HAND_MADE = replace(FallParams(), impact_model=None)


def test_a_car_seat_taken_hard_is_not_a_fall():
    assert HAND_MADE.verdict(**CAR_ENTRY)  # what the gateway said before: a fall
    assert not FallParams().verdict(**CAR_ENTRY)


def test_a_soft_landing_is_a_fall():
    assert not HAND_MADE.verdict(**SOFT_LANDING)  # what the gateway said before: sitting down
    assert FallParams().verdict(**SOFT_LANDING)


def test_the_posture_gates_still_hold_whatever_the_impact():
    assert not FallParams().verdict(**{**SOFT_LANDING, "still_g": 0.4})  # walks on afterwards
    assert not FallParams().verdict(**{**SOFT_LANDING, "angle_deg": 15.0})  # still upright


def recording(rel: str) -> Path:
    root = dataset_dir()
    if root is None or not (root / rel).is_file():
        pytest.skip("MobiFall not found: set ANXIN_MOBIFALL_DIR or place it in ../shared/datasets/mobifall")
    return root / rel


def test_the_recorded_car_entry_raises_nothing():
    trial = judge(load_recording(recording("sub7/ADL/CSI/CSI_acc_7_2.txt")), FallParams())
    assert trial.alarms == ()


def test_the_recorded_soft_fall_alarms_on_its_soft_impact():
    trial = judge(load_recording(recording("sub14/FALLS/FKL/FKL_acc_14_3.txt")), FallParams())
    assert len(trial.alarms) == 1
    alarm = trial.alarms[0]
    assert alarm.peak_g < 2.1 and alarm.horizontal_g < 0.7
    assert trial.latency_s is not None and trial.latency_s <= 4.0


def synthetic_features(seed: int) -> Features:
    """Two subjects' worth of gated candidates: falls hit harder and longer than sit-downs, with noise."""
    rng = np.random.default_rng(seed)
    n_trials = 40
    subject = np.repeat([1, 2], n_trials // 2)
    is_fall = np.tile([True, False], n_trials // 2)
    centre = np.where(is_fall[:, None], [0.9, 0.75, 0.15, 0.2, 0.4, -0.8], [0.6, 0.4, 0.07, 0.05, 0.2, -0.3])
    dynamics = centre + rng.normal(0, 0.08, centre.shape)
    return Features(np.arange(n_trials), dynamics, np.full(n_trials, 0.02), np.full(n_trials, 80.0), is_fall, subject)


def test_a_fold_is_fitted_without_the_subject_it_judges():
    pytest.importorskip("sklearn")
    f = synthetic_features(0)
    train = np.flatnonzero(f.subject == 1)
    model = fit(f, train, FallParams()).impact_model
    scrambled = replace(f, dynamics=np.where((f.subject == 2)[:, None], -f.dynamics, f.dynamics))
    assert model is not None and fit(scrambled, train, FallParams()).impact_model == model
    assert fit(f, np.flatnonzero(f.subject == 2), FallParams()).impact_model != model


def test_the_shipped_model_is_what_the_offline_fit_gives_on_the_data_set(capsys):
    pytest.importorskip("sklearn")
    root = recording("sub7/ADL/CSI/CSI_acc_7_2.txt").parents[3]
    from falls_eval.learn import main

    assert main([str(root)]) == 0
    shipped = FallParams().impact_model
    assert shipped is not None
    printed = capsys.readouterr().out
    for values in (shipped.mean, shipped.scale, shipped.weight):
        assert "(" + ", ".join(f"{v:.6g}" for v in values) + ")" in printed
    assert f"bias={shipped.bias:.6g}" in printed
