"""The speaker bridge as a process part: its own MQTT client on the home's broker, built from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anxin.mqtt import MqttLink, Will, make_client
from gateway.config import GatewaySettings, SpeakerConfig
from gateway.home.audio import AlsaPlayer, Output, Renderer, WavFolder
from gateway.home.health import health_doc
from gateway.home.speaker import SpeakerBridge, speaker_topic
from gateway.home.voice import Voice
from gateway.outlet import action_topic


@dataclass
class SpeakerService:
    """The bridge and the MQTT link feeding it; start() does the I/O."""

    bridge: SpeakerBridge
    link: MqttLink

    def start(self) -> None:
        """Speak in the background and subscribe to the home's actions."""
        self.bridge.start()
        self.link.start()

    def stop(self) -> None:
        """Unsubscribe and stop speaking."""
        self.link.stop()
        self.bridge.stop()


def voice_of(cfg: SpeakerConfig) -> Voice:
    """The espeak-ng settings from the gateway configuration."""
    return Voice(cfg.rate_wpm, cfg.word_gap_10ms, cfg.pitch, cfg.amplitude)


def build_speaker(
    settings: GatewaySettings, cfg: SpeakerConfig | None = None, prefix: str = "", output: Output | None = None
) -> SpeakerService:
    """A speaker bridge for one home (nothing started): the sound card, or WAV files when output_dir is set."""
    cfg = cfg or settings.speaker or SpeakerConfig()
    gw = settings.gateway_id
    if output is None:
        output = WavFolder(Path(cfg.output_dir), prefix) if cfg.output_dir else AlsaPlayer(cfg.device)
    renderer = Renderer(voice_of(cfg), settings.data_dir / "speech-cache")
    link: MqttLink
    bridge = SpeakerBridge(
        gw, settings.language, renderer, output, publish=lambda t, p, retain: link.publish(t, p, 1, retain=retain)
    )
    link = MqttLink(
        make_client(f"anxin-speaker-{gw}"),
        settings.local_broker,
        bridge.on_action,
        [(action_topic(gw), 1)],
        on_connection=bridge.on_connection,
        will=Will(speaker_topic(gw), health_doc({"speaker_bridge_down": "the speaker process stopped"})),
    )
    return SpeakerService(bridge, link)
