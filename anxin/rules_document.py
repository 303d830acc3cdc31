"""The rules document: per home and per resident, validated before it is used.

One schema for both sides: the gateway runs it (its settings file's `rules:` and pushed versions), the
server validates a document with it before sending (server/rules_push.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from anxin.rules_chronic import FeverConfig, GlucoseConfig, Spo2Config, WeightGainConfig


class RulesConfigError(Exception):
    """A rules document that cannot be used; the previous configuration stays in force."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True


class SosConfig(_Section):
    """SOS button: raise at once; a cancel inside the window retracts (recorded)."""

    cancel_window_s: float = Field(60.0, ge=0, le=600)

    @model_validator(mode="after")
    def _always_on(self) -> SosConfig:
        if not self.enabled:
            raise ValueError("the SOS rule cannot be disabled: a press must always raise an alarm")
        return self


class FallConfig(_Section):
    """Falls: pre-alarm with a spoken prompt, then an emergency unless cancelled."""

    cancel_window_s: float = Field(30.0, ge=5, le=300)
    watch_window_s: float = Field(120.0, ge=10, le=1800)
    long_lie_min: float = Field(20.0, ge=1, le=240)


class BpLimits(BaseModel):
    """Thresholds in mmHg and beats per minute; a resident's targets override the home's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    urgent_systolic: float = Field(180, gt=0, le=300)
    urgent_diastolic: float = Field(110, gt=0, le=200)
    warning_systolic: float = Field(160, gt=0, le=300)
    warning_diastolic: float = Field(100, gt=0, le=200)
    low_systolic: float = Field(90, gt=0, le=200)
    pulse_low: float = Field(40, gt=0, le=200)
    pulse_high: float = Field(130, gt=0, le=300)

    @model_validator(mode="after")
    def _ordered(self) -> BpLimits:
        if not (self.low_systolic < self.warning_systolic <= self.urgent_systolic):
            raise ValueError("need low_systolic < warning_systolic <= urgent_systolic")
        if self.warning_diastolic > self.urgent_diastolic:
            raise ValueError("need warning_diastolic <= urgent_diastolic")
        if self.pulse_low >= self.pulse_high:
            raise ValueError("need pulse_low < pulse_high")
        return self


class BloodPressureConfig(_Section):
    """Home blood-pressure readings (ESH 2023, Chinese guideline 2024)."""

    confirm_window_s: float = Field(600.0, ge=60, le=3600)
    limits: BpLimits = BpLimits()
    residents: dict[str, dict[str, float]] = Field(default_factory=dict)
    note_irregular_pulse: bool = True

    @model_validator(mode="after")
    def _targets_valid(self) -> BloodPressureConfig:
        for resident in self.residents:
            self.limits_for(resident)
        return self

    def limits_for(self, resident: str | None) -> BpLimits:
        """The home's limits with the resident's own targets laid over them."""
        own = self.residents.get(resident or "", {})
        return BpLimits(**{**self.limits.model_dump(), **own}) if own else self.limits


class InactivityConfig(_Section):
    """No movement for longer than the home's learned normal, per time-of-day slot."""

    slot_minutes: int = Field(60, ge=15, le=360)
    default_day_min: float = Field(240, ge=30)
    default_night_min: float = Field(720, ge=60)
    night_start: time = time(22, 0)
    night_end: time = time(7, 0)
    learn_days: int = Field(7, ge=1, le=60)
    keep_days: int = Field(28, ge=7, le=180)
    margin_ratio: float = Field(0.25, ge=0, le=3)
    margin_min: float = Field(30, ge=0, le=240)
    min_threshold_min: float = Field(60, ge=10)
    max_threshold_min: float = Field(960, ge=60)
    prewarn_min: float = Field(5, ge=0, le=30)

    @model_validator(mode="after")
    def _slots_fill_a_day(self) -> InactivityConfig:
        if 24 * 60 % self.slot_minutes:
            raise ValueError(f"slot_minutes must divide a day (1440 min) evenly, got {self.slot_minutes}")
        return self


class CheckinConfig(_Section):
    """Daily check-in (平安键): a press or activity between `start` and `deadline`."""

    start: time = time(5, 0)
    deadline: time = time(10, 0)
    count_activity: bool = True
    ask_aloud: bool = True  # the home asks "are you well today?" when nobody has checked in by `ask_at`
    ask_at: time | None = None  # none: an hour before the deadline, not before `start`

    @model_validator(mode="after")
    def _order(self) -> CheckinConfig:
        if self.start >= self.deadline:
            raise ValueError("start must be before deadline")
        if self.ask_at is not None and not self.start <= self.ask_at < self.deadline:
            raise ValueError("ask_at must be between start and deadline")
        return self

    def ask_time(self) -> time:
        """When the home asks aloud."""
        if self.ask_at is not None:
            return self.ask_at
        hour_before = (self.deadline.hour * 60 + self.deadline.minute - 60) % (24 * 60)
        return max(self.start, time(hour_before // 60, hour_before % 60))


class NightConfig(_Section):
    """The front door opened at night and nobody back within `return_min`."""

    start: time = time(22, 0)
    end: time = time(6, 0)
    return_min: float = Field(15, ge=1, le=240)
    doors: list[str] = Field(default_factory=list)
    motion_grace_s: float = Field(60, ge=0, le=600)


class TemperatureConfig(_Section):
    """Indoor temperature out of range for a sustained time."""

    low_c: float = Field(10.0, ge=-20, le=30)
    high_c: float = Field(32.0, ge=15, le=50)
    sustain_min: float = Field(30, ge=1, le=720)

    @model_validator(mode="after")
    def _order(self) -> TemperatureConfig:
        if self.low_c >= self.high_c:
            raise ValueError("low_c must be below high_c")
        return self


class SupervisionConfig(_Section):
    """Technical alarms for devices offline, batteries low, the zigbee bridge down."""


class DampingConfig(BaseModel):
    """Storm damping: repeats of an open alarm are merged, never an emergency."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_interval_s: float = Field(60.0, ge=0, le=3600)
    reopen_after_s: float = Field(3600.0, ge=60)


class RulesConfig(BaseModel):
    """Everything under `rules:` in the gateway file, or pushed by the server as one document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sos: SosConfig = SosConfig()
    fall: FallConfig = FallConfig()
    blood_pressure: BloodPressureConfig = BloodPressureConfig()
    inactivity: InactivityConfig = InactivityConfig()
    checkin: CheckinConfig = CheckinConfig()
    night: NightConfig = NightConfig()
    temperature: TemperatureConfig = TemperatureConfig()
    supervision: SupervisionConfig = SupervisionConfig()
    glucose: GlucoseConfig = GlucoseConfig()
    spo2: Spo2Config = Spo2Config()
    fever: FeverConfig = FeverConfig()
    weight_gain: WeightGainConfig = WeightGainConfig()
    damping: DampingConfig = DampingConfig()


def parse_rules(doc: Mapping[str, Any] | None) -> RulesConfig:
    """Validate a rules document; raises RulesConfigError naming every problem."""
    if doc is None:
        return RulesConfig()
    if not isinstance(doc, Mapping):
        raise RulesConfigError(f"rules must be a mapping, not {type(doc).__name__}")
    try:
        return RulesConfig.model_validate(dict(doc))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors())
        raise RulesConfigError(problems) from exc
