"""What to say next: the priority of a spoken prompt, repeats collapsed, an emergency first (pure)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from gateway.rules import messages


class Priority(IntEnum):
    """Smaller is more urgent: an emergency prompt interrupts anything less urgent that is playing."""

    EMERGENCY = 0
    NORMAL = 1
    REMINDER = 2


# Prompts about an alarm in progress: the resident must hear these now, whatever else was playing.
EMERGENCY_KEYS = frozenset(
    {
        "sos_raised",
        "sos_cancel_late",
        "help_coming",
        "fall_prompt",
        "fall_alarm",
        "bp_urgent",
        "glucose_urgent_low",
        "glucose_repeat_missing",
    }
)
MAX_TEXT = 400  # characters: a prompt is a sentence or two; anything longer is not ours to read out


class BadAction(ValueError):
    """An action message the speaker cannot use."""


@dataclass(frozen=True, slots=True)
class Prompt:
    """One sentence to speak."""

    key: str
    text: str
    language: str
    priority: Priority

    @property
    def same(self) -> tuple[str, str]:
        """What makes two prompts repeats of each other."""
        return (self.language, self.text)


def priority_of(key: str) -> Priority:
    """Emergency prompts first, reminders last, everything else in between."""
    if key in EMERGENCY_KEYS:
        return Priority.EMERGENCY
    if key.startswith("reminder"):
        return Priority.REMINDER
    return Priority.NORMAL


def parse_action(payload: bytes, default_language: str) -> Prompt | None:
    """A `say` action as a prompt; None for other actions (led, siren); raises BadAction."""
    try:
        doc: Any = json.loads(payload)
    except ValueError as exc:
        raise BadAction(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise BadAction("an action must be a JSON object")
    if doc.get("action") != "say":
        return None
    key, text, language = doc.get("key"), doc.get("text"), doc.get("lang") or default_language
    if not isinstance(key, str) or not isinstance(text, str) or not isinstance(language, str):
        raise BadAction("a say action needs string key, text and lang")
    text = " ".join(text.split())[:MAX_TEXT]
    if not text:
        raise BadAction(f"say action {key!r} has no text")
    return Prompt(key, text, language, priority_of(key))


def fixed_prompts(language: str) -> list[Prompt]:
    """Every message without a placeholder, in one language: rendered ahead so an SOS reply starts at once."""
    out = []
    for key in messages.MESSAGES:
        text = messages.text(key, language)
        if "{" not in text:
            out.append(Prompt(key, text, language, priority_of(key)))
    return out


class SpeechQueue:
    """Prompts waiting to be spoken; the caller serialises access (the bridge holds a lock)."""

    def __init__(self) -> None:
        self._waiting: list[tuple[int, int, Prompt]] = []
        self._n = 0

    def __len__(self) -> int:
        return len(self._waiting)

    def offer(self, prompt: Prompt, playing: Prompt | None) -> bool:
        """Queue a prompt unless the same sentence is playing or waiting; True when it was queued."""
        if playing is not None and playing.same == prompt.same:
            return False
        if any(p.same == prompt.same for _pri, _n, p in self._waiting):
            return False
        self._n += 1
        self._waiting.append((int(prompt.priority), self._n, prompt))
        return True

    def pop(self) -> Prompt | None:
        """The most urgent prompt, first come first served among equals; None when empty."""
        if not self._waiting:
            return None
        best = min(self._waiting, key=lambda item: item[:2])
        self._waiting.remove(best)
        return best[2]


def interrupts(new: Prompt, playing: Prompt | None) -> bool:
    """An emergency cuts off whatever less urgent prompt (a reminder, a thank-you) is playing."""
    return playing is not None and new.priority == Priority.EMERGENCY and playing.priority > Priority.EMERGENCY
