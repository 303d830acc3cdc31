"""Scenario (issue 24): ten zigbee2mqtt sensors publish a burst of readings at once -> gateway -> server.

The workload a user comparing gateways tries first: 20,000 readings published at QoS 1 on the home's
Mosquitto as fast as paho sends them, timed until the server has committed and acknowledged the last
one. A passive subscriber on the central broker sees the gateway's batches and the server's acks, so
the end is the ack that covers the last reading (not a poll of the database); afterwards the server's
database is read to count what was stored, and stored twice.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import psutil
import yaml
from sqlalchemy import select

from anxin import protocol
from anxin.mqtt import BrokerAddress
from bench.core import BenchError, Result, Stopwatch, Target, log
from bench.scenarios import broker_limit
from bench.stack import REPO, ServerProcess, child_env, provision_database
from server.db.models import Reading
from server.db.session import make_engine, session_factory
from tests.mosquitto import Mosquitto

TARGET_READINGS_PER_S = 5_000.0
TARGET_CPU_US_PER_READING = 100.0
GATEWAY = "gw-r001"
SENSORS = [f"climate-{i:02d}" for i in range(1, 11)]
MODEL = "WSDCGQ11LM"  # Aqara temperature, humidity and pressure sensor, as zigbee2mqtt names it
BASE_TEMPERATURE = 18.0  # reading k of a sensor reports 18 + k/1000 °C: (device, k) names every reading
PI_BROKER_CONF = REPO / "deploy" / "mosquitto-pi.conf"
# The home broker's limits that bear on a burst, taken from the Pi's shipped configuration.
PI_BROKER_KEYS = ("max_inflight_messages", "max_queued_messages")
# With this set to a file name, py-spy records the gateway process during the burst only (a raw
# flamegraph file; py-spy's flags from ANXIN_BENCH_PYSPY_ARGS, default `--threads --idle`). py-spy is
# stopped before the gateway is: while it is attached it holds the gateway's SIGTERM.
PYSPY_ENV = "ANXIN_BENCH_PYSPY"


def pi_broker_conf() -> str:
    """The lines of deploy/mosquitto-pi.conf that shape a burst (the in-flight window to the gateway, the queue)."""
    lines = PI_BROKER_CONF.read_text(encoding="utf-8").splitlines()
    return "\n".join(line for line in lines if line.split(" ", 1)[0] in PI_BROKER_KEYS)


def gateway_yaml(path: Path, local: BrokerAddress, central: BrokerAddress) -> Path:
    """The home's gateway configuration: the ten sensors paired as zigbee2mqtt climate devices."""
    doc = {
        "gateway_id": GATEWAY,
        "resident": "R001",
        "data_dir": str(path.parent / "gw"),
        "local_broker": {"host": local.host, "port": local.port},
        "central_broker": {"host": central.host, "port": central.port},
        "devices": [{"name": n, "family": "zigbee2mqtt", "model": MODEL, "role": "climate"} for n in SENSORS],
    }
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def payload(k: int, full_state: bool = True) -> bytes:
    """Reading k of a sensor as zigbee2mqtt publishes it: its whole state, which the gateway turns into a
    climate reading and a device_status reading (battery, link quality, voltage); without `full_state`
    only temperature, humidity and pressure (one climate reading)."""
    doc: dict[str, float] = {"temperature": round(BASE_TEMPERATURE + k / 1000, 3), "humidity": 45.5, "pressure": 1012.0}
    if full_state:
        doc.update({"battery": 91, "linkquality": 120, "voltage": 3005})
    return json.dumps(doc).encode()


