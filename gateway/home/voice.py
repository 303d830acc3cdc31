"""How the home speaks: espeak-ng voice, rate, volume and pitch chosen for listeners over 80.

Why these values (docs/home.md says the same for installers):
- slower than espeak-ng's 175 "words" a minute: older listeners understand synthetic speech
  markedly better when it is slowed, but much slower sounds broken. English 140 wpm (a fifth
  slower); Mandarin and Cantonese 160, because espeak-ng counts every character as a word and
  already pauses at each comma: 160 gives about 2.5 syllables a second, against 4-5 in conversation.
- a 30 ms gap between English words: the pauses, not the speed, help a listener follow a sentence.
  None between Chinese characters: there it chops every syllable apart.
- pitch 35 instead of 50: age-related hearing loss takes the high frequencies first.
- amplitude 170 of 200: loud enough across a room through a small USB speaker, below where
  espeak-ng starts to clip; the ALSA mixer sets the rest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

ENGINE = "espeak-ng"

# The resident's language -> espeak-ng voice (Debian's espeak-ng-data has both Chinese voices).
VOICES: dict[str, str] = {"zh-CN": "cmn", "zh": "cmn", "yue": "yue", "zh-HK": "yue", "en": "en"}


# espeak-ng voice -> (rate in words a minute, gap between words in 10 ms units), see above.
PACE: dict[str, tuple[int, int]] = {"cmn": (160, 0), "yue": (160, 0), "en": (140, 3)}
# Pitch and loudness, see above; the defaults of `speaker:` in gateway/config.py too.
PITCH, AMPLITUDE = 35, 170


@dataclass(frozen=True, slots=True)
class Voice:
    """espeak-ng settings (None: the language's own pace); every option goes into a prompt's cache key."""

    rate_wpm: int | None = None
    word_gap_10ms: int | None = None
    pitch: int = PITCH
    amplitude: int = AMPLITUDE
    engine: str = ENGINE

    def args(self, language: str) -> list[str]:
        """espeak-ng options (without the output file and text) for one language."""
        voice = voice_for(language)
        rate, gap = PACE.get(voice, PACE["en"])
        rate, gap = self.rate_wpm or rate, gap if self.word_gap_10ms is None else self.word_gap_10ms
        return [
            self.engine,
            "-v",
            voice,
            "-s",
            str(rate),
            "-g",
            str(gap),
            "-p",
            str(self.pitch),
            "-a",
            str(self.amplitude),
        ]

    def render_command(self, language: str, text: str, wav: str) -> list[str]:
        """The command that writes `text` spoken in `language` to the WAV file `wav`."""
        return [*self.args(language), "-w", wav, "--", text]

    def cache_key(self, language: str, text: str) -> str:
        """A file-name-safe key: the same text, language and voice settings always give the same audio."""
        raw = "\x00".join([*self.args(language), text]).encode()
        return hashlib.sha256(raw).hexdigest()[:24]


def voice_for(language: str) -> str:
    """The espeak-ng voice for a resident's language, Mandarin when it is not one we know."""
    return VOICES.get(language, VOICES.get(language.split("-")[0], "cmn"))
