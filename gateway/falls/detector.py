"""Causal threshold fall detector on a fixed-rate acceleration stream: impact, then stillness in a new posture."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from gateway.falls.errors import StreamError
from gateway.falls.impact import SHIPPED, ImpactModel, impact_vector
from gateway.falls.recordings import STANDARD_GRAVITY
from gateway.falls.resample import Resampled


@dataclass(frozen=True, slots=True)
class FallParams:
    """Thresholds and windows (seconds relative to the impact peak); docs/falls.md says why each value."""

    rate_hz: float = 50.0
    trigger_g: float = 1.6  # a candidate starts when |a| rises above this (cheap pre-filter)
    impact_g: float = 2.1  # an impact: peak |a| at least this ...
    horizontal_g: float = 0.7  # ... or this much variability in the horizontal plane around the peak
    still_g: float = 0.15  # std of |a| over `after` at most this: lying or slumped, not walking on
    angle_deg: float = 40.0  # the sensor turned at least this much between `before` and `after`
    peak_search_s: float = 0.5  # the impact peak is the largest |a| this long after the crossing
    free_fall_s: float = 1.0  # free fall (smallest |a|) is looked for this long before the peak
    impact_span: tuple[float, float] = (-1.0, 0.5)  # the fall itself, for horizontal variability
    before: tuple[float, float] = (-2.0, -1.0)  # posture before the fall
    after: tuple[float, float] = (1.5, 3.5)  # posture and stillness after the impact
    refractory_s: float = 10.0  # one fall, one event
    min_after_s: float = 1.0  # a stream breaking off: judge an impact on this much of `after`, else "maybe"
    # the learned impact stage behind the posture gates; None: the hand-made impact_g / horizontal_g rule
    impact_model: ImpactModel | None = SHIPPED

    def is_impact(self, peak_g: float, horizontal_g: float, dynamics: tuple[float, ...] | None = None) -> bool:
        """Was this a fall's impact: the learned stage on the impact's dynamics, else the two thresholds."""
        if self.impact_model is not None and dynamics is not None:
            return self.impact_model.score(dynamics) >= 0.0
        return peak_g >= self.impact_g or horizontal_g >= self.horizontal_g

    def verdict(
        self,
        peak_g: float,
        horizontal_g: float,
        still_g: float,
        angle_deg: float,
        dynamics: tuple[float, ...] | None = None,
    ) -> bool:
        """The decision rule itself: still, turned, and an impact. Shared by the detector and the fitting."""
        return (
            still_g <= self.still_g and angle_deg >= self.angle_deg and self.is_impact(peak_g, horizontal_g, dynamics)
        )

    @property
    def decision_delay_s(self) -> float:
        """Longest wait from the threshold crossing to the verdict."""
        return self.peak_search_s + self.after[1]

    @property
    def history_s(self) -> float:
        """How much past signal a stream keeps: from `before` to the verdict."""
        return self.decision_delay_s - min(self.before[0], self.impact_span[0], -self.free_fall_s) + 0.1


@dataclass(frozen=True, slots=True)
class Candidate:
    """One impact the detector looked at, its features, and the verdict."""

    impact_t: float  # epoch seconds of the peak
    decided_t: float  # epoch seconds of the last sample the verdict used
    peak_g: float
    free_fall_g: float  # smallest |a| in the second before the peak (reported, not required)
    horizontal_g: float  # SisFall's horizontal-plane variability around the impact
    still_g: float  # std of |a| after the impact
    angle_deg: float  # posture change, before vs after
    is_fall: bool
    maybe: bool = False  # the stream broke off too soon after a real impact to judge it: a suspected fall
    impact_gs: float = math.nan  # area of |a| above 1 g around the peak (g·s)
    high_s: float = math.nan  # time above the trigger within a second either side of the peak
    fall_std_g: float = math.nan  # std of |a| in the second before the peak
    velocity_ms: float = math.nan  # lowest speed integrated from |a| - 1 g in the second before the peak

    @property
    def dynamics(self) -> tuple[float, ...]:
        """The learned stage's inputs (gateway/falls/impact.py)."""
        return impact_vector(
            self.peak_g, self.horizontal_g, self.impact_gs, self.high_s, self.fall_std_g, self.velocity_ms
        )

    def detail(self) -> dict[str, float]:
        """The features, rounded, for events and logs."""
        out = {
            "peak_g": round(self.peak_g, 2),
            "free_fall_g": round(self.free_fall_g, 2),
            "horizontal_g": round(self.horizontal_g, 3),
            "still_g": round(self.still_g, 3),
            "angle_deg": round(self.angle_deg, 1),
            "impact_gs": round(self.impact_gs, 3),
            "high_s": round(self.high_s, 2),
            "fall_std_g": round(self.fall_std_g, 3),
            "velocity_ms": round(self.velocity_ms, 2),
            "impact_at": round(self.impact_t, 3),
        }
        return {k: v for k, v in out.items() if math.isfinite(v)}  # a feature not judged is left out


