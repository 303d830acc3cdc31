"""The reminders document the server pushes and the gateway runs (one schema for both sides).

The server validates and sends it (server/home_reminders.py); the gateway keeps it and says the
reminders (gateway/reminders/rule.py, gateway/rulebook.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule as RRule
from dateutil.rrule import rrulestr
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

COMMAND = "reminders_config"
REPORT_KINDS = ("reminders_applied", "reminders_rejected")
OUTCOME_KINDS = ("reminder_confirmed", "reminder_missed")


class RemindersError(Exception):
    """A reminders document that cannot be used; the reminders in force stay."""


class Reminder(BaseModel):
    """One reminder: what to say, when (an RFC 5545 RRULE in the home's time), how often to repeat it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=64)
    kind: Literal["medication", "measurement"]
    what: str = Field(min_length=1, max_length=120, description="said inside the prompt: a drug and dose")
    rrule: str = Field(min_length=5, max_length=500, description="e.g. FREQ=DAILY;BYHOUR=8;BYMINUTE=0")
    start: datetime = Field(description="first day, local wall-clock time of the home (no zone)")
    metric: Literal["blood_pressure"] | None = None  # a measurement reminder is confirmed by taking it
    repeats: int = Field(3, ge=1, le=10, description="times it is said before it counts as missed")
    repeat_every_min: float = Field(10.0, ge=1, le=120)

    @field_validator("rrule")
    @classmethod
    def _rrule_valid(cls, value: str) -> str:
        text = value.strip().removeprefix("RRULE:")
        if "DTSTART" in text.upper() or "\n" in text:
            raise ValueError("give the start in `start`, and one RRULE line only")
        try:
            rrulestr(text, dtstart=datetime(2026, 1, 1))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"not an RRULE: {exc}") from exc
        return text

    @model_validator(mode="after")
    def _metric_fits(self) -> Reminder:
        if self.kind == "measurement" and self.metric is None:
            raise ValueError("a measurement reminder names its metric (blood_pressure)")
        if self.start.tzinfo is not None:
            raise ValueError("start is the home's local time: leave out the zone")
        return self

    @property
    def window_s(self) -> float:
        """How long an occurrence is spoken and waited for before it counts as missed."""
        return self.repeats * self.repeat_every_min * 60

    def occurrences(self, tz: ZoneInfo) -> RRule:
        """The reminder's times, as aware datetimes in the home's zone."""
        return rrulestr(self.rrule, dtstart=self.start.replace(tzinfo=tz))  # type: ignore[return-value]  # one RRULE line: rrulestr gives an rrule, not a set

    def next_due(self, tz: ZoneInfo, after: float) -> float | None:
        """The first occurrence at or after `after` (epoch seconds), if any."""
        found = self.occurrences(tz).after(datetime.fromtimestamp(after, tz), inc=True)
        return None if found is None else found.timestamp()


class RemindersDoc(BaseModel):
    """Every reminder of one home, versioned like the rules document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    reminders: list[Reminder] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _unique(self) -> RemindersDoc:
        ids = [r.id for r in self.reminders]
        if len(ids) != len(set(ids)):
            raise ValueError("reminder ids must be unique")
        return self


def parse(args: Mapping[str, Any]) -> RemindersDoc:
    """A `reminders_config` command's arguments as a document; raises RemindersError."""
    try:
        return RemindersDoc.model_validate(dict(args))
    except ValidationError as exc:
        raise RemindersError(f"invalid reminders: {exc}") from exc
