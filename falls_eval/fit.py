"""Leave-one-subject-out fitting of the learned impact stage, and the figure it earns on unseen subjects."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from falls_eval.evaluate import Trial, judge, replay
from falls_eval.learn import fit_model
from gateway.falls.detector import FallParams
from gateway.falls.impact import ImpactModel
from gateway.falls.recordings import Recording


@dataclass(frozen=True, slots=True)
class Features:
    """Every candidate of every trial, as columns, with the trial each came from."""

    trial: np.ndarray  # index into the trial list, per candidate
    dynamics: np.ndarray  # (candidates, len(FEATURES)): the learned stage's inputs
    still: np.ndarray
    angle: np.ndarray
    is_fall: np.ndarray  # per trial
    subject: np.ndarray  # per trial

    def gated(self, params: FallParams) -> np.ndarray:
        """Candidates that pass the hand-made posture gates (still, turned): the only ones the model judges."""
        return (self.still <= params.still_g) & (self.angle >= params.angle_deg)


def collect(recordings: Sequence[Recording], base: FallParams) -> Features:
    """Replay every recording once with the impact verdict switched off and keep each candidate's features."""
    blind = replace(base, impact_g=math.inf, horizontal_g=math.inf, impact_model=None)
    trial: list[int] = []
    rows: list[tuple[float, ...]] = []
    for i, rec in enumerate(recordings):
        for c in replay(rec, blind):
            trial.append(i)
            rows.append((*c.dynamics, c.still_g, c.angle_deg))
    cols = np.array(rows, dtype=np.float64).reshape(len(rows), -1) if rows else np.empty((0, 8))
    return Features(
        np.array(trial, dtype=int),
        cols[:, :-2],
        cols[:, -2],
        cols[:, -1],
        np.array([r.is_fall for r in recordings]),
        np.array([r.subject for r in recordings]),
    )


def fit(f: Features, trials: np.ndarray, base: FallParams, min_sensitivity: float = 0.97) -> FallParams:
    """The base parameters with an impact model fitted on `trials` only (see `learn.fit_model`).

    Training data without a single activity that passes the posture gates gives the model nothing to learn
    against: the hand-made impact thresholds are kept."""
    use = np.isin(f.trial, trials) & f.gated(base)
    if f.is_fall[f.trial[use]].all():
        return replace(base, impact_model=None)
    model: ImpactModel = fit_model(f.dynamics[use], f.trial[use], f.is_fall, trials, min_sensitivity)
    return replace(base, impact_model=model)


def leave_one_subject_out(
    recordings: Sequence[Recording], base: FallParams, progress: Callable[[int, FallParams], None] | None = None
) -> list[Trial]:
    """Fit on all subjects but one, judge that one with its fitted model; every trial judged once."""
    features = collect(recordings, base)
    out: list[Trial] = []
    for subject in sorted(set(features.subject.tolist())):
        held = features.subject == subject
        params = fit(features, np.flatnonzero(~held), base)
        if progress:
            progress(subject, params)
        out.extend(judge(recordings[i], params) for i in np.flatnonzero(held).tolist())
    return out
