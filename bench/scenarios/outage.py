"""Scenario 5: an hour of readings and several alarms buffered while the home's line is down, then reconnect."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench.core import BenchError, Result, Stopwatch, Target, log
from bench.netcut import LineCut
from bench.scenarios import broker_limit
from bench.stack import ServerProcess, count_rows, provision_database
from firmware_sim.installation import build_home, gateway_settings
from firmware_sim.receiver import NotificationReceiver
from tests.mosquitto import Mosquitto

TARGET_FIRST_ALARM_S = 1.0
DEVICES = 10  # a typical home: ten devices reporting every 10 s, and a wearable's summary every second
HOUR_READINGS = DEVICES * 360 + 3600


def hour_of_readings(count: int, now: float) -> list[tuple[str, float, float | None, dict[str, object]]]:
    """Outbox rows as the gateway stores them, spread over the hour before `now`."""
    rows: list[tuple[str, float, float | None, dict[str, object]]] = []
    for i in range(count):
        ts = now - 3600 + i * 3600 / count
        if i % 2:
            body = {
                "device": "wearable",
                "metric": "activity",
                "values": {"magnitude_rms": 1.02, "steps": i % 9},
                "flags": [],
                "detail": {},
                "measured_at": None,
            }
        else:
            body = {
                "device": f"climate-{i % DEVICES}",
                "metric": "climate",
                "values": {"temperature": 21.5, "humidity": 44.0},
                "flags": [],
                "detail": {},
                "measured_at": None,
            }
        rows.append(("reading", ts, None, body))
    return rows


def wait(predicate: object, timeout: float) -> float | None:
    """Poll until predicate() is truthy; the time.time() when it was, or None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return time.time()
        time.sleep(0.005)
    return None


def run(quick: bool) -> Result:
    """Cut the home's line, fill its outbox, restore the line; time the first alarm and the drain."""
    clock = Stopwatch()
    readings, alarms = (1_000, 3) if quick else (HOUR_READINGS, 5)
    result = Result("outage_drain", quick)
    with tempfile.TemporaryDirectory(prefix="anxin-bench-") as tmp:
        work = Path(tmp)
        central, local = Mosquitto(work).start(), Mosquitto(work).start()
        receiver = NotificationReceiver()
        receiver.start()
        line = LineCut(central.address).start()
        server = home = None
        try:
            ref = broker_limit.reference(central.address, quick)
            url = f"sqlite:///{work}/outage.db"
            provision_database(url, 1, [receiver.url("/caregiver/{code}")])
            server = ServerProcess(work, central.address, url).start()
            home = build_home(gateway_settings("gw-r001", "R001", local.address, line.address, work / "gw"))
            home.start()
            line.cut()
            if wait(lambda: not home.gateway.central.connected.is_set(), 30) is None:
                raise BenchError("the gateway did not notice the line going down")
            log(f"uplink down: buffering {readings} readings and {alarms} SOS presses")
            home.gateway.outbox.put_many(hour_of_readings(readings, time.time()))
            for _ in range(alarms):
                home.button.press()
                time.sleep(0.05)
            if wait(lambda: home.gateway.outbox.count("alarm") >= alarms, 30) is None:
                raise BenchError("the presses did not reach the outbox")
            buffered = home.gateway.outbox.count()
            time.sleep(2.0)  # a real outage: the gateway's reconnect backoff has grown
            line.restore()
            t_up = time.time()
            t_gw = wait(home.gateway.central.connected.is_set, 60)
            got = receiver.wait_for(1, 60)
            if t_gw is None or not got:
                raise BenchError("no reconnect or no alarm notification within 60 s of the line's return")
            left_at_alarm = home.gateway.outbox.count("reading")
            t_empty = wait(lambda: home.gateway.outbox.count() == 0, 300)
            if t_empty is None:
                raise BenchError(f"outbox not drained after 300 s ({home.gateway.outbox.count()} left)")
            stored = count_rows(url, "readings")
        finally:
            for part in (home, server):
                if part is not None:
                    part.stop()
            receiver.stop()
            line.stop()
            central.stop()
            local.stop()
    m = result.metrics
    m.update(
        {
            "buffered_events": buffered,
            "buffered_readings": readings,
            "buffered_alarm_events": alarms,
            "reconnect_s": t_gw - t_up,
            "first_alarm_after_reconnect_s": got[0].at - t_gw,
            "first_alarm_after_line_up_s": got[0].at - t_up,
            "readings_left_at_first_alarm": left_at_alarm,
            "drain_s": t_empty - t_gw,
            "drain_events_per_s": buffered / max(0.001, t_empty - t_gw),
            "stored_readings": stored,
            "broker_batched_items_per_s": ref["batched_items_per_s"],
        }
    )
    m["drain_vs_broker"] = m["drain_events_per_s"] / ref["batched_items_per_s"]
    result.rows = [
        {"step": "line back -> gateway reconnected", "seconds": m["reconnect_s"], "note": "paho backoff 1–8 s"},
        {
            "step": "gateway reconnected -> caregiver notified",
            "seconds": m["first_alarm_after_reconnect_s"],
            "note": f"{left_at_alarm:,} readings not yet acknowledged then",
        },
        {"step": "line back -> caregiver notified", "seconds": m["first_alarm_after_line_up_s"], "note": ""},
        {
            "step": f"drain {buffered:,} events",
            "seconds": m["drain_s"],
            "note": f"{m['drain_events_per_s']:,.0f} events/s ({m['drain_vs_broker']:.1%} of broker batched)",
        },
    ]
    result.targets = [
        Target("first alarm after reconnect", m["first_alarm_after_reconnect_s"], TARGET_FIRST_ALARM_S, "s")
    ]
    if stored < readings:
        result.notes.append(f"only {stored} of {readings} buffered readings reached the server's database")
    result.notes += [
        broker_limit.summary(ref),
        "the line (bench/netcut.py): a TCP relay between gateway and central broker that drops and refuses connections; "
        "the server stays connected, as when a home's internet fails",
        f"backlog: {readings:,} readings (an hour of {DEVICES} devices every 10 s plus a wearable "
        f"summary every second) and {alarms} SOS presses, written while the home's line was cut",
    ]
    result.anchors = [
        "thingsboard-gateway: data lost for 10–20 s after a reconnect (#2157); SQLite storage "
        "~100 readings/s (ANCHORS.md)"
    ]
    result.duration_s = clock.elapsed
    return result
