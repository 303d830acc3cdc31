"""The speaker bridge: `say` actions from the home's bus, spoken one at a time, most urgent first."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from anxin.loop import Loop
from gateway.home.audio import AudioError, Output, Renderer
from gateway.home.health import health_doc, health_topic
from gateway.home.speech import (
    BadAction,
    Prompt,
    SpeechQueue,
    fixed_prompts,
    interrupts,
    parse_action,
)

log = logging.getLogger(__name__)

HISTORY = 200  # prompts remembered for inspection
Publish = Callable[[str, bytes, bool], object]  # (topic, payload, retain)


def speaker_topic(gateway_id: str) -> str:
    """Local-bus topic where the speaker reports its health (retained): the gateway raises it to staff."""
    return health_topic(gateway_id, "speaker")


@dataclass
class Spoken:
    """What happened to one prompt (kept for tests, the demo and the benchmark)."""

    prompt: Prompt
    received: float
    started: float | None = None
    finished: bool = False


@dataclass
class SpeakerBridge:
    """Owns the queue and the one thread that renders and plays; constructors do no I/O."""

    gateway_id: str
    language: str
    renderer: Renderer
    output: Output
    publish: Publish
    monotonic: Callable[[], float] = time.monotonic
    history: deque[Spoken] = field(default_factory=lambda: deque(maxlen=HISTORY))
    _pending: dict[int, Spoken] = field(default_factory=dict)
    _queue: SpeechQueue = field(default_factory=SpeechQueue)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _playing: Spoken | None = None
    _cut: threading.Event = field(default_factory=threading.Event)
    _checked: bool = False  # the start-up checks ran (they are the loop's first step)
    _problems: dict[str, str] = field(default_factory=dict)
    _reported: dict[str, str] | None = None
    _health_lock: threading.Lock = field(default_factory=threading.Lock)
    _prepared: threading.Event = field(default_factory=threading.Event)
    _loop: Loop = field(init=False)

    def __post_init__(self) -> None:
        self._loop = Loop("speaker", self._step, wake=self._interrupt, join_s=10.0, monotonic=self.monotonic)

    def on_connection(self, up: bool) -> None:
        """(Re)connected to the home's broker: say again how the speaker is, once the checks have run."""
        if up and self._prepared.is_set():
            with self._health_lock:
                self._reported = None
            self._report()

    def on_action(self, _topic: str, payload: bytes) -> None:
        """An action message (MQTT thread): queue a `say`, cutting off a less urgent prompt if need be."""
        try:
            prompt = parse_action(payload, self.language)
        except BadAction as exc:
            log.warning("ignoring an action the speaker cannot use: %s", exc)
            return
        if prompt is None:
            return
        with self._cond:
            playing = self._playing.prompt if self._playing else None
            if not self._queue.offer(prompt, playing):
                log.info("speaker: %s already playing or waiting, not repeated", prompt.key)
                return
            spoken = Spoken(prompt, self.monotonic())
            self.history.append(spoken)
            self._pending[id(prompt)] = spoken
            if interrupts(prompt, playing):
                log.info("speaker: %s interrupts %s", prompt.key, playing.key if playing else None)
                self._cut.set()
            self._cond.notify()

    def start(self) -> None:
        """Check the engine and output, pre-render the fixed prompts, then speak in the background."""
        self._loop.start()

    def prepare(self) -> None:
        """Health check and the cache of fixed prompts (an SOS reply must not wait for espeak-ng)."""
        for check in (self.renderer.check, self.output.check):
            problem = check()
            if problem is not None:
                self._problems[problem.problem] = problem.detail
        if "engine_missing" not in self._problems:
            for prompt in fixed_prompts(self.language):
                try:
                    self.renderer.render(prompt)
                except AudioError as exc:
                    self._problems[exc.problem] = exc.detail
                    break
        self._prepared.set()
        self._report()

    def ready(self, timeout: float) -> bool:
        """Wait for the start-up checks and the cache of fixed prompts; True when they passed."""
        return self._prepared.wait(timeout) and not self._problems

    def stop(self) -> None:
        """Stop speaking (the current prompt is cut) and end the thread."""
        self._loop.stop()

    def idle(self) -> bool:
        """Nothing playing and nothing waiting."""
        with self._cond:
            return self._playing is None and not len(self._queue)

    def _interrupt(self) -> None:
        """Called by the loop's stop: cut the prompt playing and wake the thread waiting for one."""
        with self._cond:
            self._cut.set()
            self._cond.notify_all()

    def _step(self) -> None:
        """The start-up checks once, then: wait for a prompt and speak the most urgent one."""
        if not self._checked:
            self._checked = True  # once, even if they raise: the loop logs it and the speaker still speaks
            self.prepare()
            return
        with self._cond:
            while not self._loop.stopping and not len(self._queue):
                self._cond.wait()
            if self._loop.stopping:
                return
            prompt = self._queue.pop()
            assert prompt is not None
            spoken = self._pending.pop(id(prompt))
            self._playing = spoken
            self._cut.clear()
        try:
            self._speak(spoken)  # one bad prompt raises into the loop, which logs it: the home is not silenced
        finally:
            with self._cond:
                self._playing = None

    def _speak(self, spoken: Spoken) -> None:
        prompt = spoken.prompt
        try:
            wav: Path = self.renderer.render(prompt)
            spoken.started = self.monotonic()
            spoken.finished = self.output.play(wav, prompt, self._cut)
        except AudioError as exc:
            log.error("speaker could not say %s: %s", prompt.key, exc)
            self._problems[exc.problem] = exc.detail
            self._report()
            return
        if self._problems:  # it played: whatever was wrong with the sound is fixed
            self._problems.clear()
            self._report()

    def _report(self) -> None:
        with self._health_lock:
            problems = dict(self._problems)
            if self._reported == problems:
                return
            for problem, detail in problems.items():
                log.error("speaker: %s (%s)", problem, detail)
            try:
                self.publish(speaker_topic(self.gateway_id), health_doc(problems), True)
                self._reported = problems
            except Exception as exc:  # the local broker is down: the reconnect reports again
                log.error("speaker could not report its health: %s", exc)
