"""Reminders as a rule: said at their time, repeated, confirmed by the button or the measurement (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from anxin.reminders_document import Reminder
from gateway.model import Action, Alarm, DeviceEvent, EventKind, Reading, Severity
from gateway.rules.common import CANCEL_KINDS
from gateway.rules.engine import Input, Tick

CONFIRM_KINDS = CANCEL_KINDS | {EventKind.CHECKIN}  # any press of "I'm fine" answers a reminder


@dataclass(frozen=True, slots=True)
class Pending:
    """An occurrence being said: when it was due, how often it has been said, when last."""

    due: float
    said: int
    last: float


@dataclass(frozen=True, slots=True)
class ReminderState:
    """Per reminder: its next time (by id and schedule), and the occurrence waiting for an answer (by id)."""

    upcoming: Mapping[str, float | None] = field(default_factory=dict)
    pending: Mapping[str, Pending] = field(default_factory=dict)


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat()


@dataclass(frozen=True, slots=True)
class ReminderRule:
    """Say each reminder at its time and every `repeat_every_min` until answered or `repeats` are used up."""

    reminders: Sequence[Reminder]
    tz: ZoneInfo
    name: str = "reminders"

    @property
    def inputs(self) -> frozenset[str]:
        """What it reads (gateway/rules/engine.py): time, presses, and the metrics its reminders ask for."""
        return frozenset({"tick", "event", *(f"reading:{r.metric}" for r in self.reminders if r.metric)})

    def initial(self) -> ReminderState:
        """Nothing scheduled yet: the first tick finds each reminder's next time."""
        return ReminderState()

    def evaluate(
        self, state: ReminderState, item: Input, now: datetime
    ) -> tuple[ReminderState, list[Alarm], list[Action]]:
        """Time passing says, repeats or gives up; a press or the asked-for measurement confirms."""
        t = now.timestamp()
        if isinstance(item, Tick):
            return self._tick(state, t)
        if isinstance(item, DeviceEvent) and item.kind in CONFIRM_KINDS:
            return self._confirm(state, [r for r in self.reminders if r.id in state.pending], "button", t)
        if isinstance(item, Reading):
            answered = [r for r in self.reminders if r.id in state.pending and r.metric == item.metric]
            return self._confirm(state, answered, "measurement", t)
        return state, [], []

    def _tick(self, state: ReminderState, t: float) -> tuple[ReminderState, list[Alarm], list[Action]]:
        upcoming, pending = dict(state.upcoming), dict(state.pending)
        alarms: list[Alarm] = []
        actions: list[Action] = []
        for r in self.reminders:
            p = pending.get(r.id)
            if p is not None:
                if t - p.last < r.repeat_every_min * 60:
                    continue
                if p.said < r.repeats:
                    pending[r.id] = replace(p, said=p.said + 1, last=t)
                    actions.append(_say(r))
                    continue
                del pending[r.id]  # said `repeats` times, never answered
                detail = {"reminder": r.id, "kind": r.kind, "what": r.what, "due": _iso(p.due), "said": p.said}
                alarms.append(
                    Alarm(
                        "reminder_missed",
                        Severity.WARNING,
                        f"{r.kind} reminder not confirmed after {p.said} prompts: {r.what}",
                        detail=detail,
                    )
                )
                actions.append(Action("report", "reminder_missed", None, detail))
                upcoming[_key(r)] = r.next_due(self.tz, t)
                continue
            key = _key(r)
            if key not in upcoming:  # new (or changed) reminder, or first start: an occurrence in its window counts
                upcoming[key] = r.next_due(self.tz, t - r.window_s + 1)
            due = upcoming[key]
            if due is not None and t >= due:
                pending[r.id] = Pending(due, 1, t)
                actions.append(_say(r))
                upcoming[key] = r.next_due(self.tz, max(t, due) + 1)
        for gone in set(upcoming) - {_key(r) for r in self.reminders}:
            del upcoming[gone]
        if upcoming == state.upcoming and pending == state.pending:
            return state, alarms, actions
        return ReminderState(upcoming, pending), alarms, actions

    def _confirm(
        self, state: ReminderState, answered: list[Reminder], by: str, t: float
    ) -> tuple[ReminderState, list[Alarm], list[Action]]:
        if not answered:
            return state, [], []
        pending = dict(state.pending)
        actions = [Action("say", "reminder_thanks")]
        for r in answered:
            p = pending.pop(r.id)
            actions.append(
                Action(
                    "report",
                    "reminder_confirmed",
                    None,
                    {
                        "reminder": r.id,
                        "kind": r.kind,
                        "what": r.what,
                        "due": _iso(p.due),
                        "said": p.said,
                        "by": by,
                        "at": _iso(t),
                    },
                )
            )
        return replace(state, pending=pending), [], actions

    def dump(self, state: ReminderState) -> Any:
        """A reminder being said survives a restart (and is not said from the start again)."""
        return {
            "upcoming": dict(state.upcoming),
            "pending": {k: [p.due, p.said, p.last] for k, p in state.pending.items()},
        }

    def load(self, data: Any) -> ReminderState:
        """Back from dump(); raises ValueError/TypeError/KeyError when it does not fit."""
        if not isinstance(data, dict):
            raise ValueError(f"reminder state must be an object, got {data!r}")
        upcoming = {str(k): None if v is None else float(v) for k, v in data["upcoming"].items()}
        pending = {str(k): Pending(float(v[0]), int(v[1]), float(v[2])) for k, v in data["pending"].items()}
        return ReminderState(upcoming, pending)


def _key(r: Reminder) -> str:
    # A changed schedule is a new key: its next time is found afresh.
    return f"{r.id}|{r.rrule}|{r.start.isoformat()}"


def _say(r: Reminder) -> Action:
    return Action("say", f"reminder_{r.kind}", None, {"what": r.what, "reminder": r.id})