def burst_keys(n: int) -> list[tuple[str, int]]:
    """(sensor, k) of the burst's n readings in publishing order: round-robin, k from 1 (0 is the warm-up)."""
    return [(SENSORS[j % len(SENSORS)], j // len(SENSORS) + 1) for j in range(n)]


def reading_key(device: str, values: dict[str, Any]) -> tuple[str, int] | None:
    """(sensor, k) of a stored or forwarded climate reading of this workload; None for anything else."""
    t = values.get("temperature")
    if device not in SENSORS or not isinstance(t, (int, float)):
        return None
    return device, round((t - BASE_TEMPERATURE) * 1000)


class AckWatch:
    """A passive subscriber on the central broker: which readings the gateway sent, which the server acked."""

    def __init__(self, central: BrokerAddress) -> None:
        self.central = central
        self.up, self.ack = protocol.up_topic(GATEWAY), protocol.ack_topic(GATEWAY)
        self.lock = threading.Lock()
        self.seq_key: dict[int, tuple[str, int]] = {}  # uplink seq -> (sensor, k)
        self.sent_keys: set[tuple[str, int]] = set()
        self.pending: set[int] = set()  # sent, not yet acked
        self.acked_seqs: set[int] = set()
        self.upto = 0
        self.acked: dict[tuple[str, int], float] = {}  # (sensor, k) -> perf_counter of its first ack
        self.expected: set[tuple[str, int]] = set()  # the readings being waited for
        self.expected_acked = 0
        self.last_expected_ack = 0.0
        # device_status rows (a full state's second row) have no identity of their own: those sent after
        # expect() are counted, so the end is the ack of the last of them too
        self.max_seq = 0
        self.status_after = 0
        self.status_pending: set[int] = set()
        self.status_acked = 0
        self.last_status_ack = 0.0
        self.batches = 0
        self.events_sent = 0
        self.resent = 0  # seqs published again (the uplink's resend after a late ack)
        self.same_reading_twice = 0  # one (sensor, k) under two seqs: stored twice unless the server dedups
        self.client: paho.Client | None = None

    def start(self) -> AckWatch:
        """Connect and subscribe to the gateway's up and ack topics."""
        client = broker_limit._connect(self.central, "ackwatch")
        subscribed = threading.Event()
        client.on_subscribe = lambda *_a: subscribed.set()
        client.on_message = self._on_message
        client.subscribe([(self.up, 1), (self.ack, 1)])
        if not subscribed.wait(10):
            raise BenchError("the ack watcher's subscription was not confirmed")
        self.client = client
        return self

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        now = time.perf_counter()
        try:
            if msg.topic == self.up:
                self._batch(protocol.decode_batch(bytes(msg.payload)), now)
            elif msg.topic == self.ack:
                self._ack(protocol.decode_ack(bytes(msg.payload)), now)
        except protocol.ProtocolError as exc:
            log(f"ack watcher: unreadable message on {msg.topic}: {exc}")

    def _batch(self, batch: protocol.UplinkBatch, now: float) -> None:
        with self.lock:
            self.batches += 1
            for e in batch.events:
                self.events_sent += 1
                self.max_seq = max(self.max_seq, e.seq)
                if e.lane == "reading" and e.body.get("metric") == "device_status" and e.body.get("device") in SENSORS:
                    if e.seq > self.status_after and e.seq not in self.status_pending:
                        if e.seq <= self.upto or e.seq in self.acked_seqs:
                            self._status_acked(now)
                        else:
                            self.status_pending.add(e.seq)
                    continue
                if e.lane != "reading" or e.body.get("metric") != "climate":
                    continue
                key = reading_key(str(e.body.get("device")), e.body.get("values") or {})
                if key is None:
                    continue
                if e.seq in self.seq_key:
                    self.resent += 1
                    continue
                if key in self.sent_keys:
                    self.same_reading_twice += 1
                self.sent_keys.add(key)
                self.seq_key[e.seq] = key
                if e.seq <= self.upto or e.seq in self.acked_seqs:  # the ack overtook the batch
                    self._acked(key, now)
                else:
                    self.pending.add(e.seq)

    def _ack(self, ack: protocol.Ack, now: float) -> None:
        with self.lock:
            self.upto = max(self.upto, ack.upto)
            named = set(ack.seqs) | set(ack.rejected)
            self.acked_seqs |= named
            done = {s for s in self.pending if s <= self.upto} | (named & self.pending)
            for seq in done:
                self.pending.discard(seq)
                self._acked(self.seq_key[seq], now)
            status = {s for s in self.status_pending if s <= self.upto} | (named & self.status_pending)
            for seq in status:
                self.status_pending.discard(seq)
                self._status_acked(now)

    def _status_acked(self, now: float) -> None:
        self.status_acked += 1
        self.last_status_ack = now

    def _acked(self, key: tuple[str, int], now: float) -> None:
        if key in self.acked:
            return
        self.acked[key] = now
        if key in self.expected:
            self.expected_acked += 1
            self.last_expected_ack = now

    def expect(self, keys: set[tuple[str, int]]) -> None:
        """Count acknowledgements of these readings from now on (cheap to poll: see `progress`)."""
        with self.lock:
            self.expected = set(keys)
            self.expected_acked = sum(1 for k in self.expected if k in self.acked)
            self.last_expected_ack = max((self.acked[k] for k in self.expected if k in self.acked), default=0.0)
            self.status_after, self.status_pending = self.max_seq, set()
            self.status_acked, self.last_status_ack = 0, 0.0

    def progress(self) -> tuple[int, float]:
        """How many expected readings are acked, and when the last of them was (perf_counter; 0 if none)."""
        with self.lock:
            return self.expected_acked, self.last_expected_ack

    def status_progress(self) -> tuple[int, float]:
        """How many device_status rows sent since expect() are acked, and when the last of them was."""
        with self.lock:
            return self.status_acked, self.last_status_ack

    def stop(self) -> None:
        """Disconnect."""
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()


def stored(url: str) -> tuple[dict[tuple[str, int], int], int, int]:
    """The server's `readings`: climate rows per (sensor, k), the sensors' device_status rows, and any others."""
    engine = make_engine(url)
    counts: dict[tuple[str, int], int] = {}
    status = other = 0
    try:
        with session_factory(engine)() as s:
            rows = s.execute(select(Reading.device, Reading.metric, Reading.values)).all()
    finally:
        engine.dispose()
    for device, metric, values in rows:
        key = reading_key(device, values) if metric == "climate" else None
        if key is not None:
            counts[key] = counts.get(key, 0) + 1
        elif metric == "device_status" and device in SENSORS:
            status += 1
        else:
            other += 1
    return counts, status, other


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def warm_up(pub: Publisher, watch: AckWatch, gw: subprocess.Popen[bytes], log_path: Path, full_state: bool) -> float:
    """Reading 0 of every sensor, again until all ten are acknowledged: the gateway is subscribed and its
    uplink works before the clock starts. Returns the seconds it took."""
    keys = {(s, 0) for s in SENSORS}
    watch.expect(keys)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < 60:
        for s in SENSORS:
            pub.publish(f"zigbee2mqtt/{s}", payload(0, full_state))
        deadline = time.perf_counter() + 2.0
        while time.perf_counter() < deadline:
            if gw.poll() is not None:
                raise BenchError(f"the gateway exited with {gw.returncode}; see {log_path}")
            if watch.progress()[0] == len(keys):
                return time.perf_counter() - t0
            time.sleep(0.02)
    raise BenchError(f"the warm-up readings were not acknowledged within 60 s; see {log_path}")


class Publisher:
    """The home's zigbee2mqtt: one paho client on the home broker, counting the broker's PUBACKs."""

    def __init__(self, local: BrokerAddress) -> None:
        self.client = broker_limit._connect(local, "zigbee2mqtt")
        self.client.on_publish = self._on_publish
        self.lock = threading.Lock()
        self.acked = 0
        self.target = 0
        self.done_at = 0.0

    def _on_publish(self, *_a: object) -> None:
        with self.lock:
            self.acked += 1
            if self.acked == self.target:
                self.done_at = time.perf_counter()

    def publish(self, topic: str, body: bytes) -> None:
        """One state message at QoS 1, queued in paho."""
        self.client.publish(topic, body, qos=1)

    def expect(self, count: int) -> None:
        """Note when `count` more PUBACKs have come back."""
        with self.lock:
            self.target, self.done_at = self.acked + count, 0.0

    def stop(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()


def start_profiler(pid: int) -> subprocess.Popen[bytes] | None:
    """py-spy on the gateway when ANXIN_BENCH_PYSPY names an output file (see PYSPY_ENV), else None."""
    out = os.environ.get(PYSPY_ENV)
    if not out:
        return None
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    flags = os.environ.get(f"{PYSPY_ENV}_ARGS", "--threads --idle").split()
    cmd = [exe, "record", *flags, "--format", "raw", "-o", out, "--pid", str(pid)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)  # attached before the first publish
    log(f"py-spy recording the gateway into {out}")
    return proc


def thread_cpu(proc: psutil.Process) -> dict[int, float]:
    """CPU seconds (user + system) of each of the process's threads, by native thread id."""
    return {t.id: t.user_time + t.system_time for t in proc.threads()}


def thread_names(pid: int) -> dict[int, str]:
    """Native thread id -> Python thread name, from `py-spy dump` (only when profiling: it pauses the process)."""
    if not os.environ.get(PYSPY_ENV):
        return {}
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    try:
        out = subprocess.run([exe, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    names: dict[int, str] = {}
    for line in out.splitlines():
        if line.startswith("Thread ") and '"' in line:
            tid = line.split()[1]
            if tid.isdigit():
                names[int(tid)] = line.split('"')[1]
    return names


def stop_profiler(proc: subprocess.Popen[bytes] | None) -> None:
    """Stop py-spy (it writes its file on SIGINT)."""
    if proc is None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def burst(
    pub: Publisher, watch: AckWatch, gw: subprocess.Popen[bytes], n: int, stall_s: float, full_state: bool
) -> dict[str, Any]:
    """Publish n readings round-robin over the sensors; wait for the ack of the last one (or a stall)."""
    keys = burst_keys(n)
    messages = [(f"zigbee2mqtt/{s}", payload(k, full_state)) for s, k in keys]
    watch.expect(set(keys))
    pub.expect(n)
    proc = psutil.Process(gw.pid)
    profiler = start_profiler(gw.pid)
    try:
        cpu0, threads0 = _cpu(proc), thread_cpu(proc)
        t0 = time.perf_counter()
        for topic, body in messages:
            pub.publish(topic, body)
        last_progress, seen = time.perf_counter(), 0
        while True:
            now = time.perf_counter()
            count, _t_last = watch.progress()
            status, _t_status = watch.status_progress()
            if count >= n and status >= (n if full_state else 0):
                break
            if count + status > seen:
                seen, last_progress = count + status, now
            if now - last_progress > stall_s:
                log(f"no acknowledgement for {stall_s:.0f} s with {count:,} of {n:,} readings acknowledged: giving up")
                break
            if gw.poll() is not None:
                raise BenchError(f"the gateway exited with {gw.returncode} during the burst")
            time.sleep(0.005)
        cpu1, threads1 = _cpu(proc), thread_cpu(proc)
    finally:
        stop_profiler(profiler)
    names = thread_names(gw.pid)
    per_thread = {
        names.get(tid, str(tid)): (t - threads0.get(tid, 0.0)) / n * 1e6 for tid, t in sorted(threads1.items())
    }
    count, t_last = watch.progress()
    status, t_status = watch.status_progress()
    return {
        "acked": count,
        "status_acked": status,
        "elapsed_s": (max(t_last, t_status) or time.perf_counter()) - t0,
        "publish_s": (pub.done_at or time.perf_counter()) - t0,
        "gateway_cpu_s": cpu1 - cpu0,
        "gateway_rss_mb": proc.memory_info().rss / 2**20,
        "thread_cpu_us": per_thread,  # µs per reading by thread (name, or native id without py-spy)
    }


def run(quick: bool, readings: int | None = None, full_state: bool = True) -> Result:
    """Home broker (the Pi's limits), gateway process with its outbox, central broker, server on SQLite.

    A reading is one sensor report (one state message), as issue 24 and the thingsboard-gateway figures
    count them; `full_state=False` sends temperature, humidity and pressure only (one stored row each)."""
    clock = Stopwatch()
    n = readings or (1_000 if quick else 20_000)
    stall_s = 15.0 if quick else 60.0
    result = Result("gateway_burst", quick)
    with tempfile.TemporaryDirectory(prefix="anxin-bench-") as tmp:
        work = Path(tmp)
        central = Mosquitto(work).start()
        local = Mosquitto(work, extra_conf=pi_broker_conf()).start()
        server: ServerProcess | None = None
        gw: subprocess.Popen[bytes] | None = None
        watch: AckWatch | None = None
        pub: Publisher | None = None
        gw_log = work / "gateway.log"
        try:
            ref = broker_limit.reference(local.address, quick)
            url = f"sqlite:///{work}/burst.db"
            provision_database(url, 1, [])
            server = ServerProcess(work, central.address, url).start()
            watch = AckWatch(central.address).start()
            config = gateway_yaml(work / "gateway.yaml", local.address, central.address)
            with open(gw_log, "ab") as out:
                gw = subprocess.Popen(
                    [sys.executable, "-m", "gateway", "--log-level", "WARNING", "run", "--config", str(config)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=child_env(),
                    cwd=REPO,
                )
            pub = Publisher(local.address)
            warm_s = warm_up(pub, watch, gw, gw_log, full_state)
            scpu0 = _cpu(server.process)
            log(
                f"burst of {n:,} readings from {len(SENSORS)} sensors; gateway pid {gw.pid}, server pid {server.proc.pid if server.proc else '?'}"
            )
            b = burst(pub, watch, gw, n, stall_s, full_state)
            server_cpu_s = _cpu(server.process) - scpu0
            time.sleep(1.0)  # a late resend or a redelivery would be stored now, and counted below as twice
            log_tail = gw_log.read_text(errors="replace").splitlines()[-3:]
        finally:
            if pub is not None:
                pub.stop()
            if gw is not None and gw.poll() is None:
                gw.terminate()
                gw.wait(15)
            if watch is not None:
                watch.stop()
            if server is not None:
                server.stop()
            central.stop()
            local.stop()
        counts, status_rows, other = stored(url)
    keys = burst_keys(n)
    once = sum(1 for k in keys if k in counts)
    twice = sum(counts[k] - 1 for k in keys if k in counts)
    # a stored full-state report has its device_status row beside its climate row (warm-up and twice included)
    status_expected = sum(counts.values()) if full_state else 0
    elapsed = max(1e-9, b["elapsed_s"])
    rate = b["acked"] / elapsed
    cpu_us = b["gateway_cpu_s"] / n * 1e6
    m = result.metrics
    m.update(
        {
            "readings_sent": n,
            "readings_acked": b["acked"],
            "readings_stored": once,
            "readings_lost": n - once,
            "readings_duplicated": twice,
            "full_state": 1.0 if full_state else 0.0,
            "rows_per_reading": 2.0 if full_state else 1.0,
            "status_rows_stored": status_rows,
            "status_rows_acked": b["status_acked"],
            "readings_per_s": rate,
            "elapsed_s": elapsed,
            "publish_s": b["publish_s"],
            "publish_per_s": n / max(1e-9, b["publish_s"]),
            "gateway_cpu_s": b["gateway_cpu_s"],
            "gateway_cpu_us_per_reading": cpu_us,
            "gateway_cpu_pct_of_one_core": b["gateway_cpu_s"] / elapsed * 100,
            "gateway_rss_mb": b["gateway_rss_mb"],
            "server_cpu_us_per_reading": server_cpu_s / n * 1e6,
            "uplink_batches": watch.batches,
            "uplink_events_per_batch": watch.events_sent / max(1, watch.batches),
            "uplink_resent": watch.resent,
            "uplink_same_reading_twice": watch.same_reading_twice,
            "warm_up_s": warm_s,
            "broker_single_msgs_per_s": ref["single_msgs_per_s"],
            "broker_hop_p50_ms": ref["hop_p50_ms"],
        }
    )
    m["rate_vs_broker"] = rate / ref["single_msgs_per_s"]
    result.rows = [
        {"figure": "readings sent / acknowledged / stored", "value": f"{n:,} / {b['acked']:,} / {once:,}"},
        {"figure": "lost / stored twice", "value": f"{n - once:,} / {twice:,}"},
        {"figure": "end to end (first publish -> last ack)", "value": f"{elapsed:.2f} s, {rate:,.0f} readings/s"},
        {"figure": "publisher done (home broker's PUBACKs)", "value": f"{b['publish_s']:.2f} s"},
        {
            "figure": "gateway CPU",
            "value": f"{cpu_us:,.0f} µs per reading, {m['gateway_cpu_pct_of_one_core']:.0f} % of one core",
        },
        {"figure": "server CPU", "value": f"{m['server_cpu_us_per_reading']:,.0f} µs per reading"},
        {
            "figure": "uplink batches / events per batch / resent",
            "value": f"{watch.batches:,} / {m['uplink_events_per_batch']:.0f} / {watch.resent:,}",
        },
        {"figure": "end-to-end rate ÷ home broker limit (single QoS 1)", "value": f"{m['rate_vs_broker']:.1%}"},
    ]
    result.targets = [
        Target("readings delivered (stored once)", once, n, "readings", higher_is_better=True),
        Target("readings stored twice", twice, 0, "readings"),
        Target("end to end", rate, TARGET_READINGS_PER_S, "readings/s", higher_is_better=True),
        Target("gateway CPU per reading", cpu_us, TARGET_CPU_US_PER_READING, "µs"),
    ]
    if other:
        result.notes.append(f"{other} other rows in readings (not this workload's readings)")
    if status_rows != status_expected:
        result.notes.append(f"{status_rows:,} device_status rows stored for {status_expected:,} climate rows")
    busy = {k: v for k, v in b["thread_cpu_us"].items() if v >= 1.0}
    result.notes += [
        "gateway CPU by thread, µs per reading: " + ", ".join(f"{k} {v:.0f}" for k, v in busy.items()),
        broker_limit.summary(ref) + " (the home broker)",
        f"workload: {len(SENSORS)} zigbee2mqtt {MODEL} sensors, {n:,} state messages at QoS 1 published "
        "round-robin by one paho client (zigbee2mqtt is one MQTT client) as fast as paho takes them; a reading "
        "is one report, as zigbee2mqtt publishes it: "
        + (
            "its whole state, stored as two rows (climate: temperature, humidity, pressure; device_status: "
            "battery, link quality, voltage)"
            if full_state
            else "temperature, humidity and pressure only (full_state=False), stored as one climate row"
        ),
        "path: home Mosquitto (deploy/mosquitto-pi.conf: "
        + ", ".join(pi_broker_conf().splitlines())
        + ") -> gateway process (outbox, PUBACK after the insert) -> central Mosquitto -> server (SQLite, commit, "
        "ack); the end is the server's ack covering the last reading, seen by a passive subscriber",
        "gateway CPU: psutil user+system of the gateway process from the first publish to the last ack, "
        "divided by the readings sent",
        f"gateway log tail: {' | '.join(log_tail) if log_tail else '(empty)'}",
    ]
    result.anchors = [
        "issue 24 (same workload, this machine): 490–545 readings/s, 20,000 of 20,000 delivered, "
        "gateway ~88 % of a core, ~1.7 ms CPU per reading",
        "thingsboard-gateway 3.8.5, same workload: 1,513 readings/s, 798 lost (4 %); "
        "1,050–1,513 readings/s with 2.4–4.0 % lost (ANCHORS.md)",
    ]
    result.duration_s = clock.elapsed
    return result
