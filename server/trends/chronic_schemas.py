"""The API form of the chronic-condition figures."""

from __future__ import annotations

from dataclasses import asdict

from pydantic import BaseModel

from server.trends.chronic import ChronicPicture
from server.trends.series import day_date
from server.trends.summary import Period


class ContextOut(BaseModel):
    """Glucose readings of one measurement context."""

    context: str
    readings: int
    mean: float | None
    share_in_range: float | None


class GlucoseOut(BaseModel):
    """Glucose against the Chinese type 2 diabetes guideline (2020) targets, mmol/L."""

    readings: int
    mean: float | None
    sd: float | None
    cv: float | None
    share_in_range: float | None
    by_context: list[ContextOut]
    hypo_events: int
    hypo_level_2_events: int
    lowest: float | None


class Spo2Out(BaseModel):
    """SpO2 distribution (share per band) and time below the resident's threshold, minutes."""

    readings: int
    mean: float | None
    lowest: float | None
    bands: dict[str, float]
    spot_below: int
    recorded_min: float
    below_min: float
    share_below: float | None
    threshold: float


class WeightOut(BaseModel):
    """Weight in kg; slope in kg per week with its 95 % confidence interval."""

    readings: int
    first: float | None
    last: float | None
    change: float | None
    slope_per_week: float | None
    slope_low: float | None
    slope_high: float | None
    max_gain_3_days: float | None


class ChronicOut(BaseModel):
    """One resident's glucose, SpO2 and weight figures for a period."""

    resident: str
    first_day: str
    last_day: str
    glucose: GlucoseOut
    spo2: Spo2Out
    weight: WeightOut
    warnings: list[str]
    risk: int


def chronic_out(code: str, period: Period, p: ChronicPicture) -> ChronicOut:
    """The API form of a picture."""
    s = p.weight.slope
    return ChronicOut(
        resident=code,
        first_day=day_date(period.first_day).isoformat(),
        last_day=day_date(period.last_day).isoformat(),
        glucose=GlucoseOut(
            **{**asdict(p.glucose), "by_context": [ContextOut(**asdict(c)) for c in p.glucose.by_context]}
        ),
        spo2=Spo2Out(**{**asdict(p.spo2), "bands": dict(p.spo2.bands)}),
        weight=WeightOut(
            readings=p.weight.readings,
            first=p.weight.first,
            last=p.weight.last,
            change=p.weight.change,
            slope_per_week=s.per_week if s else None,
            slope_low=s.low if s else None,
            slope_high=s.high if s else None,
            max_gain_3_days=p.weight.max_gain_3_days,
        ),
        warnings=p.warnings,
        risk=p.risk,
    )
