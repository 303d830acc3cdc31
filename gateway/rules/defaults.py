"""Builds the engine from the validated rules configuration (defaults when the document is empty)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from anxin.rules_document import RulesConfig, parse_rules
from gateway.rules.blood_pressure import BloodPressureRule
from gateway.rules.checkin import CheckinRule
from gateway.rules.damping import StormDamper
from gateway.rules.engine import Engine, Rule
from gateway.rules.fall import FallRule
from gateway.rules.fever import FeverRule
from gateway.rules.glucose import GlucoseRule
from gateway.rules.inactivity import InactivityRule
from gateway.rules.night import NightRule
from gateway.rules.oxygen import OxygenRule
from gateway.rules.sos import SosRule
from gateway.rules.supervision import SupervisionRule
from gateway.rules.temperature import TemperatureRule
from gateway.rules.weight_gain import WeightGainRule


def build_engine(
    config: RulesConfig | Mapping[str, Any] | None = None, timezone: str = "Asia/Shanghai", resident: str | None = None
) -> Engine:
    """Build the engine; raises RulesConfigError when a raw document does not validate."""
    cfg = config if isinstance(config, RulesConfig) else parse_rules(config)
    tz = ZoneInfo(timezone)
    candidates: list[tuple[bool, Rule]] = [
        (cfg.sos.enabled, SosRule(cancel_window_s=cfg.sos.cancel_window_s)),
        (
            cfg.fall.enabled,
            FallRule(
                cancel_window_s=cfg.fall.cancel_window_s,
                watch_window_s=cfg.fall.watch_window_s,
                long_lie_s=cfg.fall.long_lie_min * 60,
            ),
        ),
        (
            cfg.blood_pressure.enabled,
            BloodPressureRule(
                cfg.blood_pressure.limits_for,
                resident,
                cfg.blood_pressure.confirm_window_s,
                cfg.blood_pressure.note_irregular_pulse,
            ),
        ),
        (cfg.inactivity.enabled, InactivityRule(cfg.inactivity, tz)),
        (cfg.checkin.enabled, CheckinRule(cfg.checkin, tz)),
        (cfg.night.enabled, NightRule(cfg.night, tz)),
        (
            cfg.temperature.enabled,
            TemperatureRule(cfg.temperature.low_c, cfg.temperature.high_c, cfg.temperature.sustain_min * 60),
        ),
        (cfg.supervision.enabled, SupervisionRule()),
        (cfg.glucose.enabled, GlucoseRule(cfg.glucose.limits_for, resident, cfg.glucose.repeat_window_s)),
        (cfg.spo2.enabled, OxygenRule(cfg.spo2.limits_for, resident)),
        (cfg.fever.enabled, FeverRule(cfg.fever.limits_for, resident)),
        (cfg.weight_gain.enabled, WeightGainRule(cfg.weight_gain.limits_for, resident)),
    ]
    damper = StormDamper(cfg.damping.min_interval_s, cfg.damping.reopen_after_s)
    return Engine(tuple(rule for enabled, rule in candidates if enabled), damper)
