"""Scenario: the cached SOS reply starts within 300 ms of the `say` action on the home's broker.

A real Mosquitto, the real speaker bridge and espeak-ng; the output records when playback would
begin (no sound card is needed), so the figure is action -> bridge -> cached WAV ready to play.
On a Pi, aplay adds the time to open the USB sound card (tens of ms).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from pathlib import Path

from anxin.mqtt import BrokerAddress, MqttLink, make_client
from bench.core import BenchError, Result, Stopwatch, Target, log, percentiles
from gateway.config import GatewaySettings, SpeakerConfig
from gateway.home.audio import AudioError, Renderer
from gateway.home.bridge import voice_of
from gateway.home.speaker import SpeakerBridge
from gateway.home.speech import Prompt
from gateway.outlet import action_topic
from gateway.rules import messages
from tests.mosquitto import Mosquitto

TARGET_P99_MS = 300.0
GW = "gw-bench-speech"


class StartClock:
    """An output that notes when playback starts and returns at once."""

    def __init__(self) -> None:
        self.started: list[float] = []
        self.event = threading.Event()

    def check(self) -> AudioError | None:
        """Always there."""
        return None

    def play(self, wav: Path, prompt: Prompt, stop: threading.Event) -> bool:
        """Record the start."""
        self.started.append(time.monotonic())
        self.event.set()
        return True


def run(quick: bool) -> Result:
    """Publish the SOS reply N times, one after another; latency from publish to playback start."""
    clock = Stopwatch()
    count = 10 if quick else 100
    result = Result("speech_start", quick)
    payload = json.dumps(
        {"v": 1, "action": "say", "key": "sos_raised", "lang": "zh-CN", "text": messages.text("sos_raised", "zh-CN")},
        ensure_ascii=False,
    ).encode()
    with tempfile.TemporaryDirectory(prefix="anxin-bench-") as tmp:
        broker = Mosquitto(Path(tmp)).start()
        settings = GatewaySettings(
            gateway_id=GW, data_dir=Path(tmp), local_broker=BrokerAddress("127.0.0.1", broker.port)
        )
        output = StartClock()
        bridge = SpeakerBridge(
            GW, "zh-CN", Renderer(voice_of(SpeakerConfig()), Path(tmp) / "cache"), output, publish=lambda t, p, r: None
        )
        speaker = MqttLink(
            make_client("bench-speaker"), settings.local_broker, bridge.on_action, [(action_topic(GW), 1)]
        )
        home = MqttLink(make_client("bench-home"), settings.local_broker, lambda t, p: None)
        try:
            bridge.start()  # renders the fixed prompts first, as at a gateway's start
            if not bridge.ready(60):
                raise BenchError("the speaker did not get ready (is espeak-ng installed?)")
            speaker.start()
            home.start()
            if not (speaker.wait_connected(10) and home.wait_connected(10)):
                raise BenchError("no connection to the benchmark's Mosquitto")
            log(f"speech start: {count} SOS replies")
            latencies = []
            for _ in range(count):
                output.event.clear()
                t0 = time.monotonic()
                home.publish(action_topic(GW), payload, 1)
                if not output.event.wait(10):
                    raise BenchError("the speaker did not start the SOS reply within 10 s")
                latencies.append((output.started[-1] - t0) * 1000)
                while not bridge.idle():
                    time.sleep(0.005)
        finally:
            home.stop()
            speaker.stop()
            bridge.stop()
            broker.stop()
    p = percentiles(latencies)
    result.metrics.update(
        {"sos_reply_start_p50_ms": p["p50"], "sos_reply_start_p99_ms": p["p99"], "replies": float(count)}
    )
    result.rows.append({"prompt": "sos_raised (cached)", "replies": count, "p50 ms": p["p50"], "p99 ms": p["p99"]})
    result.targets.append(Target("cached SOS reply starts", p["p99"], TARGET_P99_MS, "ms"))
    result.notes.append("publish on the home's Mosquitto -> speaker bridge -> cached WAV handed to the output")
    result.duration_s = clock.elapsed
    return result
