"""Resampler: irregular input to an even grid, chunk by chunk, with no look-ahead and no invented gaps."""

from __future__ import annotations

import numpy as np
import pytest

from gateway.falls.errors import StreamError
from gateway.falls.resample import Resampler


def _irregular(seconds: float, rate: float, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.5, 1.5, int(seconds * rate)) / rate) + 100.0
    xyz = np.column_stack((np.sin(t), np.cos(t), 0.5 * t))
    return t, xyz


def test_output_is_on_an_even_grid_and_follows_the_signal():
    t, xyz = _irregular(10, 87)
    out = Resampler(50).feed(t, xyz)
    grid = out.t0 + np.arange(len(out.xyz)) / 50
    assert out.t0 == t[0] and grid[-1] <= t[-1]
    assert len(out.xyz) == int((t[-1] - t[0]) * 50) + 1
    assert np.allclose(out.xyz[:, 2], 0.5 * grid, atol=1e-9)  # linear in t: interpolation is exact
    assert np.allclose(out.xyz[:, 0], np.sin(grid), atol=2e-3)


def test_chunked_feeding_gives_the_same_samples_as_one_feed():
    t, xyz = _irregular(20, 87)
    whole = Resampler(50).feed(t, xyz).xyz
    r = Resampler(50)
    parts = [r.feed(t[i : i + 37], xyz[i : i + 37]).xyz for i in range(0, len(t), 37)]
    assert np.allclose(np.vstack(parts), whole)


def test_late_and_repeated_samples_are_dropped_and_counted():
    r = Resampler(50)
    r.feed(np.array([0.0, 0.02, 0.04]), np.ones((3, 3)))
    out = r.feed(np.array([0.03, 0.04, 0.06, 0.06]), np.ones((4, 3)))
    assert r.dropped == 3
    assert len(out.xyz) == 1  # only 0.06 is new


def test_a_long_silence_restarts_the_grid_instead_of_inventing_samples():
    r = Resampler(50, max_gap_s=1.0)
    r.feed(np.array([0.0, 0.02]), np.zeros((2, 3)))
    out = r.feed(np.array([5.0, 5.02]), np.ones((2, 3)))
    assert out.restart and out.t0 == 5.0 and np.allclose(out.xyz, 1.0)


def test_a_clock_that_jumps_back_starts_a_new_stream_instead_of_dropping_everything():
    r = Resampler(50)
    r.feed(np.array([3600.0, 3600.02]), np.zeros((2, 3)))
    out = r.feed(np.array([10.0, 10.02, 10.04]), np.ones((3, 3)))
    assert out.restart and out.t0 == 10.0 and len(out.xyz) == 3 and r.dropped == 0


@pytest.mark.parametrize(
    "t, xyz",
    [
        (np.array([0.0, 1.0]), np.ones((2, 2))),
        (np.array([0.0, np.nan]), np.ones((2, 3))),
        (np.array([0.0, 1.0]), np.array([[1, 1, 1], [np.inf, 0, 0]])),
    ],
)
def test_unusable_samples_raise_a_clear_error(t, xyz):
    with pytest.raises(StreamError):
        Resampler(50).feed(t, xyz)
