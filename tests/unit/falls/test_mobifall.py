"""The goal on MobiFall (when the data set is on this machine), judged leave-one-subject-out."""

from __future__ import annotations

import pytest

from falls_eval.evaluate import Summary, summarize
from falls_eval.fit import leave_one_subject_out
from gateway.falls.detector import FallParams
from gateway.falls.recordings import find_recordings, load_recording
from tests.unit.falls.mobifall import dataset_dir


@pytest.fixture(scope="module")
def loso() -> Summary:
    root = dataset_dir()
    if root is None:
        pytest.skip("MobiFall not found: set ANXIN_MOBIFALL_DIR or place it in ../shared/datasets/mobifall")
    recordings = [load_recording(p) for p in find_recordings(root)]
    return summarize(leave_one_subject_out(recordings, FallParams()))


def test_unseen_subjects_meet_the_sensitivity_and_specificity_goal(loso: Summary):
    assert loso.falls >= 200 and loso.adl_trials >= 150
    assert loso.sensitivity >= 0.95
    assert loso.specificity >= 0.97
    assert loso.accuracy >= 0.961  # SisFall's best threshold feature, ANCHORS.md


def test_detection_comes_within_a_few_seconds_of_the_impact(loso: Summary):
    assert loso.median_latency_s is not None and loso.median_latency_s <= 4.0


def test_false_alarms_per_hour_of_daily_activity_meet_the_goal(loso: Summary):
    # met since issue 21's learned impact stage (docs/falls.md); it was a strict xfail at 0.72 per hour
    assert loso.false_alarms_per_hour < 0.5