@dataclass
class FallDetector:
    """One wearable's detector; keeps `history_s` of samples and a few pending candidates, nothing more."""

    params: FallParams = field(default_factory=FallParams)

    def __post_init__(self) -> None:
        p = self.params
        self._step = max(1, int(p.rate_hz))  # samples pushed at once: one second, whatever the chunk size
        # a verdict is reached at most one push after its last sample arrived: keep that much more
        self._keep = int(math.ceil(p.history_s * p.rate_hz)) + self._step
        self._peak_n = max(1, int(round(p.peak_search_s * p.rate_hz)))
        self._reset(0.0)

    def _reset(self, t0: float) -> None:
        self._t0 = t0  # time of absolute sample 0 of the current segment
        self._n = 0  # samples seen in this segment
        self._buf = np.empty((0, 3))
        self._mag = np.empty(0)
        self._start = 0  # absolute index of _buf[0]
        self._above = False
        self._pending: list[int] = []
        self._next_edge = 0  # candidates closer than peak_search to the last one are the same impact

    @property
    def held_samples(self) -> int:
        """Samples kept in memory for this stream (bounded by history_s plus one second)."""
        return len(self._buf)

    @property
    def pending(self) -> int:
        """Impacts waiting for their verdict."""
        return len(self._pending)

    def feed(self, chunk: Resampled) -> list[Candidate]:
        """Push resampled samples; returns every candidate decided by them (check `is_fall`)."""
        if chunk.rate_hz != self.params.rate_hz:
            raise StreamError(f"detector runs at {self.params.rate_hz} Hz, chunk is {chunk.rate_hz} Hz")
        out: list[Candidate] = []
        if chunk.restart or self._n == 0:
            out.extend(self.flush())  # a gap: impacts before it are judged now, never thrown away
            self._reset(chunk.t0)
        for i in range(0, len(chunk.xyz), self._step):  # bounded memory for any chunk size
            out.extend(self._push(chunk.xyz[i : i + self._step]))
        return out

    def _push(self, xyz: np.ndarray) -> list[Candidate]:
        mag = np.sqrt(np.einsum("ij,ij->i", xyz, xyz))
        above = mag > self.params.trigger_g
        rising = np.flatnonzero(above & ~np.concatenate(([self._above], above[:-1]))) + self._n
        self._above = bool(above[-1])
        self._buf = np.concatenate((self._buf, xyz))[-self._keep :]
        self._mag = np.concatenate((self._mag, mag))[-self._keep :]
        self._n += len(mag)
        self._start = self._n - len(self._mag)
        for edge in rising.tolist():
            if edge >= self._next_edge:
                self._pending.append(edge)
                self._next_edge = edge + self._peak_n
        out: list[Candidate] = []
        need = self._peak_n + int(round(self.params.after[1] * self.params.rate_hz))
        while self._pending and self._pending[0] + need <= self._n:
            cand = self._judge(self._pending.pop(0))
            out.append(cand)
            if cand.is_fall:
                r = self.params.rate_hz
                quiet = int((cand.impact_t - self._t0) * r) + int(self.params.refractory_s * r)
                self._pending = [e for e in self._pending if e >= quiet]
                self._next_edge = max(self._next_edge, quiet)
        return out

    def flush(self) -> list[Candidate]:
        """Judge the impacts still waiting when the stream breaks off, on the samples held so far.

        With at least `min_after_s` of the after-window the verdict is the usual one on that shorter
        window; with less, an impact strong enough is reported as `maybe` so the watch rule takes over.
        """
        p, r = self.params, self.params.rate_hz
        out: list[Candidate] = []
        while self._pending:
            edge = self._pending.pop(0)
            cand = self._judge(edge)
            held_after = self._n - (int(round((cand.impact_t - self._t0) * r)) + int(round(p.after[0] * r)))
            if held_after < int(round(p.min_after_s * r)):
                impact = cand.peak_g >= p.impact_g or cand.horizontal_g >= p.horizontal_g
                cand = replace(cand, is_fall=False, maybe=impact)
            out.append(cand)
            if cand.is_fall or cand.maybe:  # one impact, one verdict: later edges belong to it
                quiet = int((cand.impact_t - self._t0) * r) + int(p.refractory_s * r)
                self._pending = [e for e in self._pending if e >= quiet]
        return out

    def _window(self, peak: int, span: tuple[float, float]) -> slice:
        r = self.params.rate_hz
        lo = max(peak + int(round(span[0] * r)), self._start)
        hi = max(peak + int(round(span[1] * r)), lo)
        return slice(lo - self._start, hi - self._start)

    def _judge(self, edge: int) -> Candidate:
        p, r = self.params, self.params.rate_hz
        lo = edge - self._start
        peak = edge + int(np.argmax(self._mag[lo : lo + self._peak_n]))
        peak_g = float(self._mag[peak - self._start])
        ff = self._mag[self._window(peak, (-p.free_fall_s, 0.0))]
        free_fall = float(ff.min()) if len(ff) else peak_g
        impact_gs = float(np.clip(self._mag[self._window(peak, (-0.1, 0.3))] - 1.0, 0.0, None).sum()) / r
        high_s = float((self._mag[self._window(peak, (-1.0, 1.0))] > p.trigger_g).sum()) / r
        fall_std = float(ff.std()) if len(ff) else 0.0
        velocity = float(np.cumsum(ff - 1.0).min()) * STANDARD_GRAVITY / r if len(ff) else 0.0
        after = self._window(peak, p.after)
        held = self._mag[after]
        still = float(held.std()) if len(held) else math.inf  # nothing after the impact (yet): not judged
        before = self._buf[self._window(peak, p.before)]
        if len(before):
            up = before.mean(axis=0)
            angle = _angle_deg(up, self._buf[after].mean(axis=0)) if len(held) else 0.0
            horizontal = _horizontal_std(self._buf[self._window(peak, p.impact_span)], up)
        else:  # the stream began with this impact: no posture to compare with
            angle = horizontal = 0.0
        decided = self._start + min(after.stop, len(self._mag)) - 1
        dynamics = impact_vector(peak_g, horizontal, impact_gs, high_s, fall_std, velocity)
        return Candidate(
            self._t0 + peak / r,
            self._t0 + decided / r,
            peak_g,
            free_fall,
            horizontal,
            still,
            angle,
            p.verdict(peak_g, horizontal, still, angle, dynamics),
            False,
            impact_gs,
            high_s,
            fall_std,
            velocity,
        )


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle between two mean acceleration vectors, i.e. how far the sensor's posture turned."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na < 1e-6 or nb < 1e-6:
        return 0.0
    return math.degrees(math.acos(max(-1.0, min(1.0, float(a @ b) / (na * nb)))))


def _horizontal_std(xyz: np.ndarray, up: np.ndarray) -> float:
    """Std of acceleration across the plane perpendicular to gravity as it was before the fall.

    SisFall's best single feature uses the sensor's own horizontal axes because its sensor was worn in a
    fixed orientation; a pocket or pendant turns freely, so the plane is taken from the measured gravity.
    """
    norm = float(np.linalg.norm(up))
    if len(xyz) < 2 or norm < 1e-6:
        return 0.0
    g = up / norm
    horizontal = xyz - np.outer(xyz @ g, g)
    return float(np.sqrt(horizontal.var(axis=0).sum()))
