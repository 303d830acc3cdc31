"""Runs the rules over each message: (state, message, now) -> (state, alarms, actions), no I/O.

A rule may say which inputs it reads (`inputs`, see `input_keys`): the engine then skips it for the
others — a climate sensor's report is not shown to the SOS, fall or blood-pressure rules (issue 24: the
rules were a quarter of the gateway's CPU in a burst of readings). A rule without `inputs` sees everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from gateway.model import AccelChunk, Action, Alarm, DeviceEvent, DeviceMessage, Reading


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


def input_keys(item: Input) -> tuple[str, str]:
    """(family, exact key) of an input, as rules name what they read in `inputs`: "tick", "mode", "accel",
    "reading" / "reading:<metric>", "event" / "event:<kind>". A rule reads an input when its `inputs`
    hold the family or the exact key."""
    if isinstance(item, Reading):
        return "reading", f"reading:{item.metric}"
    if isinstance(item, DeviceEvent):
        return "event", f"event:{item.kind.value}"
    if isinstance(item, Tick):
        return "tick", "tick"
    if isinstance(item, AccelChunk):
        return "accel", "accel"
    return "mode", "mode"


def reads(rule: object, item: Input) -> bool:
    """Whether a rule wants to see this input (a rule without `inputs` sees everything)."""
    inputs: frozenset[str] | None = getattr(rule, "inputs", None)
    if inputs is None:
        return True
    family, key = input_keys(item)
    return family in inputs or key in inputs


class Rule(Protocol):
    """One rule: its own slice of state in, new slice plus decisions out.

    It may also have `inputs: frozenset[str]`, the inputs it reads (see `input_keys`); for any other
    input its evaluate() must return its state unchanged (the same object) and decide nothing, because
    the engine does not call it then (tests/unit/rules/test_rule_inputs.py checks every rule).
    """

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
    changed: tuple[str, ...] = ()  # the slices that are new objects (what may need persisting)


@dataclass(frozen=True, slots=True)
class Engine:
    """An ordered set of rules evaluated together, with optional storm damping of their alarms."""

    rules: Sequence[Rule] = field(default_factory=tuple)
    damper: Damper | None = None
    # Input key -> the rules that read it, in order: worked out once per kind of input.
    _routes: dict[str, tuple[Rule, ...]] = field(default_factory=dict, compare=False, repr=False)

    def initial(self) -> Mapping[str, Any]:
        """Every rule's initial state, by rule name."""
        state = {r.name: r.initial() for r in self.rules}
        if self.damper is not None:
            state[OPEN] = self.damper.initial()
        return state

    def route(self, item: Input) -> tuple[Rule, ...]:
        """The rules that read this input, in order."""
        key = input_keys(item)[1]
        rules = self._routes.get(key)
        if rules is None:
            rules = self._routes[key] = tuple(r for r in self.rules if reads(r, item))
        return rules

    def evaluate(self, state: Mapping[str, Any], item: Input, now: datetime) -> Decision:
        """Feed one input to every rule that reads it; a rule that raises loses only its own decision, never
        SOS's. The state comes back as the same object when no slice changed."""
        new_state: dict[str, Any] | None = None
        alarms: list[Alarm] = []
        actions: list[Action] = []
        failed: list[tuple[str, Exception]] = []
        changed: list[str] = []
        for rule in self.route(item):
            name = rule.name
            old = state[name] if name in state else rule.initial()
            try:
                slice_, a, b = rule.evaluate(old, item, now)
            except Exception as exc:  # supervisor of the rules: a bug in one must not silence the others
                failed.append((name, exc))
                continue
            if slice_ is not old or name not in state:
                if new_state is None:
                    new_state = dict(state)
                new_state[name] = slice_
                changed.append(name)
            if a:
                alarms.extend(a)
            if b:
                actions.extend(b)
        if self.damper is not None and alarms:
            if new_state is None:
                new_state = dict(state)
            new_state[OPEN], alarms = self.damper.filter(state.get(OPEN, self.damper.initial()), alarms, now)
        if new_state is None and not alarms and not actions and not failed:
            return Decision(state)
        return Decision(
            state if new_state is None else new_state, tuple(alarms), tuple(actions), tuple(failed), tuple(changed)
        )

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
