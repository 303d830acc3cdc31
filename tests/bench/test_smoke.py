"""Every benchmark scenario runs end to end with --quick and writes a plausible result (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import SCENARIOS

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

# scenario -> metrics that must be present and greater than zero in a quick run
EXPECTED: dict[str, tuple[str, ...]] = {
    "broker_limit": ("single_msgs_per_s", "batched_items_per_s", "qos0_msgs_per_s", "hop_p50_ms"),
    "alarm_latency": ("idle_p50_ms", "idle_p99_ms", "load_p99_ms", "load_readings_per_s", "broker_hop_p50_ms"),
    "ingest": (
        "sqlite_readings_per_s",
        "postgresql_readings_per_s",
        "sqlite_stored",
        "postgresql_stored",
        "postgresql_2_processes_readings_per_s",
        "postgresql_2_processes_stored",
        "sqlite_ratio_to_broker",
        "broker_batched_items_per_s",
    ),
    "outage_drain": ("first_alarm_after_line_up_s", "drain_events_per_s", "stored_readings", "buffered_events"),
    "gateway_footprint": ("rss_mb_max", "cpu_pct_of_one_core", "local_messages", "readings_stored"),
    "connection_scale": (
        "server_rss_connected_mb",
        "heartbeats_acked",
        "reconnect_all_s",
        "heartbeats_resumed_s",
        "server_cpu_ms_per_heartbeat",
        "all_heartbeats_acked",
    ),
    "speech_start": ("sos_reply_start_p50_ms", "sos_reply_start_p99_ms", "replies"),
    "gateway_burst": (
        "readings_sent",
        "readings_stored",
        "readings_duplicated",
        "readings_per_s",
        "gateway_cpu_us_per_reading",
    ),
    "cluster": (
        "single_alarm_p50_ms",
        "single_readings_per_s",
        "cluster_alarm_p50_ms",
        "cluster_readings_per_s",
        "alarms_sent",
        "alarms_notified_once",
        "readings_sent",
        "readings_stored",
        "readings_accounted_by_gaps",
    ),
}
# metrics of EXPECTED that must be present but may be zero (a count of things that should not happen)
MAY_BE_ZERO = {"readings_duplicated", "readings_accounted_by_gaps"}


def test_every_scenario_has_a_smoke_expectation():
    assert set(EXPECTED) == set(SCENARIOS)


@pytest.mark.parametrize("scenario", list(EXPECTED))
def test_quick_run_writes_a_plausible_result(scenario, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "bench", scenario, "--quick", "--json", "--results", str(tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    doc = json.loads((tmp_path / f"{scenario}.json").read_text(encoding="utf-8"))
    assert json.loads(proc.stdout) == doc, "--json must print exactly what was written"
    assert doc["scenario"] == scenario and doc["quick"] is True
    assert doc["machine"]["cores"] >= 1 and doc["machine"]["mosquitto"] not in ("missing", "unknown")
    assert doc["rows"], "the table is empty"
    for key in EXPECTED[scenario]:
        if key in MAY_BE_ZERO:
            assert doc["metrics"].get(key, -1) >= 0, f"{key} missing or negative: {doc['metrics'].get(key)}"
        else:
            assert doc["metrics"].get(key, 0) > 0, f"{key} missing or not positive: {doc['metrics'].get(key)}"
    for target in doc["targets"]:
        assert {"name", "value", "limit", "met"} <= set(target)


def test_ingest_replay_stores_every_reading_it_reports(tmp_path):
    """The profiling harness (bench/ingest_replay.py): what it counts is what the database holds."""
    from sqlalchemy import text

    from bench.ingest_replay import replay
    from server.db.session import make_engine

    url = f"sqlite:///{tmp_path}/replay.db"
    result = replay(url, drain=3, readings=900)
    engine = make_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT COUNT(*) FROM readings")).scalar_one()
    engine.dispose()
    assert result["readings"] == 900 and stored == 900 + 3 * 300, "warm-up drains are stored too"
    assert result["readings_per_s"] > 0
