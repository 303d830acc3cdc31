"""The simulated wearable: native accel messages, paced like the real device, from a trace or a MobiFall file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from firmware_sim import traces
from firmware_sim.wearable import Wearable, accel_messages, from_mobifall
from gateway.falls.recordings import STANDARD_GRAVITY
from tests.unit.falls.mobifall import write_trial


def test_messages_carry_every_sample_once_in_the_requested_unit():
    xyz = traces.fall(seed=2)
    docs = list(accel_messages(xyz, 1000.0, 50.0, 1.0, "m/s2"))
    assert [d["t0"] for d in docs] == [1000.0 + i for i in range(len(docs))]
    back = np.vstack([np.asarray(d["samples"]) for d in docs]) / STANDARD_GRAVITY
    assert back.shape == xyz.shape and np.allclose(back, xyz, atol=1e-4)
    with pytest.raises(ValueError):
        next(accel_messages(xyz, 0.0, unit="mg"))


def test_a_chunk_is_sent_once_its_last_sample_was_taken():
    now = [500.0]
    sent: list[tuple[float, dict]] = []
    w = Wearable("wrist-1", lambda topic, payload: sent.append((now[0], json.loads(payload))))
    w.stream(np.ones((120, 3)), clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    assert [round(at - 500.0, 3) for at, _ in sent] == [1.0, 2.0, 2.4]
    assert [len(d["samples"]) for _, d in sent] == [50, 50, 20]


def test_a_mobifall_file_is_resampled_to_the_wearable_rate(tmp_path):
    path = write_trial(tmp_path, 3, "FALLS", "FOL", 1, traces.fall(seed=3), 3)
    xyz = from_mobifall(path, 50.0)
    assert abs(len(xyz) - len(traces.fall(seed=3))) <= 2
    assert 3.0 < float(np.linalg.norm(xyz, axis=1).max()) < 3.7
