"""Small statistics on numpy arrays: means, variability, least-squares slope with a confidence interval."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Two-sided 95 % Student t quantiles t(0.975, df) for df = 1..30 (standard tables).
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)
_Z975 = 1.959964


def t975(df: int) -> float:
    """The 97.5th percentile of Student's t with df degrees of freedom."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if df <= len(_T975):
        return _T975[df - 1]
    # Cornish-Fisher expansion around the normal quantile; off by < 0.001 for df > 30.
    z = _Z975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


def mean(x: np.ndarray) -> float | None:
    """The mean, or None for no values."""
    return float(x.mean()) if x.size else None


def sd(x: np.ndarray) -> float | None:
    """Sample standard deviation (n − 1), None below two values."""
    return float(x.std(ddof=1)) if x.size >= 2 else None


def cv(x: np.ndarray) -> float | None:
    """Coefficient of variation in percent: SD / mean × 100."""
    s = sd(x)
    return None if s is None else 100.0 * s / float(x.mean())


def arv(x: np.ndarray) -> float | None:
    """Average real variability: mean absolute difference of consecutive values."""
    return float(np.abs(np.diff(x)).mean()) if x.size >= 2 else None


@dataclass(frozen=True)
class Slope:
    """A least-squares slope with its 95 % confidence interval."""

    per_week: float
    low: float
    high: float
    n: int


def slope_per_week(t: np.ndarray, y: np.ndarray) -> Slope | None:
    """Ordinary least squares of y on time (seconds), in units of y per week; None if undetermined."""
    n = int(t.size)
    if n < 3:
        return None
    weeks = (t - t[0]) / (7 * 86400.0)
    wc = weeks - weeks.mean()
    sxx = float(wc @ wc)
    if sxx <= 0.0:
        return None
    b = float(wc @ (y - y.mean())) / sxx
    resid = y - y.mean() - b * wc
    se = math.sqrt(float(resid @ resid) / (n - 2) / sxx)
    half = t975(n - 2) * se
    return Slope(b, b - half, b + half, n)


def group_means(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct sorted keys and the mean of values for each."""
    uniq, inverse = np.unique(keys, return_inverse=True)
    sums = np.bincount(inverse, weights=values, minlength=uniq.size)
    counts = np.bincount(inverse, minlength=uniq.size)
    return uniq, sums / counts
