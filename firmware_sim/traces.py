"""Synthetic wearable acceleration (in g, sensor frame) for falls and for the activities that resemble one."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

UPRIGHT = np.array([0.0, 1.0, 0.0])  # gravity along the sensor's y axis while standing
LYING = np.array([0.0, 0.0, 1.0])  # ... and along z once lying on the floor
SEATED = np.array([0.0, 0.26, 0.97])  # thigh nearly horizontal on a chair


class Trace:
    """Builds a trace segment by segment at a fixed rate, with a little sensor noise."""

    def __init__(self, rate_hz: float = 50.0, seed: int = 0, noise_g: float = 0.01) -> None:
        self.rate_hz = rate_hz
        self.rng = np.random.default_rng(seed)
        self.noise_g = noise_g
        self.parts: list[np.ndarray] = []

    def _n(self, seconds: float) -> int:
        return max(1, int(round(seconds * self.rate_hz)))

    def hold(self, seconds: float, gravity: np.ndarray) -> Trace:
        """Keep still in one posture."""
        self.parts.append(np.tile(gravity, (self._n(seconds), 1)))
        return self

    def turn(self, seconds: float, start: np.ndarray, end: np.ndarray, scale: Callable[[float], float]) -> Trace:
        """Rotate gravity from one posture to another while |a| follows `scale` (0..1 -> g)."""
        n = self._n(seconds)
        out = np.empty((n, 3))
        for i in range(n):
            f = i / max(n - 1, 1)
            v = (1 - f) * start + f * end
            out[i] = v / np.linalg.norm(v) * scale(f)
        self.parts.append(out)
        return self

    def spike(self, peak_g: float, direction: np.ndarray, seconds: float = 0.1) -> Trace:
        """A short impact: a half-sine of `peak_g` along `direction`."""
        n = self._n(seconds)
        unit = direction / np.linalg.norm(direction)
        pulse = np.sin(np.linspace(0, math.pi, n + 2)[1:-1]) * peak_g  # sampled inside the pulse at any rate
        self.parts.append(np.outer(np.maximum(pulse, 1.0), unit))
        return self

    def gait(self, seconds: float, step_hz: float, peak_g: float) -> Trace:
        """Walking, stairs, jogging: a periodic vertical bounce with some sway, upright."""
        tt = np.arange(self._n(seconds)) / self.rate_hz
        bounce = 1.0 + (peak_g - 1.0) * np.maximum(np.sin(2 * math.pi * step_hz * tt), -0.6)
        sway = 0.15 * np.sin(math.pi * step_hz * tt)
        self.parts.append(np.column_stack((sway, bounce, 0.1 * np.cos(2 * math.pi * step_hz * tt))))
        return self

    def build(self) -> np.ndarray:
        """The whole trace, shape (n, 3)."""
        xyz = np.vstack(self.parts)
        return xyz + self.rng.normal(0.0, self.noise_g, xyz.shape)


def fall(rate_hz: float = 50.0, seed: int = 0, impact_g: float = 3.5) -> np.ndarray:
    """Standing, 0.4 s of free fall while tipping over, a 3–4 g impact, then lying still."""
    return (
        Trace(rate_hz, seed)
        .hold(5, UPRIGHT)
        .turn(0.4, UPRIGHT, LYING, lambda f: 1.0 - 0.8 * math.sin(math.pi * min(f * 1.2, 1.0)))
        .spike(impact_g, LYING)
        .hold(10, LYING)
        .build()
    )


def sit_hard(rate_hz: float = 50.0, seed: int = 0) -> np.ndarray:
    """Dropping onto a chair: a dip, a ~1.9 g bump (MobiFall's sit-downs peak at 1.6–2.0 g), then seated."""
    return (
        Trace(rate_hz, seed)
        .hold(5, UPRIGHT)
        .turn(0.6, UPRIGHT, SEATED, lambda f: 1.0 - 0.4 * math.sin(math.pi * f))
        .spike(1.9, SEATED)
        .hold(10, SEATED)
        .build()
    )


def jump(rate_hz: float = 50.0, seed: int = 0, times: int = 3) -> np.ndarray:
    """Jumping on the spot: take-off, free flight, a hard landing, upright throughout; then standing."""
    t = Trace(rate_hz, seed).hold(3, UPRIGHT)
    for _ in range(times):
        t.spike(1.8, UPRIGHT, 0.15).hold(0.3, UPRIGHT * 0.05).spike(3.5, UPRIGHT).hold(0.6, UPRIGHT)
    return t.hold(8, UPRIGHT).build()


def stairs(rate_hz: float = 50.0, seed: int = 0) -> np.ndarray:
    """Going down stairs: steps with 2.2 g heel strikes, upright and never still for long."""
    return Trace(rate_hz, seed).hold(3, UPRIGHT).gait(20, 1.8, 2.2).hold(5, UPRIGHT).build()


def walk(rate_hz: float = 50.0, seed: int = 0, seconds: float = 60) -> np.ndarray:
    """Ordinary walking: 1.4 g steps."""
    return Trace(rate_hz, seed).hold(2, UPRIGHT).gait(seconds, 1.9, 1.4).build()


def lie_down(rate_hz: float = 50.0, seed: int = 0) -> np.ndarray:
    """Lying down on a bed on purpose: the same turn as a fall but slow and without an impact."""
    return (
        Trace(rate_hz, seed)
        .hold(5, UPRIGHT)
        .turn(3, UPRIGHT, LYING, lambda f: 1.0 + 0.1 * math.sin(math.pi * f))
        .hold(10, LYING)
        .build()
    )


TRACES: dict[str, Callable[..., np.ndarray]] = {
    "fall": fall,
    "sit-hard": sit_hard,
    "jump": jump,
    "stairs": stairs,
    "walk": walk,
    "lie-down": lie_down,
}
