"""Indoor temperature below or above the safe range for a sustained time -> warning, with recovery."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

from gateway.model import Action, Alarm, AlarmChange, Reading, Severity
from gateway.rules.engine import Input, Tick


@dataclass(frozen=True, slots=True)
class TemperatureState:
    """Per sensor: since when (epoch s) and at what temperature it is out of range; whether alarmed."""

    out: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    alarmed: bool = False


@dataclass(frozen=True, slots=True)
class TemperatureRule:
    """Out of [low_c, high_c] for `sustain_s` on any sensor raises once; all sensors back in range clears."""

    low_c: float = 10.0
    high_c: float = 32.0
    sustain_s: float = 1800.0
    name: str = "temperature"
    # What it reads (the engine shows it nothing else): climate readings and time passing.
    inputs: ClassVar[frozenset[str]] = frozenset({"tick", "reading:climate"})

    def initial(self) -> TemperatureState:
        """Everything in range."""
        return TemperatureState()

    def evaluate(
        self, state: TemperatureState, item: Input, now: datetime
    ) -> tuple[TemperatureState, list[Alarm], list[Action]]:
        """Track each sensor's excursion; decide on readings and on time passing."""
        t = now.timestamp()
        if isinstance(item, Reading) and item.metric == "climate" and "temperature" in item.values:
            temp = float(item.values["temperature"])
            if not math.isfinite(temp):
                return state, [], []  # NaN compares false both ways: it would pass as "in range" and clear
            bad = temp < self.low_c or temp > self.high_c
            if bad or item.device in state.out:  # an in-range reading of an in-range sensor changes nothing
                out = dict(state.out)
                if bad:
                    out[item.device] = (out[item.device][0], temp) if item.device in out else (t, temp)
                else:
                    out.pop(item.device, None)
                state = replace(state, out=out)
        elif not isinstance(item, Tick):
            return state, [], []
        if state.alarmed and not state.out:
            return (
                replace(state, alarmed=False),
                [
                    Alarm(
                        "indoor_temperature",
                        Severity.WARNING,
                        "Indoor temperature back in range",
                        None,
                        AlarmChange.CLEAR,
                    )
                ],
                [],
            )
        if not state.alarmed:
            for device, (since, temp) in sorted(state.out.items()):
                if t - since >= self.sustain_s:
                    word = "cold" if temp < self.low_c else "hot"
                    alarm = Alarm(
                        "indoor_temperature",
                        Severity.WARNING,
                        f"Indoor temperature {temp:.1f} °C too {word} for {round((t - since) / 60)} min",
                        device,
                        detail={"temperature": temp, "since": since, "direction": word},
                    )
                    return replace(state, alarmed=True), [alarm], []
        return state, [], []

    def dump(self, state: TemperatureState) -> Any:
        """Excursions in progress survive a restart (the 30 minutes keep counting)."""
        return {"out": {d: list(v) for d, v in state.out.items()}, "alarmed": state.alarmed}

    def load(self, data: Any) -> TemperatureState:
        """Back from dump()."""
        out = {str(d): (float(v[0]), float(v[1])) for d, v in data["out"].items()}
        return TemperatureState(out, bool(data["alarmed"]))
