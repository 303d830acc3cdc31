"""The demo as a user runs it: `anxin-sim demo --scenario sos --notify json://... --exit-after N`."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime

import pytest

from anxin.ports import free_port

pytestmark = pytest.mark.integration


def test_demo_sos_scenario_notifies_within_two_seconds_and_exits(receiver, tmp_path):
    web = free_port()
    proc = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "demo", "--scenario", "sos", "--notify", receiver.url("/demo"),
         "--exit-after", "10", "--port", str(web), "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert f"http://127.0.0.1:{web}" in out, "the demo must print where to look"
    press = re.search(r"^(\d\d:\d\d:\d\d\.\d{3}) .*presses the SOS button", out, re.M)
    assert press, out
    pressed_at = datetime.combine(datetime.now().date(), datetime.strptime(press.group(1), "%H:%M:%S.%f").time())
    got = receiver.wait_for(1, timeout=1)
    assert got, "no JSON POST reached the --notify URL"
    first = got[0]
    assert first.path == "/demo"
    assert "紧急求助" in first.doc["title"]
    latency = first.at - pressed_at.timestamp()
    assert 0 <= latency <= 2.0, f"notification arrived {latency:.2f} s after the press"
    assert "ALARM #1 sos" in proc.stderr or "ALARM #1 sos" in out, "the demo must log the alarm as it happens"


def test_demo_takes_a_free_port_when_the_usual_one_is_busy(receiver, tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "firmware_sim", "demo", "--notify", receiver.url(), "--exit-after", "2",
             "--port", str(taken), "--data-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=60,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"port {taken} is busy" in proc.stdout


def test_demo_sos_writes_what_the_home_says_as_wav_files_in_order(tmp_path):
    import wave

    import numpy as np

    speech = tmp_path / "speech"
    proc = subprocess.run(
        [sys.executable, "-m", "firmware_sim", "demo", "--scenario", "sos", "--exit-after", "30",
         "--port", str(free_port()), "--data-dir", str(tmp_path), "--speech-dir", str(speech)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"speaks through WAV files in {speech}" in proc.stdout
    names = sorted(p.name for p in speech.glob("*.wav"))
    # The reply to the press first; "help is coming" once the demo's own caregiver phone acknowledges.
    assert names[:2] == ["gw-r001-0001-emergency-sos_raised.wav", "gw-r001-0002-emergency-help_coming.wav"], names
    for name in names[:2]:
        with wave.open(str(speech / name), "rb") as w:
            samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32768.0
            seconds = w.getnframes() / w.getframerate()
        assert 2.0 < seconds < 20.0, (name, seconds)
        assert float(np.sqrt(np.mean(samples ** 2))) > 0.02, f"{name} is silent"
