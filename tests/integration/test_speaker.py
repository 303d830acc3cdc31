"""The speaker bridge on a real Mosquitto, espeak-ng writing WAV files instead of the sound card."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from anxin.mqtt import BrokerAddress, MqttLink, make_client
from gateway.config import GatewaySettings, SpeakerConfig
from gateway.home.bridge import build_speaker
from gateway.home.speaker import speaker_topic
from gateway.outlet import action_topic
from gateway.rules import messages
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration

GW = "gw-speak"
RMS_FLOOR = 0.02  # full scale 1.0; espeak-ng speech at amplitude 170 is around 0.1, silence is 0


def settings(tmp_path: Path, broker) -> GatewaySettings:  # type: ignore[no-untyped-def]
    return GatewaySettings(
        gateway_id=GW, data_dir=tmp_path / "data", local_broker=BrokerAddress("127.0.0.1", broker.port)
    )


def audio(path: Path) -> tuple[float, float]:
    """(seconds, RMS as a fraction of full scale) of a 16-bit mono WAV."""
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768.0
        return w.getnframes() / w.getframerate(), float(np.sqrt(np.mean(samples**2))) if len(samples) else 0.0


def say(key: str, language: str = "zh-CN", **params: str) -> bytes:
    """A `say` action as the gateway publishes it."""
    return json.dumps(
        {
            "v": 1,
            "action": "say",
            "key": key,
            "text": messages.text(key, language, **params),
            "lang": language,
            "device": "sos-button",
        },
        ensure_ascii=False,
    ).encode()


@pytest.fixture
def home(tmp_path, home_broker):  # type: ignore[no-untyped-def]
    """A running speaker bridge writing to tmp_path/out, a device-side client, and what the speaker reported."""
    out = tmp_path / "out"
    health: list[dict] = []
    speaker = build_speaker(settings(tmp_path, home_broker), SpeakerConfig(output_dir=out))
    link = MqttLink(
        make_client("test-home"),
        home_broker.address,
        lambda t, p: health.append(json.loads(p)),
        [(speaker_topic(GW), 1)],
    )
    link.start()
    assert link.wait_connected(10)
    speaker.start()
    assert speaker.link.wait_connected(10)
    assert wait_until(lambda: health, timeout=30), "the speaker never reported its health"
    yield speaker, link, out, health
    speaker.stop()
    link.stop()


def test_each_say_is_heard_as_speech_of_plausible_length(home):
    speaker, link, out, health = home
    assert health[-1] == {"v": 1, "ok": True, "problems": {}}
    link.publish(action_topic(GW), say("sos_raised"), 1)
    link.publish(action_topic(GW), json.dumps({"v": 1, "action": "led", "state": "alarm_sent"}).encode(), 1)
    link.publish(action_topic(GW), say("help_coming", by="李伟"), 1)
    assert wait_until(lambda: len(list(out.glob("*.wav"))) == 2 and speaker.bridge.idle(), timeout=60)
    files = sorted(out.glob("*.wav"))
    assert [f.name for f in files] == ["0001-emergency-sos_raised.wav", "0002-emergency-help_coming.wav"]
    for f, key, params in zip(files, ["sos_raised", "help_coming"], [{}, {"by": "李伟"}], strict=False):
        seconds, rms = audio(f)
        syllables = len(messages.text(key, "zh-CN", **params))
        # Mandarin read slowly for older listeners: roughly 2 to 4 characters a second, pauses included.
        assert syllables / 4.5 <= seconds <= syllables / 1.5, (f.name, seconds)
        assert rms >= RMS_FLOOR, (f.name, rms)


def test_an_emergency_interrupts_a_reminder_and_repeats_are_collapsed(home):
    speaker, link, out, _health = home
    long_reminder = json.dumps(
        {
            "v": 1,
            "action": "say",
            "key": "reminder_medication",
            "lang": "zh-CN",
            "text": "该吃药了。请吃一片苯磺酸氨氯地平，然后按一下大按钮告诉我们。" * 3,
        },
        ensure_ascii=False,
    ).encode()
    link.publish(action_topic(GW), long_reminder, 1)
    assert wait_until(lambda: any(s.started for s in speaker.bridge.history), timeout=30)
    for _ in range(3):  # a resident pressing again and again: one reply, not three
        link.publish(action_topic(GW), say("sos_raised"), 1)
    assert wait_until(lambda: len(list(out.glob("*.wav"))) == 2 and speaker.bridge.idle(), timeout=60)
    names = sorted(f.name for f in out.glob("*.wav"))
    assert names == ["0001-reminder-reminder_medication-interrupted.wav", "0002-emergency-sos_raised.wav"]
    cut, _ = audio(out / names[0])
    full = speaker.bridge.renderer.cached(speaker.bridge.history[0].prompt)
    assert cut < audio(full)[0] / 2, "the reminder went on talking over the emergency"
    seconds, rms = audio(out / names[1])
    assert seconds > 3 and rms >= RMS_FLOOR


def test_a_missing_engine_is_reported_not_silent(tmp_path, home_broker):
    from gateway.home.audio import Renderer, WavFolder
    from gateway.home.speaker import SpeakerBridge
    from gateway.home.voice import Voice

    got: list[dict] = []
    link = MqttLink(
        make_client("test-health"),
        home_broker.address,
        lambda t, p: got.append(json.loads(p)),
        [(speaker_topic(GW), 1)],
    )
    link.start()
    assert link.wait_connected(10)
    bridge = SpeakerBridge(
        GW,
        "zh-CN",
        Renderer(Voice(engine="no-such-espeak"), tmp_path / "cache"),
        WavFolder(tmp_path / "out"),
        lambda t, p, r: link.publish(t, p, 1, retain=r),
    )
    bridge.start()
    try:
        assert wait_until(lambda: got, timeout=20)
        assert got[-1]["ok"] is False and "engine_missing" in got[-1]["problems"]
    finally:
        bridge.stop()
        link.stop()


def test_the_speaker_command_speaks_into_wav_files(tmp_path, home_broker):
    import subprocess
    import sys

    config = tmp_path / "gateway.yaml"
    config.write_text(
        f"gateway_id: {GW}\nlanguage: en\ndata_dir: {tmp_path / 'data'}\n"
        f"local_broker: {{host: 127.0.0.1, port: {home_broker.port}}}\n",
        encoding="utf-8",
    )
    out = tmp_path / "not-yet" / "speech"
    health: list[dict] = []
    link = MqttLink(
        make_client("test-cli"),
        home_broker.address,
        lambda t, p: health.append(json.loads(p)),
        [(speaker_topic(GW), 1)],
    )
    link.start()
    assert link.wait_connected(10)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "speaker", "--config", str(config), "--output-dir", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert wait_until(lambda: health, timeout=60), "the speaker never reported its health"
        assert health[-1]["ok"] is True, health
        link.publish(action_topic(GW), say("fall_prompt", "en"), 1)
        assert wait_until(lambda: list(out.glob("*.wav")), timeout=30)
        seconds, rms = audio(next(out.glob("*.wav")))
        words = len(messages.text("fall_prompt", "en").split())
        assert words / 4 <= seconds <= words / 1.2 and rms >= RMS_FLOOR, (seconds, rms)
        assert next(out.glob("*.wav")).name == "0001-emergency-fall_prompt.wav"
    finally:
        proc.terminate()
        proc.wait(15)
        link.stop()
    assert proc.returncode == 0, proc.stdout.read().decode() if proc.stdout else ""


def test_the_gateway_speaks_the_sos_reply_itself_when_speaker_is_configured(tmp_path, home_broker, central_broker):
    from firmware_sim.installation import build_home, gateway_settings

    out = tmp_path / "heard"
    base = gateway_settings("gw-r001", "R001", home_broker.address, central_broker.address, tmp_path / "gw")
    home = build_home(base.model_copy(update={"speaker": SpeakerConfig(output_dir=out)}))
    assert home.gateway.speaker is not None, "`speaker:` in the configuration must start the bridge in `run`"
    home.start()
    try:
        assert home.gateway.speaker.bridge.ready(60)
        home.button.press()
        assert wait_until(lambda: (out / "0001-emergency-sos_raised.wav").exists(), timeout=30)
        seconds, rms = audio(out / "0001-emergency-sos_raised.wav")
        assert seconds > 3 and rms >= RMS_FLOOR
    finally:
        home.stop()


def test_a_gateway_configured_with_pins_it_cannot_open_runs_and_tells_staff(tmp_path, home_broker, central_broker):
    from firmware_sim.installation import build_home, gateway_settings
    from gateway.config import GpioConfig

    base = gateway_settings("gw-r001", "R001", home_broker.address, central_broker.address, tmp_path / "gw")
    home = build_home(base.model_copy(update={"gpio": GpioConfig()}))  # this machine is not a Pi: no GPIO
    home.start()
    try:
        outbox = home.gateway.outbox
        assert wait_until(lambda: any(e.body["type"] == "panel_fault" for e in outbox.alarms()), timeout=15)
        home.button.press()  # and the rest of the home still works
        assert wait_until(lambda: any(e.body["type"] == "sos" for e in outbox.alarms()), timeout=15)
    finally:
        home.stop()
