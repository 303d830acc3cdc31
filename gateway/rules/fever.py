"""Body temperature: fever and hypothermia from a thermometer reading. Sources in docs/rules.md."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from anxin.rules_chronic import FeverLimits
from gateway.model import Action, Alarm, Reading, Severity
from gateway.rules.engine import Input
from gateway.rules.recent import stale


@dataclass(frozen=True, slots=True)
class FeverRule:
    """Each reading is judged on its own; repeats of an open alarm are merged by the engine's damper."""

    limits_for: Callable[[str | None], FeverLimits]
    resident: str | None = None
    name: str = "fever"
    # What it reads (the engine shows it nothing else): body temperature readings.
    inputs: ClassVar[frozenset[str]] = frozenset({"reading:body_temperature"})

    def initial(self) -> None:
        """Stateless."""
        return None

    def evaluate(self, state: None, item: Input, now: datetime) -> tuple[None, list[Alarm], list[Action]]:
        """Fever (warning, high fever urgent) or hypothermia (urgent)."""
        if not (
            isinstance(item, Reading) and item.metric == "body_temperature" and "temperature_c" in item.values
        ) or stale(item, now):
            return None, [], []
        c, limits = float(item.values["temperature_c"]), self.limits_for(self.resident)
        detail = {"temperature_c": c}
        if c < limits.hypothermia:
            return (
                None,
                [
                    Alarm(
                        "hypothermia",
                        Severity.URGENT,
                        f"Body temperature {c:.1f} °C: hypothermia",
                        item.device,
                        detail=detail,
                    )
                ],
                [Action("say", "temperature_low", item.device)],
            )
        if c >= limits.high_fever:
            return (
                None,
                [Alarm("fever", Severity.URGENT, f"High fever {c:.1f} °C", item.device, detail=detail)],
                [Action("say", "fever", item.device)],
            )
        if c >= limits.fever:
            return (
                None,
                [Alarm("fever", Severity.WARNING, f"Fever {c:.1f} °C", item.device, detail=detail)],
                [Action("say", "fever", item.device)],
            )
        return None, [], []
