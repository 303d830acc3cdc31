"""Offline: fit the learned impact stage with scikit-learn (`pip install '.[falls-fit]'`); never on the gateway.

`python -m falls_eval.learn DIR` fits on every recording under DIR and prints the coefficients to paste
into `gateway/falls/impact.py` as `SHIPPED`.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

from gateway.falls.errors import FitError
from gateway.falls.impact import FEATURES, ImpactModel


def fit_model(
    x: np.ndarray, trial: np.ndarray, is_fall: np.ndarray, trials: np.ndarray, min_sensitivity: float = 0.97
) -> ImpactModel:
    """Logistic regression on gated candidates (a candidate is positive when its trial is a fall).

    The threshold is the highest score that still catches `min_sensitivity` of the fall trials in `trials`
    (a fall is caught by its best candidate); it is folded into the bias so the gateway tests score >= 0.
    """
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise FitError("fitting the impact model needs scikit-learn: pip install '.[falls-fit]'") from exc
    y = is_fall[trial]
    if len(x) == 0 or y.all() or not y.any():
        raise FitError("the impact model needs gated candidates from both falls and activities")
    scaler = StandardScaler().fit(x)
    lr = LogisticRegression(C=1.0, class_weight="balanced", max_iter=1000).fit(scaler.transform(x), y)
    score = lr.decision_function(scaler.transform(x))
    fall_trials = trials[is_fall[trials]]
    best = np.full(len(is_fall), -math.inf)
    np.maximum.at(best, trial, score)
    caught = np.sort(best[fall_trials])  # -inf for a fall without any gated candidate
    allowed = int(math.floor((1.0 - min_sensitivity) * len(fall_trials)))
    threshold = float(caught[min(allowed, len(caught) - 1)])
    if not math.isfinite(threshold):
        threshold = float(score.min())
    return ImpactModel(
        tuple(float(v) for v in scaler.mean_),
        tuple(float(v) for v in scaler.scale_),
        tuple(float(v) for v in lr.coef_[0]),
        float(lr.intercept_[0]) - threshold,
    )


def main(argv: list[str] | None = None) -> int:
    """Fit on every recording under DIR and print the model as Python."""
    from falls_eval.fit import collect, fit
    from gateway.falls.detector import FallParams
    from gateway.falls.recordings import find_recordings, load_recording

    parser = argparse.ArgumentParser(prog="python -m falls_eval.learn", description=__doc__)
    parser.add_argument("dir", type=Path)
    args = parser.parse_args(argv)
    recordings = [load_recording(p) for p in find_recordings(args.dir)]
    features = collect(recordings, FallParams())
    model = fit(features, np.arange(len(recordings)), FallParams()).impact_model
    assert model is not None

    def row(values: tuple[float, ...]) -> str:
        return "(" + ", ".join(f"{v:.6g}" for v in values) + ")"

    print(f"# inputs: {', '.join(FEATURES)}; fitted on {len(recordings)} recordings under {args.dir}")
    print(
        f"SHIPPED = ImpactModel(\n    mean={row(model.mean)},\n    scale={row(model.scale)},\n"
        f"    weight={row(model.weight)},\n    bias={model.bias:.6g},\n)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
