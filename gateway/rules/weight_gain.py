"""Heart failure: a weight gain of more than `gain_kg` within `days` (fluid retention before breathlessness).
Sources in docs/rules.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from anxin.rules_chronic import WeightGainLimits
from gateway.model import Action, Alarm, Reading, Severity
from gateway.rules.engine import Input
from gateway.rules.recent import stale

DAY = 86400.0
KEEP_DAYS = 14  # the longest window a setting allows

Weights = tuple[tuple[float, float], ...]  # (epoch s, kg), oldest first


@dataclass(frozen=True, slots=True)
class WeightGainRule:
    """Compares each weighing with the lowest one in the preceding window; the history survives restarts."""

    limits_for: Callable[[str | None], WeightGainLimits]
    resident: str | None = None
    name: str = "weight_gain"
    # What it reads (the engine shows it nothing else): weighings.
    inputs: ClassVar[frozenset[str]] = frozenset({"reading:weight"})

    def initial(self) -> Weights:
        """No weighings yet."""
        return ()

    def evaluate(self, state: Weights, item: Input, now: datetime) -> tuple[Weights, list[Alarm], list[Action]]:
        """Record the weighing; alarm when it is more than the limit above the window's lowest."""
        if not (isinstance(item, Reading) and item.metric == "weight" and "weight_kg" in item.values):
            return state, [], []
        limits = self.limits_for(self.resident)
        t = (item.ts or now).timestamp()
        kg = float(item.values["weight_kg"])
        latest = max([t, *(s for s, _ in state)])
        kept = tuple(sorted(p for p in (*state, (t, kg)) if latest - p[0] <= KEEP_DAYS * DAY))
        if not limits.watch or stale(item, now, DAY):  # a late upload fills the history, raises nothing
            return kept, [], []
        window = [(s, w) for s, w in state if 0 < t - s <= limits.days * DAY]
        if not window:
            return kept, [], []
        since, base = min(window, key=lambda sw: sw[1])
        gain = kg - base
        if gain <= limits.gain_kg:
            return kept, [], []
        days = (t - since) / DAY
        alarm = Alarm(
            "weight_gain",
            Severity.WARNING,
            f"Weight up {gain:.1f} kg in {days:.1f} days ({base:.1f} -> {kg:.1f} kg): possible fluid retention",
            item.device,
            detail={
                "gain_kg": round(gain, 2),
                "days": round(days, 2),
                "from_kg": base,
                "to_kg": kg,
                "limit_kg": limits.gain_kg,
                "window_days": limits.days,
            },
        )
        return kept, [alarm], [Action("say", "weight_gain", item.device)]

    def dump(self, state: Weights) -> Any:
        """The weighings of the last two weeks, for a restart."""
        return [list(p) for p in state]

    def load(self, data: Any) -> Weights:
        """Back from dump(); raises ValueError when it does not fit."""
        return tuple((float(s), float(w)) for s, w in data)
