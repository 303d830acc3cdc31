"""Glucose, oxygen saturation and weight over a period, for the doctor: pure figures from (time, value, context)
rows. Targets and their sources in docs/trends.md."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from server.trends import stats

# Chinese guideline for the prevention and treatment of type 2 diabetes (2020 edition), capillary glucose:
# fasting 4.4-7.0 mmol/L, non-fasting < 10.0; hypoglycaemia level 1 < 3.9, level 2 < 3.0.
FASTING_RANGE = (4.4, 7.0)
NON_FASTING_HIGH = 10.0
HYPO_1, HYPO_2 = 3.9, 3.0
CV_STABLE = 36.0  # % — glucose CV above this is unstable (International Consensus on Time in Range, 2019)
CONTEXTS = ("fasting", "before_meal", "after_meal", "bedtime", "other")

SPO2_BANDS = ((0.0, 85.0), (85.0, 90.0), (90.0, 94.0), (94.0, 100.1))  # [low, high)
MAX_SAMPLE_S = 60.0  # a continuous sample stands for the time to the next one, at most this long
WEIGHT_WINDOW_DAYS = 3.0
WEIGHT_GAIN_KG = 2.0

# Warnings the cohort list ranks by, with the blood-pressure ones (server/trends/summary.py).
RISK_WEIGHTS = {
    "hypoglycaemia_level_2": 16,
    "hypoglycaemia": 8,
    "low_spo2": 8,
    "weight_gain": 8,
    "glucose_off_target": 2,
    "glucose_unstable": 2,
}

Row = tuple[float, float, str]  # epoch seconds, value, context (glucose) or "" / "continuous"


@dataclass(frozen=True)
class ContextStat:
    """Glucose readings of one measurement context."""

    context: str
    readings: int
    mean: float | None
    share_in_range: float | None


@dataclass(frozen=True)
class GlucoseFigures:
    """A period of glucose readings against the guideline's targets."""

    readings: int
    mean: float | None
    sd: float | None
    cv: float | None
    share_in_range: float | None
    by_context: list[ContextStat]
    hypo_events: int  # runs of consecutive readings below 3.9
    hypo_level_2_events: int  # of which some reading was below 3.0
    lowest: float | None


def in_range(value: float, context: str) -> bool:
    """Within the guideline target for its context: fasting 4.4-7.0, otherwise 3.9 to below 10.0."""
    if context == "fasting":
        return FASTING_RANGE[0] <= value <= FASTING_RANGE[1]
    return HYPO_1 <= value < NON_FASTING_HIGH


def _share(mask: np.ndarray) -> float | None:
    return float(mask.mean()) if mask.size else None


def glucose_figures(rows: Sequence[Row]) -> GlucoseFigures:
    """The figures of docs/trends.md for glucose rows in time order."""
    values = np.array([v for _, v, _ in rows], dtype=np.float64)
    contexts = [c if c in CONTEXTS else "other" for _, _, c in rows]
    ok = np.array([in_range(v, c) for v, c in zip(values, contexts, strict=False)], dtype=bool)
    by_context = []
    for ctx in CONTEXTS:
        mask = np.array([c == ctx for c in contexts], dtype=bool)
        by_context.append(
            ContextStat(
                ctx,
                int(mask.sum()),
                stats.mean(values[mask]) if mask.size else None,
                _share(ok[mask]) if mask.size else None,
            )
        )
    events = level2 = 0
    in_event = counted2 = False
    for v in values:
        if v < HYPO_1:
            if not in_event:
                events += 1
                in_event, counted2 = True, False
            if v < HYPO_2 and not counted2:
                level2 += 1
                counted2 = True
        else:
            in_event = False
    return GlucoseFigures(
        len(values),
        stats.mean(values),
        stats.sd(values),
        stats.cv(values),
        _share(ok),
        by_context,
        events,
        level2,
        float(values.min()) if values.size else None,
    )


@dataclass(frozen=True)
class Spo2Figures:
    """SpO2 readings: how they spread, and time below the threshold in continuous recordings."""

    readings: int
    mean: float | None
    lowest: float | None
    bands: list[tuple[str, float]]  # ("<85", share), ...
    spot_below: int  # spot-checks below the threshold
    recorded_min: float  # continuous recording time
    below_min: float  # of which below the threshold
    share_below: float | None
    threshold: float


