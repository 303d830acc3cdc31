"""Oxygen saturation below the resident's threshold, sustained (default < 90 %; a COPD resident's own
target range, e.g. 88 %). Sources in docs/rules.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from anxin.rules_chronic import Spo2Limits
from gateway.model import Action, Alarm, AlarmChange, Reading, Severity
from gateway.rules.engine import Input
from gateway.rules.recent import stale

TYPE = "low_spo2"


@dataclass(frozen=True, slots=True)
class LowSince:
    """Since when (epoch s) every reading has been below the threshold, the lowest seen, whether alarmed."""

    since: float
    lowest: float
    alarmed: bool = False


@dataclass(frozen=True, slots=True)
class OxygenRule:
    """Raises once per episode when readings stay below `low` for `sustain_s`; the first reading at or above
    `low` ends the episode (and clears its alarm). A single low spot-check asks for a rest and a repeat."""

    limits_for: Callable[[str | None], Spo2Limits]
    resident: str | None = None
    name: str = "spo2"
    # What it reads (the engine shows it nothing else): SpO2 readings.
    inputs: ClassVar[frozenset[str]] = frozenset({"reading:spo2"})

    def initial(self) -> LowSince | None:
        """Saturation in range."""
        return None

    def evaluate(
        self, state: LowSince | None, item: Input, now: datetime
    ) -> tuple[LowSince | None, list[Alarm], list[Action]]:
        """Track the low episode on each SpO2 reading."""
        if not (isinstance(item, Reading) and item.metric == "spo2" and "spo2" in item.values) or stale(item, now):
            return state, [], []
        t, value = now.timestamp(), float(item.values["spo2"])
        limits = self.limits_for(self.resident)
        if value >= limits.low:
            if state is not None and state.alarmed:
                return (
                    None,
                    [Alarm(TYPE, Severity.WARNING, f"SpO2 back to {value:.0f} %", item.device, AlarmChange.CLEAR)],
                    [],
                )
            return None, [], []
        if state is None:
            state = LowSince(t, value)
            actions = [] if "continuous" in item.flags else [Action("say", "spo2_repeat", item.device)]
        else:
            state = LowSince(state.since, min(state.lowest, value), state.alarmed)
            actions = []
        if state.alarmed or t - state.since < limits.sustain_s:
            return state, [], actions
        severity = Severity.URGENT if state.lowest < limits.urgent_low else Severity.WARNING
        detail: dict[str, Any] = {
            "spo2": value,
            "lowest": state.lowest,
            "limit": limits.low,
            "minutes": round((t - state.since) / 60, 1),
        }
        alarm = Alarm(
            TYPE,
            severity,
            f"SpO2 below {limits.low:.0f} % for {detail['minutes']:g} min (lowest {state.lowest:.0f} %)",
            item.device,
            detail=detail,
        )
        return LowSince(state.since, state.lowest, True), [alarm], actions
