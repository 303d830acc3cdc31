"""Runs every rule over each message: (state, message, now) -> (state, alarms, actions), no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping, Protocol, Sequence

from gateway.model import Action, Alarm, DeviceMessage


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passing with nothing reported: lets timer rules (windows, inactivity) fire."""


Input = DeviceMessage | Tick


class Rule(Protocol):
    """One rule: its own slice of state in, new slice plus decisions out."""

    name: str

    def initial(self) -> Any:
        """The rule's state before anything has happened."""

    def evaluate(self, state: Any, item: Input, now: datetime) -> tuple[Any, list[Alarm], list[Action]]:
        """Decide on one input; must not touch clocks, files, brokers or databases."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the rules decided for one input."""

    state: Mapping[str, Any]
    alarms: tuple[Alarm, ...] = ()
    actions: tuple[Action, ...] = ()


@dataclass(frozen=True, slots=True)
class Engine:
    """An ordered set of rules evaluated together."""

    rules: Sequence[Rule] = field(default_factory=tuple)

    def initial(self) -> Mapping[str, Any]:
        """Every rule's initial state, by rule name."""
        return {r.name: r.initial() for r in self.rules}

    def evaluate(self, state: Mapping[str, Any], item: Input, now: datetime) -> Decision:
        """Feed one input to every rule."""
        new_state = dict(state)
        alarms: list[Alarm] = []
        actions: list[Action] = []
        for rule in self.rules:
            slice_, a, b = rule.evaluate(state.get(rule.name, rule.initial()), item, now)
            new_state[rule.name] = slice_
            alarms.extend(a)
            actions.extend(b)
        return Decision(new_state, tuple(alarms), tuple(actions))
