"""Streaming linear resampler: irregular or foreign-rate samples in, a fixed-rate grid out."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gateway.falls.errors import StreamError


@dataclass(frozen=True, slots=True)
class Resampled:
    """Evenly spaced samples: sample i was taken at t0 + i / rate_hz; `restart` marks a gap before them."""

    t0: float
    rate_hz: float
    xyz: np.ndarray  # shape (n, 3)
    restart: bool = False


class Resampler:
    """Keeps only the last input sample and the next grid time: constant memory per stream."""

    def __init__(self, rate_hz: float = 50.0, max_gap_s: float = 1.0) -> None:
        if rate_hz <= 0 or max_gap_s <= 0:
            raise StreamError("rate_hz and max_gap_s must be positive")
        self.rate_hz = rate_hz
        self.max_gap_s = max_gap_s
        self._last_t: float | None = None
        self._last_xyz = np.zeros(3)
        self._next_t = 0.0
        self.dropped = 0  # samples that went back in time

    def feed(self, t: np.ndarray, xyz: np.ndarray) -> Resampled:
        """Grid samples that the input up to t[-1] determines; never extrapolates past it."""
        t = np.asarray(t, dtype=np.float64)
        xyz = np.asarray(xyz, dtype=np.float64)
        if t.ndim != 1 or xyz.shape != (len(t), 3):
            raise StreamError(f"expected times (n,) and samples (n, 3), got {t.shape} and {xyz.shape}")
        if not (np.isfinite(t).all() and np.isfinite(xyz).all()):
            raise StreamError("samples must be finite numbers")
        restart = False
        if self._last_t is not None and len(t) and t[0] < self._last_t - self.max_gap_s:
            # the device's clock jumped back (a reboot): a new stream, not an hour of "late" samples to drop
            self._last_t, restart = None, True
        if self._last_t is not None:
            forward = t > self._last_t
            self.dropped += int(len(t) - forward.sum())
            t, xyz = t[forward], xyz[forward]
        if len(t) > 1:
            order = np.concatenate(([True], np.diff(t) > 0))  # duplicates and reordering inside one chunk
            self.dropped += int(len(t) - order.sum())
            t, xyz = t[order], xyz[order]
        if not len(t):
            return Resampled(self._next_t, self.rate_hz, np.empty((0, 3)))
        if self._last_t is None or t[0] - self._last_t > self.max_gap_s:
            # a new stream or a silence: start a fresh grid rather than invent samples across the gap
            restart = restart or self._last_t is not None
            self._last_t, self._last_xyz, self._next_t = float(t[0]), xyz[0].copy(), float(t[0])
        src_t = np.concatenate(([self._last_t], t))
        src = np.vstack((self._last_xyz, xyz))
        step = 1.0 / self.rate_hz
        n = int(np.floor((src_t[-1] - self._next_t) * self.rate_hz + 1e-9)) + 1
        n = max(n, 0)
        grid = self._next_t + np.arange(n) * step
        out = np.column_stack([np.interp(grid, src_t, src[:, i]) for i in range(3)]) if n else np.empty((0, 3))
        t0 = self._next_t
        self._next_t += n * step
        self._last_t, self._last_xyz = float(src_t[-1]), src[-1].copy()
        return Resampled(t0, self.rate_hz, out, restart)
