"""Blood glucose: hypoglycaemia at once with a spoken prompt and a window for the repeat after treatment,
and marked hyperglycaemia. Sources in docs/rules.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, ClassVar

from anxin.rules_chronic import GlucoseLimits
from gateway.model import Action, Alarm, AlarmChange, Reading, Severity
from gateway.rules.engine import Input, Tick
from gateway.rules.recent import stale

HYPO, HYPER = "hypoglycaemia", "hyperglycaemia"


@dataclass(frozen=True, slots=True)
class LowPending:
    """A low reading whose repeat after treatment is awaited."""

    at: float
    mmol_l: float
    device: str
    severity: str


def _glucose(item: Input) -> float | None:
    if isinstance(item, Reading) and item.metric == "glucose" and "glucose_mmol_l" in item.values:
        return float(item.values["glucose_mmol_l"])
    return None


@dataclass(frozen=True, slots=True)
class GlucoseRule:
    """A low glucose is never held back: the alarm goes out with the first reading (a severe low can take
    away the ability to measure again). The repeat in the window says whether treatment worked; none is news."""

    limits_for: Callable[[str | None], GlucoseLimits]
    resident: str | None = None
    repeat_window_s: float = 900.0
    name: str = "glucose"
    # What it reads (the engine shows it nothing else): glucose readings and time passing.
    inputs: ClassVar[frozenset[str]] = frozenset({"tick", "reading:glucose"})

    def initial(self) -> LowPending | None:
        """No low reading awaiting its repeat."""
        return None

    def evaluate(
        self, state: LowPending | None, item: Input, now: datetime
    ) -> tuple[LowPending | None, list[Alarm], list[Action]]:
        """Judge a glucose reading; on time passing, report a low that was never re-measured."""
        t = now.timestamp()
        if isinstance(item, Tick):
            if state is not None and t - state.at > self.repeat_window_s:
                alarm = Alarm(
                    HYPO,
                    Severity.URGENT,
                    f"Low glucose {state.mmol_l:.1f} mmol/L not re-measured within {self.repeat_window_s / 60:.0f} min",
                    state.device,
                    detail={"glucose_mmol_l": state.mmol_l, "repeat": "missing"},
                )
                return None, [alarm], [Action("say", "glucose_repeat_missing", state.device)]
            return state, [], []
        value = _glucose(item)
        if value is None or (isinstance(item, Reading) and stale(item, now)):
            return state, [], []
        assert isinstance(item, Reading)
        limits = self.limits_for(self.resident)
        pending = state if state is not None and t - state.at <= self.repeat_window_s else None
        if value < limits.low:
            return self._low(item, value, limits, pending, t)
        alarms: list[Alarm] = []
        actions: list[Action] = []
        if pending is not None:
            alarms.append(
                Alarm(
                    HYPO,
                    Severity(pending.severity),
                    f"Glucose back to {value:.1f} mmol/L after {pending.mmol_l:.1f}",
                    item.device,
                    AlarmChange.UPDATE,
                    {"glucose_mmol_l": value, "first": pending.mmol_l, "repeat": "recovered"},
                )
            )
            actions.append(Action("say", "glucose_recovered", item.device))
        alarms.extend(self._high(item, value, limits))
        return None, alarms, actions

    def _low(
        self, item: Reading, value: float, limits: GlucoseLimits, pending: LowPending | None, t: float
    ) -> tuple[LowPending, list[Alarm], list[Action]]:
        urgent = value < limits.urgent_low or pending is not None  # still low after treatment is urgent too
        severity = Severity.URGENT if urgent else Severity.WARNING
        level = 2 if value < limits.urgent_low else 1
        if pending is not None:
            message = f"Glucose still low on repeat: {value:.1f} mmol/L (first {pending.mmol_l:.1f})"
        else:
            message = f"Hypoglycaemia level {level}: {value:.1f} mmol/L"
        detail: dict[str, Any] = {"glucose_mmol_l": value, "level": level, "limit": limits.low}
        if pending is not None:
            detail.update(first=pending.mmol_l, repeat="still_low")
        say = "glucose_urgent_low" if urgent else "glucose_low"
        return (
            LowPending(t, value, item.device, severity.value),
            [Alarm(HYPO, severity, message, item.device, detail=detail)],
            [Action("say", say, item.device)],
        )

    @staticmethod
    def _high(item: Reading, value: float, limits: GlucoseLimits) -> list[Alarm]:
        above = "result_above_range" in item.flags  # "HI" on the meter: beyond what it can measure
        if value >= limits.urgent_high or above:
            return [
                Alarm(
                    HYPER,
                    Severity.URGENT,
                    f"Very high glucose {value:.1f} mmol/L{' (above the meter range)' if above else ''}",
                    item.device,
                    detail={"glucose_mmol_l": value, "limit": limits.urgent_high},
                )
            ]
        if value >= limits.high:
            return [
                Alarm(
                    HYPER,
                    Severity.WARNING,
                    f"Marked hyperglycaemia {value:.1f} mmol/L",
                    item.device,
                    detail={"glucose_mmol_l": value, "limit": limits.high},
                )
            ]
        return []

    def dump(self, state: LowPending | None) -> Any:
        """A low awaiting its repeat survives a restart."""
        return None if state is None else asdict(state)

    def load(self, data: Any) -> LowPending | None:
        """Back from dump()."""
        return None if data is None else LowPending(**data)
