"""Home blood pressure: urgent values confirmed by a repeat, warnings, pulse, and notes for the doctor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar

from anxin.rules_document import BpLimits
from gateway.model import Action, Alarm, Reading, Severity
from gateway.rules.engine import Input, Tick

# The device layer's names (gateway/devices/bp.py); these three mean the measurement itself was disturbed.
DISTURBED_FLAGS = frozenset({"body_movement", "cuff_too_loose", "improper_position"})


@dataclass(frozen=True, slots=True)
class Pending:
    """A very high first reading waiting for its repeat."""

    at: float
    systolic: float
    diastolic: float
    device: str


def _values(r: Reading) -> tuple[float, float, float | None] | None:
    v = r.values
    if "systolic" not in v or "diastolic" not in v:
        return None
    pulse = v.get("pulse")
    return float(v["systolic"]), float(v["diastolic"]), float(pulse) if pulse is not None else None


@dataclass(frozen=True, slots=True)
class BloodPressureRule:
    """Thresholds come from `limits_for(resident)`: the home's defaults with the resident's targets."""

    limits_for: Callable[[str | None], BpLimits]
    resident: str | None = None
    confirm_window_s: float = 600.0
    note_irregular_pulse: bool = True
    name: str = "blood_pressure"
    # What it reads (the engine shows it nothing else): blood-pressure readings and time passing.
    inputs: ClassVar[frozenset[str]] = frozenset({"tick", "reading:blood_pressure"})

    def initial(self) -> Pending | None:
        """No reading waiting for a repeat."""
        return None

    def evaluate(
        self, state: Pending | None, item: Input, now: datetime
    ) -> tuple[Pending | None, list[Alarm], list[Action]]:
        """Classify a reading; on time passing, report a very high reading that was never repeated."""
        t = now.timestamp()
        if isinstance(item, Tick):
            if state is not None and t - state.at > self.confirm_window_s:
                return (
                    None,
                    [
                        self._alarm(
                            Severity.WARNING,
                            "Very high blood pressure, not repeated",
                            state.device,
                            state.systolic,
                            state.diastolic,
                            unconfirmed=True,
                        )
                    ],
                    [],
                )
            return state, [], []
        if not isinstance(item, Reading) or item.metric != "blood_pressure":
            return state, [], []
        values = _values(item)
        if values is None:
            return state, [], []
        if item.flags & DISTURBED_FLAGS:
            # The cuff or the posture spoiled the measurement: ask again, judge nothing.
            return (
                state,
                [],
                [Action("say", "bp_repeat_quality", item.device, {"flags": sorted(item.flags & DISTURBED_FLAGS)})],
            )
        systolic, diastolic, pulse = values
        limits = self.limits_for(str(item.detail.get("resident") or self.resident or "") or None)
        alarms: list[Alarm] = []
        actions: list[Action] = []
        if self.note_irregular_pulse and "irregular_pulse" in item.flags:
            alarms.append(
                Alarm(
                    "irregular_pulse",
                    Severity.INFO,
                    "Irregular pulse during measurement: for the doctor",
                    item.device,
                    detail={"systolic": systolic, "diastolic": diastolic},
                )
            )
        urgent = systolic >= limits.urgent_systolic or diastolic >= limits.urgent_diastolic
        pending = state if state is not None and t - state.at <= self.confirm_window_s else None
        new_state: Pending | None = None
        if urgent and pending is not None:
            alarms.append(
                self._alarm(
                    Severity.URGENT,
                    "Very high blood pressure, confirmed by a repeat",
                    item.device,
                    systolic,
                    diastolic,
                    first=(pending.systolic, pending.diastolic),
                )
            )
            actions.append(Action("say", "bp_urgent", item.device))
        elif urgent:
            new_state = Pending(t, systolic, diastolic, item.device)
            actions.append(Action("say", "bp_repeat_high", item.device))
        else:
            if pending is not None:
                # The repeat came back lower: judge the mean of both, as home monitoring averages readings.
                systolic, diastolic = (systolic + pending.systolic) / 2, (diastolic + pending.diastolic) / 2
            alarms.extend(self._warnings(limits, item.device, systolic, diastolic))
        if pulse is not None and not (limits.pulse_low <= pulse <= limits.pulse_high):
            alarms.append(
                Alarm(
                    "pulse_abnormal",
                    Severity.WARNING,
                    f"Pulse {pulse:.0f}/min out of range",
                    item.device,
                    detail={"pulse": pulse, "low": limits.pulse_low, "high": limits.pulse_high},
                )
            )
        return new_state, alarms, actions

    def dump(self, state: Pending | None) -> Any:
        """A very high reading waiting for its repeat survives a restart."""
        return None if state is None else asdict(state)

    def load(self, data: Any) -> Pending | None:
        """Back from dump()."""
        return None if data is None else Pending(**data)

    def _warnings(self, limits: BpLimits, device: str, systolic: float, diastolic: float) -> list[Alarm]:
        if systolic >= limits.warning_systolic or diastolic >= limits.warning_diastolic:
            return [self._alarm(Severity.WARNING, "High blood pressure", device, systolic, diastolic)]
        if systolic < limits.low_systolic:
            return [
                Alarm(
                    "bp_low",
                    Severity.WARNING,
                    "Low blood pressure (hypotension)",
                    device,
                    detail={"systolic": systolic, "diastolic": diastolic, "limit": limits.low_systolic},
                )
            ]
        return []

    @staticmethod
    def _alarm(
        severity: Severity, message: str, device: str, systolic: float, diastolic: float, **extra: object
    ) -> Alarm:
        detail: Mapping[str, object] = {"systolic": round(systolic, 1), "diastolic": round(diastolic, 1), **extra}
        return Alarm("bp_high", severity, f"{message}: {systolic:.0f}/{diastolic:.0f} mmHg", device, detail=detail)
