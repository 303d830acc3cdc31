"""Runs every rule over each message: (state, message, now) -> (state, alarms, actions), no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from gateway.model import Action, Alarm, DeviceMessage


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passing with nothing reported: lets timer rules (windows, inactivity) fire."""


@dataclass(frozen=True, slots=True)
class ModeChange:
    """The resident is away (or back): set from the home or by the server."""

    away: bool
    source: str = "home"


Input = DeviceMessage | Tick | ModeChange

OPEN = "_open"  # the engine's own slice: alarms it believes open, for storm damping


class Rule(Protocol):
    """One rule: its own slice of state in, new slice plus decisions out."""

    @property
    def name(self) -> str:
        """The key of the rule's slice of state."""

    def initial(self) -> Any:
        """The rule's state before anything has happened."""

    def evaluate(self, state: Any, item: Input, now: datetime) -> tuple[Any, list[Alarm], list[Action]]:
        """Decide on one input; must not touch clocks, files, brokers or databases."""


@runtime_checkable
class PersistentRule(Protocol):
    """A rule whose state must survive a restart (learned habits): it turns it into JSON and back."""

    @property
    def name(self) -> str:
        """The key of the rule's slice of state."""

    def dump(self, state: Any) -> Any:
        """The state as JSON-compatible data."""

    def load(self, data: Any) -> Any:
        """The state from dump()'s output; raises ValueError when it does not fit."""


@runtime_checkable
class RetiringRule(Protocol):
    """A rule that must not be switched off silently while something is pending (a fall's window)."""

    @property
    def name(self) -> str:
        """The key of the rule's slice of state."""

    def initial(self) -> Any:
        """The rule's state before anything has happened."""

    def retire(self, state: Any, now: datetime) -> list[Alarm]:
        """The alarms to raise now because the rule is being switched off with this state."""


class Damper(Protocol):
    """Merges repeats of open alarms (engine-level, see gateway/rules/damping.py)."""

    def initial(self) -> Any:
        """Nothing open yet."""

    def filter(self, state: Any, alarms: Sequence[Alarm], now: datetime) -> tuple[Any, list[Alarm]]:
        """The alarms to send, and the new open-alarm state."""


@dataclass(frozen=True, slots=True)
class Decision:
    """What the rules decided for one input."""

    state: Mapping[str, Any]
    alarms: tuple[Alarm, ...] = ()
    actions: tuple[Action, ...] = ()
    failed: tuple[tuple[str, Exception], ...] = ()  # rules that raised: their slice is kept as it was


@dataclass(frozen=True, slots=True)
class Engine:
    """An ordered set of rules evaluated together, with optional storm damping of their alarms."""

    rules: Sequence[Rule] = field(default_factory=tuple)
    damper: Damper | None = None

    def initial(self) -> Mapping[str, Any]:
        """Every rule's initial state, by rule name."""
        state = {r.name: r.initial() for r in self.rules}
        if self.damper is not None:
            state[OPEN] = self.damper.initial()
        return state

    def evaluate(self, state: Mapping[str, Any], item: Input, now: datetime) -> Decision:
        """Feed one input to every rule; a rule that raises loses only its own decision, never SOS's."""
        new_state = dict(state)
        alarms: list[Alarm] = []
        actions: list[Action] = []
        failed: list[tuple[str, Exception]] = []
        for rule in self.rules:
            try:
                slice_, a, b = rule.evaluate(state[rule.name] if rule.name in state else rule.initial(), item, now)
            except Exception as exc:  # supervisor of the rules: a bug in one must not silence the others
                failed.append((rule.name, exc))
                continue
            new_state[rule.name] = slice_
            alarms.extend(a)
            actions.extend(b)
        if self.damper is not None and alarms:
            new_state[OPEN], alarms = self.damper.filter(state.get(OPEN, self.damper.initial()), alarms, now)
        return Decision(new_state, tuple(alarms), tuple(actions), tuple(failed))

    def adopt(self, old: Mapping[str, Any]) -> Mapping[str, Any]:
        """Initial state for this engine that keeps what a previous engine had learned, rule by rule."""
        state = dict(self.initial())
        for key in state:
            if key in old:
                state[key] = old[key]
        return state

    def persistent(self) -> tuple[str, ...]:
        """Names of the rules whose state must survive a restart."""
        return tuple(r.name for r in self.rules if isinstance(r, PersistentRule))

    def snapshot(self, state: Mapping[str, Any]) -> dict[str, Any]:
        """The persistent rules' state as JSON-compatible data, by rule name."""
        return {r.name: r.dump(state.get(r.name, r.initial())) for r in self.rules if isinstance(r, PersistentRule)}

    def restore(self, state: Mapping[str, Any], snapshot: Mapping[str, Any]) -> tuple[Mapping[str, Any], list[str]]:
        """State with the snapshot laid over it; returns the names of slices that could not be loaded."""
        new_state, failed = dict(state), []
        for rule in self.rules:
            if isinstance(rule, PersistentRule) and rule.name in snapshot:
                try:
                    new_state[rule.name] = rule.load(snapshot[rule.name])
                except (ValueError, TypeError, KeyError):
                    failed.append(rule.name)
        return new_state, failed
