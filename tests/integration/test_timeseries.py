"""The InfluxDB mirror against a real VictoriaMetrics: end to end from an uplink, flush on close, failures counted."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from anxin import protocol
from anxin.mqtt import MqttLink, make_client
from anxin.ports import free_port
from server.db.models import Reading
from server.timeseries import InfluxMirror, InfluxTarget, as_record, backfill
from tests.conftest import Mosquitto
from tests.integration.harness import provision, start_server, wait_until
from tests.integration.victoria import BINARY, VictoriaMetrics

pytestmark = pytest.mark.integration


@pytest.fixture
def vm(tmp_path: Path) -> Iterator[VictoriaMetrics]:
    """A VictoriaMetrics speaking InfluxDB's write API on a free port."""
    if not Path(BINARY).exists():
        pytest.fail("victoria-metrics is not installed: run scripts/test.sh, or apt-get install victoria-metrics")
    server = VictoriaMetrics(tmp_path).start()
    yield server
    server.stop()


def readings(n: int, start: datetime, resident_id: int | None = 7) -> list[Reading]:
    """n one-minute-apart readings, systolic 120, 121, …"""
    return [
        Reading(
            resident_id=resident_id,
            gateway_id="gw-x",
            device="bp",
            metric="blood_pressure",
            ts=start + timedelta(minutes=i),
            values={"systolic": 120 + i, "diastolic": 80, "pulse": 70},
            flags=["cuff_loose"] if i == 0 else [],
        )
        for i in range(n)
    ]


def test_uplinked_readings_reach_the_time_series_store(
    tmp_path: Path, central_broker: Mosquitto, vm: VictoriaMetrics
) -> None:
    server = start_server(tmp_path, central_broker.address, influx_url=vm.url, influx_flush_interval_ms=200)
    acks: list[bytes] = []
    gw = MqttLink(
        make_client("fake-gw-r001"),
        central_broker.address,
        lambda _t, p: acks.append(p),
        [(protocol.ack_topic("gw-r001"), 1)],
    )
    try:
        provision(server, 1, [])
        gw.start()
        assert gw.wait_connected(15)
        now = time.time()
        events = tuple(
            protocol.UplinkEvent(
                seq,
                "reading",
                now - 60 * (4 - seq),
                {
                    "device": "bp-monitor",
                    "metric": "blood_pressure",
                    "values": {"systolic": 130 + seq, "diastolic": 85, "pulse": 66},
                    "flags": [],
                },
            )
            for seq in (1, 2, 3)
        )
        gw.publish(
            protocol.up_topic("gw-r001"),
            protocol.encode_batch(protocol.UplinkBatch("gw-r001", "boot-1", events, sent_at=now)),
            1,
        )
        assert wait_until(lambda: acks, timeout=20), "the server never acknowledged the readings"
        assert wait_until(lambda: len(vm.samples("blood_pressure_systolic")) == 3, timeout=30)
        samples = vm.samples("blood_pressure_systolic")
        assert [v for _, v, _ in samples] == [131.0, 132.0, 133.0]
        assert samples[0][0]["gateway"] == "gw-r001" and samples[0][0]["device"] == "bp-monitor"
        assert abs(samples[2][2] / 1000 - (now - 60)) < 1
        mirror = server.mirror
        assert mirror is not None
        assert wait_until(lambda: mirror.counters["written"] == 3, timeout=10)
        assert mirror.pending() == 0 and mirror.counters["failed"] == 0
    finally:
        gw.stop()
        server.stop()


def test_close_flushes_a_batch_that_is_not_full(vm: VictoriaMetrics) -> None:
    # A big batch and a long flush interval: only close() can send these points. (Not longer: influxdb-client's
    # window timer keeps one thread alive until it fires, which delays the interpreter's exit by that much.)
    mirror = InfluxMirror(InfluxTarget(vm.url, "", "anxin", "anxin", batch_size=10_000, flush_interval_ms=15_000))
    mirror.start()
    mirror.write([as_record(r) for r in readings(50, datetime(2026, 3, 1, tzinfo=UTC))])
    assert mirror.counters["written"] == 0
    mirror.close()
    assert mirror.counters["written"] == 50
    assert wait_until(lambda: len(vm.samples("blood_pressure_systolic")) == 50, timeout=30)
    flagged = vm.samples("blood_pressure_flagged")
    assert [v for _, v, _ in flagged[:2]] == [1.0, 0.0]


def test_an_unreachable_store_is_counted_and_logged_not_silent(caplog: pytest.LogCaptureFixture) -> None:
    target = InfluxTarget(
        f"http://127.0.0.1:{free_port()}",
        "",
        "anxin",
        "anxin",
        batch_size=10,
        flush_interval_ms=100,
        retry_interval_ms=50,
        max_retries=1,
        max_retry_time_ms=2000,
    )
    mirror = InfluxMirror(target)
    mirror.start()
    with caplog.at_level(logging.WARNING, logger="server.timeseries"):
        mirror.write([as_record(r) for r in readings(10, datetime(2026, 3, 1, tzinfo=UTC))])
        assert wait_until(lambda: mirror.counters["failed"] == 10, timeout=30)
        mirror.close()
    assert mirror.counters["written"] == 0 and mirror.pending() == 0
    assert mirror.counters["retried"] >= 1
    assert "gave up on 10 points" in caplog.text


def test_writes_are_retried_until_the_store_comes_back(tmp_path: Path) -> None:
    vm = VictoriaMetrics(tmp_path)  # not started yet: the first attempts fail
    mirror = InfluxMirror(
        InfluxTarget(
            vm.url,
            "",
            "anxin",
            "anxin",
            batch_size=5,
            flush_interval_ms=100,
            retry_interval_ms=500,
            max_retries=30,
            max_retry_time_ms=60_000,
        )
    )
    mirror.start()
    try:
        mirror.write([as_record(r) for r in readings(5, datetime(2026, 3, 1, tzinfo=UTC))])
        assert wait_until(lambda: mirror.counters["retried"] >= 1, timeout=20)
        vm.start()
        assert wait_until(lambda: mirror.counters["written"] == 5, timeout=60)
        assert mirror.counters["failed"] == 0
        assert wait_until(lambda: len(vm.samples("blood_pressure_systolic")) == 5, timeout=30)
    finally:
        mirror.close()
        vm.stop()


def test_backfill_resends_what_the_database_holds(tmp_path: Path, vm: VictoriaMetrics) -> None:
    from server.db.session import create_schema, make_engine, session_factory

    engine = make_engine(f"sqlite:///{tmp_path}/bf.db")
    create_schema(engine)
    sessions = session_factory(engine)
    start = datetime(2026, 3, 1, tzinfo=UTC)
    with sessions() as s, s.begin():
        s.add_all(readings(12, start, resident_id=None))
    mirror = InfluxMirror(InfluxTarget(vm.url, "", "anxin", "anxin"))
    mirror.start()
    assert backfill(mirror, sessions, start, start + timedelta(minutes=10), chunk=4) == 10
    mirror.close()
    assert wait_until(lambda: len(vm.samples("blood_pressure_systolic")) == 10, timeout=30)
    engine.dispose()
