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
        [
            sys.executable,
            "-m",
            "firmware_sim",
            "demo",
            "--scenario",
            "sos",
            "--notify",
            receiver.url("/demo"),
            "--exit-after",
            "10",
            "--port",
            str(web),
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
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
            [
                sys.executable,
                "-m",
                "firmware_sim",
                "demo",
                "--notify",
                receiver.url(),
                "--exit-after",
                "2",
                "--port",
                str(taken),
                "--data-dir",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"port {taken} is busy" in proc.stdout


def test_demo_sos_writes_what_the_home_says_as_wav_files_in_order(tmp_path):
    import wave

    import numpy as np

    speech = tmp_path / "speech"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "firmware_sim",
            "demo",
            "--scenario",
            "sos",
            "--exit-after",
            "30",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path),
            "--speech-dir",
            str(speech),
        ],
        capture_output=True,
        text=True,
        timeout=120,
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
        assert float(np.sqrt(np.mean(samples**2))) > 0.02, f"{name} is silent"


def test_demo_creates_a_missing_data_dir_and_a_clean_stop_pages_no_one(receiver, tmp_path):
    import json
    import sqlite3

    data = tmp_path / "not" / "there" / "yet"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "firmware_sim",
            "demo",
            "--notify",
            receiver.url(),
            "--exit-after",
            "4",
            "--port",
            str(free_port()),
            "--data-dir",
            str(data),
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and f"data in {data}" in proc.stdout
    [outbox] = data.glob("outbox-*.sqlite")
    conn = sqlite3.connect(f"file:{outbox}?mode=ro", uri=True)
    try:
        alarms = [json.loads(b) for (b,) in conn.execute("SELECT body FROM outbox WHERE lane_name = 'alarm'")]
    finally:
        conn.close()
    assert [a for a in alarms if a.get("type") == "bridge_offline"] == [], "stopping the demo raised an alarm"


def test_demo_data_dir_that_cannot_be_a_directory_is_one_clear_line(tmp_path):
    (tmp_path / "a-file").write_text("")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "firmware_sim",
            "demo",
            "--exit-after",
            "1",
            "--data-dir",
            str(tmp_path / "a-file" / "sub"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"anxin-sim: cannot use --data-dir {tmp_path / 'a-file' / 'sub'}: Not a directory"
