"""Leave-one-subject-out fitting of the detector's four thresholds, and the figure it earns on unseen subjects."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import numpy as np

from gateway.falls.detector import FallParams
from gateway.falls.evaluate import Trial, judge, replay
from gateway.falls.recordings import Recording

# Candidate values: coarse, physically meaningful steps, so a fit cannot hide in the third decimal.
GRID: dict[str, tuple[float, ...]] = {
    "impact_g": (1.8, 1.9, 2.0, 2.1, 2.2, 2.3, 2.4),
    "horizontal_g": (0.5, 0.6, 0.7, 0.8, 0.9, math.inf),
    "still_g": (0.05, 0.1, 0.15, 0.2, 0.25),
    "angle_deg": (20.0, 30.0, 40.0, 50.0, 60.0),
}


@dataclass(frozen=True, slots=True)
class Features:
    """Every candidate of every trial, as columns, with the trial each came from."""

    trial: np.ndarray  # index into the trial list, per candidate
    peak: np.ndarray
    horizontal: np.ndarray
    still: np.ndarray
    angle: np.ndarray
    is_fall: np.ndarray  # per trial
    subject: np.ndarray  # per trial


def collect(recordings: Sequence[Recording], base: FallParams) -> Features:
    """Replay every recording once with the verdict switched off and keep each candidate's features."""
    blind = replace(base, impact_g=math.inf, horizontal_g=math.inf)
    rows: list[tuple[int, float, float, float, float]] = []
    for i, rec in enumerate(recordings):
        rows.extend((i, c.peak_g, c.horizontal_g, c.still_g, c.angle_deg) for c in replay(rec, blind))
    cols = np.array(rows, dtype=np.float64).reshape(-1, 5)
    return Features(cols[:, 0].astype(int), cols[:, 1], cols[:, 2], cols[:, 3], cols[:, 4],
                    np.array([r.is_fall for r in recordings]), np.array([r.subject for r in recordings]))


def fit(f: Features, trials: np.ndarray, base: FallParams, min_sensitivity: float = 0.95) -> FallParams:
    """The grid point with the fewest false alarms among those that catch `min_sensitivity` of the falls.

    This is the goal's own shape (catch ≥ 95 % of falls, then as few false alarms as possible); maximising
    (sensitivity + specificity) / 2 instead overfits, see docs/falls.md. Order of preference: specificity,
    fewer alarms in activity trials, sensitivity, nearness to the grid's centre (never the shipped defaults).
    """
    in_fit = np.isin(f.trial, trials)
    falls = f.is_fall[trials]
    adl_trials = trials[~falls]
    n_falls, n_adl = max(int(falls.sum()), 1), max(int((~falls).sum()), 1)
    centre = tuple(values[(len(values) - 1) // 2] for values in GRID.values())
    best: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    for values in itertools.product(*GRID.values()):
        impact_g, horizontal_g, still_g, angle_deg = values
        ok = in_fit & ((f.peak >= impact_g) | (f.horizontal >= horizontal_g)) & (f.still <= still_g) \
            & (f.angle >= angle_deg)
        hit = np.zeros(len(f.is_fall), dtype=bool)
        hit[f.trial[ok]] = True
        hit = hit[trials]
        sensitivity = hit[falls].sum() / n_falls
        specificity = (~hit[~falls]).sum() / n_adl
        alarms = int(np.isin(f.trial[ok], adl_trials).sum())
        closeness = -sum(abs(math.log(v / c)) if math.isfinite(v) and math.isfinite(c) else (0 if v == c else 9)
                         for v, c in zip(values, centre))
        key = (float(sensitivity >= min_sensitivity), float(specificity), -alarms, float(sensitivity), closeness)
        if best is None or key > best[0]:
            best = (key, values)
    assert best is not None
    impact_g, horizontal_g, still_g, angle_deg = best[1]
    return replace(base, impact_g=impact_g, horizontal_g=horizontal_g, still_g=still_g, angle_deg=angle_deg)


def leave_one_subject_out(recordings: Sequence[Recording], base: FallParams,
                          progress: Callable[[int, FallParams], None] | None = None) -> list[Trial]:
    """Fit on all subjects but one, judge that one with its fitted thresholds; every trial judged once."""
    features = collect(recordings, base)
    out: list[Trial] = []
    for subject in sorted(set(features.subject.tolist())):
        held = features.subject == subject
        params = fit(features, np.flatnonzero(~held), base)
        if progress:
            progress(subject, params)
        out.extend(judge(recordings[i], params) for i in np.flatnonzero(held).tolist())
    return out
