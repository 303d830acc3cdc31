"""The learned impact stage: a logistic regression over an impact's dynamics, evaluated in plain Python.

Fitted offline with scikit-learn (`falls_eval/learn.py`, the `falls-fit` extra); the gateway only
holds the coefficients. docs/falls.md says why these features.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# The order of the model's inputs. Each is measured around the impact peak, inside the detector's history.
FEATURES: tuple[str, ...] = (
    "log_peak",  # ln of peak |a| in g: how hard
    "horizontal_g",  # SisFall's horizontal-plane variability, -1.0 ... +0.5 s
    "impact_gs",  # area of |a| above 1 g, -0.1 ... +0.3 s: how much energy the body dumped (g·s)
    "high_s",  # time |a| spent above the trigger, -1 ... +1 s: one jolt (a seat) or a tumble (a fall)
    "fall_std_g",  # std of |a| in the second before the peak: a controlled sit is smooth
    "velocity_ms",  # lowest speed from integrating (|a| - 1 g) over the second before the peak (m/s)
)


@dataclass(frozen=True, slots=True)
class ImpactModel:
    """z-scored features, a weight each, and a bias that already holds the decision threshold (score >= 0)."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weight: tuple[float, ...]
    bias: float

    def __post_init__(self) -> None:
        if not len(self.mean) == len(self.scale) == len(self.weight) == len(FEATURES):
            raise ValueError(f"an impact model needs {len(FEATURES)} means, scales and weights")

    def score(self, x: Sequence[float]) -> float:
        """The decision value: at least 0 means the impact looks like a fall's."""
        return self.bias + sum(
            w * (v - m) / s for v, m, s, w in zip(x, self.mean, self.scale, self.weight, strict=False)
        )


def impact_vector(
    peak_g: float, horizontal_g: float, impact_gs: float, high_s: float, fall_std_g: float, velocity_ms: float
) -> tuple[float, ...]:
    """The model's inputs in `FEATURES` order."""
    return (math.log(max(peak_g, 1e-3)), horizontal_g, impact_gs, high_s, fall_std_g, velocity_ms)


# Fitted on all 17 MobiFall subjects (`python -m falls_eval.learn ../shared/datasets/mobifall`), threshold set
# to catch 97 % of the training falls. The figure to quote is the leave-one-subject-out one, docs/falls.md.
SHIPPED = ImpactModel(
    mean=(0.820536, 0.641113, 0.136031, 0.190822, 0.345559, -0.641518),
    scale=(0.188014, 0.193112, 0.0661793, 0.0938287, 0.146184, 0.429768),
    weight=(1.08061, 0.854294, 1.27851, 2.24644, 1.5754, -1.46943),
    bias=4.89354,
)