def spo2_figures(rows: Sequence[Row], threshold: float = 90.0) -> Spo2Figures:
    """Distribution of all readings; time below `threshold` for continuous ones (each sample lasts until the
    next, capped at MAX_SAMPLE_S, so a gap in the recording is not counted)."""
    values = np.array([v for _, v, _ in rows], dtype=np.float64)
    bands = [
        (_band_name(lo, hi), float(((values >= lo) & (values < hi)).mean()) if values.size else 0.0)
        for lo, hi in SPO2_BANDS
    ]
    cont = [(t, v) for t, v, c in rows if c == "continuous"]
    recorded = below = 0.0
    for (t, v), (t_next, _) in itertools.pairwise(cont):
        span = min(max(t_next - t, 0.0), MAX_SAMPLE_S)
        recorded += span
        below += span if v < threshold else 0.0
    spot_below = sum(1 for _, v, c in rows if c != "continuous" and v < threshold)
    return Spo2Figures(
        len(values),
        stats.mean(values),
        float(values.min()) if values.size else None,
        bands,
        spot_below,
        recorded / 60.0,
        below / 60.0,
        below / recorded if recorded else None,
        threshold,
    )


def _band_name(lo: float, hi: float) -> str:
    return f"<{hi:g}" if lo == 0 else (f"≥{lo:g}" if hi > 100 else f"{lo:g}–{hi - 0.1:g}")


@dataclass(frozen=True)
class WeightFigures:
    """Weighings: change over the period, trend, and the largest gain within three days."""

    readings: int
    first: float | None
    last: float | None
    change: float | None
    slope: stats.Slope | None  # kg per week
    max_gain_3_days: float | None


def weight_figures(rows: Sequence[Row]) -> WeightFigures:
    """Figures for weight rows in time order."""
    t = np.array([r[0] for r in rows], dtype=np.float64)
    w = np.array([r[1] for r in rows], dtype=np.float64)
    gain = None
    for i in range(len(w)):
        earlier = w[(t < t[i]) & (t >= t[i] - WEIGHT_WINDOW_DAYS * 86400.0)]
        if earlier.size:
            g = float(w[i] - earlier.min())
            gain = g if gain is None else max(gain, g)
    first, last = (float(w[0]), float(w[-1])) if w.size else (None, None)
    change = None if first is None or last is None else last - first
    return WeightFigures(len(w), first, last, change, stats.slope_per_week(t, w), gain)


@dataclass(frozen=True)
class ChronicPicture:
    """Everything chronic for one resident and period, and the warnings that rank them."""

    glucose: GlucoseFigures
    spo2: Spo2Figures
    weight: WeightFigures
    warnings: list[str] = field(default_factory=list)

    @property
    def risk(self) -> int:
        """Added to the blood-pressure risk in the cohort ordering."""
        return sum(RISK_WEIGHTS[w] for w in self.warnings)


def picture(
    glucose: Sequence[Row],
    spo2: Sequence[Row],
    weight: Sequence[Row],
    spo2_threshold: float = 90.0,
    watch_weight: bool = True,
) -> ChronicPicture:
    """The figures and their warnings, most urgent first."""
    g, s, w = glucose_figures(glucose), spo2_figures(spo2, spo2_threshold), weight_figures(weight)
    warnings = []
    if g.hypo_level_2_events:
        warnings.append("hypoglycaemia_level_2")
    elif g.hypo_events:
        warnings.append("hypoglycaemia")
    if s.spot_below or (s.share_below or 0.0) > 0.1:
        warnings.append("low_spo2")
    if watch_weight and w.max_gain_3_days is not None and w.max_gain_3_days > WEIGHT_GAIN_KG:
        warnings.append("weight_gain")
    if g.share_in_range is not None and g.readings >= 7 and g.share_in_range < 0.5:
        warnings.append("glucose_off_target")
    if g.cv is not None and g.readings >= 7 and g.cv > CV_STABLE:
        warnings.append("glucose_unstable")
    return ChronicPicture(g, s, w, warnings)
