"""`anxin-sim demo --scenario fall`, `bp` and `cluster` as a user runs them: the caregiver's phone (the
--notify URL) hears of a fall nobody cancelled, and of a very high blood pressure confirmed by a repeat; on
the three-node NATS cluster it hears of each SOS press exactly once, before and after a node and an ingest
process die."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from datetime import datetime

import pytest

from anxin.ports import free_port

pytestmark = pytest.mark.integration


def run_demo(scenario: str, notify: str | None, exit_after: int, data_dir, timeout: int = 60) -> str:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "firmware_sim",
            "demo",
            "--scenario",
            scenario,
            *(["--notify", notify] if notify else []),
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
        timeout=exit_after + timeout,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def said_at(out: str, pattern: str) -> float:
    found = re.search(r"^(\d\d:\d\d:\d\d\.\d{3}) .*" + pattern, out, re.M)
    assert found, out
    return datetime.combine(datetime.now().date(), datetime.strptime(found.group(1), "%H:%M:%S.%f").time()).timestamp()


def test_demo_fall_nobody_cancels_reaches_the_caregiver_after_the_window(receiver, tmp_path):
    out = run_demo("fall", receiver.url("/demo"), 40, tmp_path)  # the fall at 3 s, the window 30 s
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


@pytest.mark.slow
def test_demo_cluster_tells_the_caregiver_once_per_press_across_a_node_and_an_ingest_process_dying(tmp_path):
    out = run_demo("cluster", None, 1, tmp_path, timeout=300)  # the demo's own caregiver phone
    presses = [m.start() for m in re.finditer(r"the resident presses the SOS button", out)]
    told = [m.start() for m in re.finditer(r"\[caregiver phone /caregiver/R001\] .*紧急求助", out)]
    assert len(presses) == 2, out
    assert len(told) == 2, "the caregiver must be told exactly once per press:\n" + out
    assert presses[0] < told[0] < presses[1] < told[1], out
    killed = out.index("nats-1 killed (kill -9)")
    assert "[server ingest-b] killed (kill -9" in out
    moved = re.search(r"\[home gw-r001\] gateway moved from nats-1 \(.*\) to nats-[23] ", out)
    assert moved and killed < moved.start() < presses[1], out
    assert "partitions moved: /metrics anxin_stream_partitions_owned: web 16, ingest-b 0" in out, out


def test_demo_cluster_without_nats_server_says_how_to_install_it(monkeypatch, capsys, tmp_path):
    from firmware_sim import cluster_story

    monkeypatch.setattr(cluster_story, "NATS_SERVER", str(tmp_path / "no-nats-server"))
    code = cluster_story.run_cluster(tmp_path, print, None, free_port(), 0, threading.Event())
    err = capsys.readouterr().err
    assert code != 0
    assert "需要 nats-server" in err and "needs nats-server" in err
    assert "apt-get install nats-server" in err
