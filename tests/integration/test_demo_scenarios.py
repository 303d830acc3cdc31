"""`anxin-sim demo --scenario fall` and `--scenario bp` as a user runs them: the caregiver's phone (the
--notify URL) hears of a fall nobody cancelled, and of a very high blood pressure confirmed by a repeat."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime

import pytest

from anxin.ports import free_port

pytestmark = pytest.mark.integration


def run_demo(scenario: str, notify: str, exit_after: int, data_dir) -> str:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "firmware_sim",
            "demo",
            "--scenario",
            scenario,
            "--notify",
            notify,
            "--exit-after",
            str(exit_after),
            "--port",
            str(free_port()),
            "--mqtt-port",
            str(free_port()),
            "--data-dir",
            str(data_dir),
        ],
        capture_output=True,
        text=True,
        timeout=exit_after + 60,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def said_at(out: str, pattern: str) -> float:
    found = re.search(r"^(\d\d:\d\d:\d\d\.\d{3}) .*" + pattern, out, re.M)
    assert found, out
    return datetime.combine(datetime.now().date(), datetime.strptime(found.group(1), "%H:%M:%S.%f").time()).timestamp()


def test_demo_fall_nobody_cancels_reaches_the_caregiver_after_the_window(receiver, tmp_path):
    out = run_demo("fall", receiver.url("/demo"), 45, tmp_path)
    fell = said_at(out, "the fall radar reports a fall")
    got = receiver.wait_for(1, timeout=5)
    assert got, "the caregiver was never told:\n" + out
    first = got[0]
    assert "跌倒报警" in first.doc["title"], first.doc
    assert "fall-radar" in first.doc["message"]
    assert first.at - fell >= 25, "notified before the resident could cancel (30 s window)"


def test_demo_bp_confirmed_by_a_repeat_reaches_the_caregiver(receiver, tmp_path):
    out = run_demo("bp", receiver.url("/demo"), 20, tmp_path)
    repeat = said_at(out, "the repeat reads")
    got = receiver.wait_for(1, timeout=5)
    assert got, "the caregiver was never told:\n" + out
    assert "血压过高" in got[0].doc["title"], got[0].doc
    assert got[0].at >= repeat, "a single high reading must wait for its repeat"
