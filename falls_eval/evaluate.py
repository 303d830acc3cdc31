"""Runs the live detector over recorded trials, as if each arrived from a wearable, and scores it."""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from gateway.falls.detector import Candidate, FallDetector, FallParams
from gateway.falls.recordings import Recording
from gateway.falls.resample import Resampler

CHUNK_S = 1.0  # a wearable's message carries about a second of samples


def replay(rec: Recording, params: FallParams, epoch: float = 1.7e9) -> list[Candidate]:
    """Every candidate the streaming detector judges while the recording plays, a second at a time.

    The recording is extended by its own last seconds played backwards (the wearer carries on as the
    recording ends), so that movements in its final seconds get a verdict instead of being cut off.
    """
    t, xyz = rec.t, rec.xyz
    tail = t >= t[-1] - params.decision_delay_s
    tail_t = (2 * t[-1] - t[tail][::-1])[1:]
    t = np.concatenate((t, tail_t)) + epoch
    xyz = np.vstack((xyz, xyz[tail][::-1][1:]))
    resampler, detector = Resampler(params.rate_hz), FallDetector(params)
    edges = [*np.searchsorted(t, np.arange(t[0], t[-1] + CHUNK_S, CHUNK_S), side="left").tolist(), len(t)]
    out: list[Candidate] = []
    for lo, hi in itertools.pairwise(edges):
        if hi > lo:
            out.extend(detector.feed(resampler.feed(t[lo:hi], xyz[lo:hi])))
    return [replace_time(c, -epoch) for c in out]


def replace_time(c: Candidate, shift: float) -> Candidate:
    """The candidate with its times shifted (epoch times back to seconds into the recording)."""
    return replace(c, impact_t=c.impact_t + shift, decided_t=c.decided_t + shift)


@dataclass(frozen=True, slots=True)
class Trial:
    """One recording and what the detector said about it."""

    name: str
    subject: int
    code: str
    is_fall: bool
    duration_s: float
    alarms: tuple[Candidate, ...]

    @property
    def correct(self) -> bool:
        """A fall must raise at least one alarm; an activity none."""
        return bool(self.alarms) == self.is_fall

    @property
    def latency_s(self) -> float | None:
        """Seconds from the impact peak to the verdict, for a detected fall."""
        return self.alarms[0].decided_t - self.alarms[0].impact_t if self.is_fall and self.alarms else None


def judge(rec: Recording, params: FallParams) -> Trial:
    """Replay one recording with the given thresholds."""
    alarms = tuple(c for c in replay(rec, params) if c.is_fall)
    return Trial(rec.name, rec.subject, rec.code, rec.is_fall, rec.duration_s, alarms)


@dataclass(frozen=True, slots=True)
class Summary:
    """The evaluation's totals, in the units the issue asks for."""

    falls: int
    detected: int
    adl_trials: int
    adl_clean: int
    false_alarms: int
    adl_hours: float
    latencies: tuple[float, ...] = field(default=())

    @property
    def sensitivity(self) -> float:
        """Share of falls that raised an alarm."""
        return self.detected / self.falls if self.falls else float("nan")

    @property
    def specificity(self) -> float:
        """Share of activity trials without any alarm."""
        return self.adl_clean / self.adl_trials if self.adl_trials else float("nan")

    @property
    def accuracy(self) -> float:
        """(sensitivity + specificity) / 2, as SisFall reports it."""
        return (self.sensitivity + self.specificity) / 2

    @property
    def false_alarms_per_hour(self) -> float:
        """Alarms per hour of recorded daily activity."""
        return self.false_alarms / self.adl_hours if self.adl_hours else float("nan")

    @property
    def median_latency_s(self) -> float | None:
        """Median seconds from impact to verdict over detected falls."""
        return statistics.median(self.latencies) if self.latencies else None

    def as_dict(self) -> dict[str, float | int | None]:
        """The JSON form printed by `python -m falls_eval --json`."""

        def r(x: float | None) -> float | None:
            return None if x is None or x != x else round(x, 4)

        return {
            "sensitivity": r(self.sensitivity),
            "specificity": r(self.specificity),
            "accuracy": r(self.accuracy),
            "false_alarms_per_hour": r(self.false_alarms_per_hour),
            "falls": self.falls,
            "adl_trials": self.adl_trials,
            "detected": self.detected,
            "false_alarms": self.false_alarms,
            "adl_hours": r(self.adl_hours),
            "median_latency_s": r(self.median_latency_s),
        }


def summarize(trials: Iterable[Trial]) -> Summary:
    """Totals over trials."""
    trials = list(trials)
    falls = [t for t in trials if t.is_fall]
    adl = [t for t in trials if not t.is_fall]
    return Summary(
        falls=len(falls),
        detected=sum(1 for t in falls if t.alarms),
        adl_trials=len(adl),
        adl_clean=sum(1 for t in adl if not t.alarms),
        false_alarms=sum(len(t.alarms) for t in adl),
        adl_hours=sum(t.duration_s for t in adl) / 3600,
        latencies=tuple(t.latency_s for t in falls if t.latency_s is not None),
    )
