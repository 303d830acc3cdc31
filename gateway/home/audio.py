"""The I/O of speech: espeak-ng renders a prompt to a cached WAV, ALSA plays it, or a folder keeps it."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from gateway.errors import GatewayError
from gateway.home.speech import Prompt
from gateway.home.voice import Voice

log = logging.getLogger(__name__)

RENDER_TIMEOUT_S = 30.0
POLL_S = 0.02  # how often playback looks for an interruption


class AudioError(GatewayError):
    """Speech could not be rendered or played; `problem` is what the health report calls it."""

    def __init__(self, problem: str, detail: str) -> None:
        super().__init__(f"{problem}: {detail}")
        self.problem = problem
        self.detail = detail


class Output(Protocol):
    """Where rendered speech goes: the sound card, or a folder of WAV files."""

    def check(self) -> AudioError | None:
        """What is wrong with the output before anything is played, if anything."""

    def play(self, wav: Path, prompt: Prompt, stop: threading.Event) -> bool:
        """Play one WAV; False when `stop` cut it short; raises AudioError."""


class Renderer:
    """espeak-ng to WAV, one file per (voice settings, language, text) in a cache folder."""

    def __init__(
        self, voice: Voice, cache_dir: Path, run: Callable[..., subprocess.CompletedProcess[bytes]] = subprocess.run
    ) -> None:
        self.voice = voice
        self.cache_dir = cache_dir
        self.run = run

    def cached(self, prompt: Prompt) -> Path:
        """Where the prompt's audio is (or will be) kept."""
        return self.cache_dir / f"{self.voice.cache_key(prompt.language, prompt.text)}.wav"

    def check(self) -> AudioError | None:
        """The engine must be installed."""
        if shutil.which(self.voice.engine) is None:
            return AudioError("engine_missing", f"{self.voice.engine} is not installed (apt-get install espeak-ng)")
        return None

    def render(self, prompt: Prompt) -> Path:
        """The prompt's WAV, rendered now unless cached; raises AudioError."""
        path = self.cached(prompt)
        if path.exists():
            return path
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        cmd = self.voice.render_command(prompt.language, prompt.text, str(tmp))
        try:
            done = self.run(cmd, capture_output=True, timeout=RENDER_TIMEOUT_S, check=False)
        except FileNotFoundError as exc:
            raise AudioError("engine_missing", f"{self.voice.engine} is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise AudioError("engine_failed", f"{self.voice.engine} took over {RENDER_TIMEOUT_S:.0f} s") from exc
        if done.returncode != 0 or not tmp.exists() or tmp.stat().st_size <= 44:
            tmp.unlink(missing_ok=True)
            message = done.stderr.decode(errors="replace").strip() or f"exit status {done.returncode}"
            raise AudioError("engine_failed", f"{prompt.key}: {message}")
        tmp.replace(path)  # atomic: a crash never leaves half a prompt in the cache
        return path


def wav_seconds(path: Path) -> float:
    """The length of a WAV file in seconds."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / float(w.getframerate())


class AlsaPlayer:
    """Plays through ALSA with aplay; `device` as in `aplay -L` (None: the system default)."""

    def __init__(
        self,
        device: str | None = None,
        player: str = "aplay",
        run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
    ) -> None:
        self.device = device
        self.player = player
        self.run = run

    def check(self) -> AudioError | None:
        """aplay must be installed and ALSA must see a sound card."""
        if shutil.which(self.player) is None:
            return AudioError("speaker_missing", f"{self.player} is not installed (apt-get install alsa-utils)")
        try:
            listed = self.run([self.player, "-l"], capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return AudioError("speaker_missing", f"{self.player} -l failed: {exc}")
        if "card " not in listed.stdout:
            return AudioError("speaker_missing", "no sound card found: plug in the USB speaker")
        return None

    def play(self, wav: Path, prompt: Prompt, stop: threading.Event) -> bool:
        """Play until done or until `stop` is set (then aplay is ended at once)."""
        cmd = [self.player, "-q", *(["-D", self.device] if self.device else []), str(wav)]
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except OSError as exc:
            raise AudioError("speaker_missing", f"cannot start {self.player}: {exc}") from exc
        while proc.poll() is None:
            if stop.wait(POLL_S):
                proc.terminate()
                proc.wait(5)
                return False
        if proc.returncode != 0:
            err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            raise AudioError("speaker_missing", f"{self.player} failed ({proc.returncode}): {err[:300]}")
        return True


class WavFolder:
    """Instead of a sound card: each prompt spoken becomes `NNNN-<priority>-<key>.wav` in a folder.

    It takes as long as the audio does, like a speaker, so an emergency arriving meanwhile cuts the
    file short (`…-interrupted.wav`, only the part that was "heard")."""

    def __init__(self, directory: Path, prefix: str = "", monotonic: Callable[[], float] | None = None) -> None:
        self.directory = directory
        self.prefix = prefix
        self.count = 0
        self.monotonic = monotonic or time.monotonic

    def check(self) -> AudioError | None:
        """The folder must be writable."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return AudioError("speaker_missing", f"cannot write to {self.directory}: {exc}")
        return (
            None
            if os.access(self.directory, os.W_OK)
            else AudioError("speaker_missing", f"{self.directory} is not writable")
        )

    def play(self, wav: Path, prompt: Prompt, stop: threading.Event) -> bool:
        """Copy the prompt's audio in, then 'play' it for its length."""
        self.count += 1
        name = f"{self.prefix}{self.count:04d}-{prompt.priority.name.lower()}-{prompt.key}"
        target = self.directory / f"{name}.wav"
        try:
            shutil.copyfile(wav, target)
        except OSError as exc:
            raise AudioError("speaker_missing", f"cannot write {target}: {exc}") from exc
        started = self.monotonic()
        length = wav_seconds(wav)
        if not stop.wait(length):
            return True
        _truncate(wav, target.with_name(f"{name}-interrupted.wav"), self.monotonic() - started)
        target.unlink(missing_ok=True)
        return False


def _truncate(source: Path, target: Path, seconds: float) -> None:
    with wave.open(str(source), "rb") as r:
        frames = r.readframes(int(max(0.0, seconds) * r.getframerate()))
        params = r.getparams()
    with wave.open(str(target), "wb") as w:
        w.setparams(params)
        w.writeframes(frames)
