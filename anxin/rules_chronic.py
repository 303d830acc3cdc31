"""Settings of the chronic-condition rules (glucose, oxygen saturation, body temperature, weight gain): the
home's limits, with each resident's own laid over them, validated before they are used."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

L = TypeVar("L", bound=BaseModel)


class _Limits(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GlucoseLimits(_Limits):
    """mmol/L. Hypoglycaemia levels 1 and 2 (< 3.9, < 3.0) and marked hyperglycaemia (Chinese T2DM guideline
    2020; ADA Standards of Care 2024 §6); 16.7 is where the guideline asks to look for a hyperglycaemic crisis,
    33.3 is the glucose of a hyperosmolar hyperglycaemic state."""

    low: float = Field(3.9, gt=0, le=10)
    urgent_low: float = Field(3.0, gt=0, le=10)
    high: float = Field(16.7, gt=5, le=40)
    urgent_high: float = Field(33.3, gt=5, le=45)

    @model_validator(mode="after")
    def _ordered(self) -> GlucoseLimits:
        if not (self.urgent_low <= self.low < self.high <= self.urgent_high):
            raise ValueError("need urgent_low <= low < high <= urgent_high")
        return self


class Spo2Limits(_Limits):
    """% SpO2. Default below 90 % (BTS 2017 target 94-98 %; < 90 % needs attention); a COPD resident at risk of
    hypercapnia has a target of 88-92 %, so their `low` is 88."""

    low: float = Field(90, ge=70, le=99)
    urgent_low: float = Field(85, ge=60, le=99)
    sustain_s: float = Field(300, ge=0, le=3600)

    @model_validator(mode="after")
    def _ordered(self) -> Spo2Limits:
        if self.urgent_low > self.low:
            raise ValueError("need urgent_low <= low")
        return self


class FeverLimits(_Limits):
    """°C. Fever from 37.3 °C (诊断学, 9th edition: 37.3-38 low, 38.1-39 moderate, 39.1-41 high); hypothermia
    below 35.0 °C."""

    fever: float = Field(37.3, ge=36.5, le=39)
    high_fever: float = Field(39.1, ge=37.5, le=42)
    hypothermia: float = Field(35.0, ge=30, le=36)

    @model_validator(mode="after")
    def _ordered(self) -> FeverLimits:
        if not (self.hypothermia < self.fever < self.high_fever):
            raise ValueError("need hypothermia < fever < high_fever")
        return self


class WeightGainLimits(_Limits):
    """Heart failure: a gain of more than `gain_kg` within `days` (ESC 2021 heart-failure guideline, patient
    self-care: > 2 kg in 3 days). `watch` is off unless set for a resident (or for the whole home)."""

    watch: bool = False
    gain_kg: float = Field(2.0, gt=0, le=10)
    days: float = Field(3.0, gt=0, le=14)


class _PerResident(BaseModel, Generic[L]):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    limits: L
    residents: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _targets_valid(self) -> _PerResident[L]:
        for resident in self.residents:
            self.limits_for(resident)
        return self

    def limits_for(self, resident: str | None) -> L:
        """The home's limits with the resident's own laid over them."""
        own = self.residents.get(resident or "", {})
        return type(self.limits)(**{**self.limits.model_dump(), **own}) if own else self.limits


class GlucoseConfig(_PerResident[GlucoseLimits]):
    """Glucose readings: hypoglycaemia with a spoken prompt and a window for the repeat after treatment."""

    limits: GlucoseLimits = GlucoseLimits()
    repeat_window_s: float = Field(900.0, ge=300, le=3600)  # the 15-15 rule: 15 g sugar, measure after 15 min


class Spo2Config(_PerResident[Spo2Limits]):
    """Oxygen saturation below the resident's threshold, sustained."""

    limits: Spo2Limits = Spo2Limits()


class FeverConfig(_PerResident[FeverLimits]):
    """Body temperature: fever and hypothermia."""

    limits: FeverLimits = FeverLimits()


class WeightGainConfig(_PerResident[WeightGainLimits]):
    """Weight gain over a window, for residents with heart failure."""

    limits: WeightGainLimits = WeightGainLimits()
