"""Simulated gateways that speak the real uplink protocol (batches up, acks down) at full speed or a rate.

Run as a process of its own so that the load does not share the GIL with what is measured:
`python -m bench.fleet --port P --gateways 50` prints a JSON status line every second, a phase line
with the ack lags so far on SIGUSR1, and a final summary line when its duration ends or it gets SIGTERM.
`--batch 0` sends empty batches: a quiet home's heartbeat, acknowledged by the server like any batch.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field

import paho.mqtt.client as paho

from anxin import protocol
from anxin.mqtt import make_client
from bench.core import percentiles
from bench.fleet_loop import SocketLoop


def reading_body(i: int) -> dict[str, object]:
    """A climate reading shaped as the gateway forwards it."""
    return {
        "device": "climate-livingroom",
        "metric": "climate",
        "values": {"temperature": 20.0 + (i % 50) / 10, "humidity": 40.0 + i % 7},
        "flags": [],
        "detail": {},
        "measured_at": None,
    }


@dataclass
class SimGateway:
    """One gateway: publishes reading batches (or empty ones), keeps `window` in flight, measures ack lag."""

    gateway_id: str
    host: str
    port: int
    batch_size: int
    window: int
    full_speed: bool
    boot_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    seq: int = 0
    acked: int = 0  # events acknowledged
    batches_acked: int = 0  # batches acknowledged (with --batch 0, heartbeats)
    sent: int = 0
    rejected: int = 0
    connects: int = 0
    disconnects: int = 0
    errors: int = 0
    refused: int = 0
    lags_ms: list[float] = field(default_factory=list)
    running: bool = True
    _inflight: dict[str, float] = field(default_factory=dict)  # batch id -> when it left
    _lock: threading.Lock = field(default_factory=threading.Lock)
    client: paho.Client | None = None
    loop: SocketLoop | None = None  # one thread for the whole fleet (paced); None: paho's own thread

    def start(self) -> None:
        """Connect in the background with a last will, as the real gateway does."""
        c = make_client(f"bench-{self.gateway_id}-{self.boot_id[:6]}")
        c.max_inflight_messages_set(1000)
        c.reconnect_delay_set(min_delay=1, max_delay=8)
        offline = json.dumps({"v": 1, "gw": self.gateway_id, "state": "offline", "boot": self.boot_id}).encode()
        c.will_set(protocol.state_topic(self.gateway_id), offline, 1, True)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self.client = c
        if self.loop is not None:
            self.loop.attach(c, self.host, self.port, keepalive=30)
            return
        c.connect_async(self.host, self.port, keepalive=30)
        c.loop_start()

    def stop(self) -> None:
        """Stop sending and disconnect."""
        self.running = False
        if self.client and self.loop is not None:
            self.loop.detach(self.client)
        elif self.client:
            self.client.disconnect()
            self.client.loop_stop()

    @property
    def connected(self) -> bool:
        """Whether paho holds a live connection."""
        return bool(self.client and self.client.is_connected())

    def send_batch(self) -> None:
        """Publish one batch of readings and remember when it left."""
        if not self.client or not self.running:
            return
        batch_id = uuid.uuid4().hex[:16]
        with self._lock:
            first = self.seq + 1
            self.seq += self.batch_size
            self._inflight[batch_id] = time.perf_counter()
        now = time.time()
        events = tuple(
            protocol.UplinkEvent(first + i, "reading", now, reading_body(first + i)) for i in range(self.batch_size)
        )
        batch = protocol.UplinkBatch(self.gateway_id, self.boot_id, events, sent_at=now, batch_id=batch_id)
        info = self.client.publish(protocol.up_topic(self.gateway_id), protocol.encode_batch(batch), 1)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            # a publish refused while the link is down is not a failure of the server under test
            if info.rc == paho.MQTT_ERR_NO_CONN:
                self.refused += 1
            else:
                self.errors += 1
            with self._lock:
                self._inflight.pop(batch_id, None)
            return
        self.sent += self.batch_size or 1  # an empty batch counts as one heartbeat

    def _on_connect(self, client: paho.Client, _u: object, _f: object, reason: paho.ReasonCode, _p: object) -> None:
        if reason.is_failure:
            self.errors += 1
            return
        self.connects += 1
        client.subscribe(protocol.ack_topic(self.gateway_id), 1)
        online = json.dumps({"v": 1, "gw": self.gateway_id, "state": "online", "boot": self.boot_id}).encode()
        client.publish(protocol.state_topic(self.gateway_id), online, 1, True)
        with self._lock:
            self._inflight.clear()  # what was in flight is lost with the connection; not resent here
        if self.full_speed:
            for _ in range(self.window):
                self.send_batch()

    def _on_disconnect(self, *_a: object) -> None:
        self.disconnects += 1

    def _on_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        try:
            ack = protocol.decode_ack(msg.payload)
        except protocol.ProtocolError:
            self.errors += 1
            return
        with self._lock:
            sent_at = self._inflight.pop(ack.batch_id, None)
        if sent_at is None:
            return  # an ack for a batch from before a reconnect (or a second ack of one)
        self.lags_ms.append((time.perf_counter() - sent_at) * 1000)
        self.batches_acked += 1
        self.acked += len(ack.seqs) if self.batch_size else 1
        self.rejected += len(ack.rejected)
        if self.full_speed:
            self.send_batch()


@dataclass
class Fleet:
    """Many simulated gateways in this process."""

    gateways: list[SimGateway]

    def status(self) -> dict[str, float]:
        """Totals now."""
        g = self.gateways
        return {
            "t": time.time(),
            "gateways": len(g),
            "connected": sum(x.connected for x in g),
            "sent": sum(x.sent for x in g),
            "acked": sum(x.acked for x in g),
            "batches_acked": sum(x.batches_acked for x in g),
            "rejected": sum(x.rejected for x in g),
            "errors": sum(x.errors for x in g),
            "refused": sum(x.refused for x in g),
            "connects": sum(x.connects for x in g),
            "disconnects": sum(x.disconnects for x in g),
        }

    def take_lags(self) -> list[float]:
        """The ack lags measured since the last call, forgetting them (one phase of a run)."""
        lags: list[float] = []
        for x in self.gateways:
            taken, x.lags_ms = x.lags_ms, []
            lags += taken
        return lags

    def summary(self) -> dict[str, object]:
        """Totals and the ack-lag distribution since the last phase mark."""
        lags = self.take_lags()
        return {
            **self.status(),
            "lag_ms": percentiles(lags),
            "lags": [round(v, 2) for v in lags[:200_000]],
            "final": True,
        }


def main(argv: list[str] | None = None) -> int:
    """Run a fleet until the duration ends or SIGTERM arrives."""
    p = argparse.ArgumentParser(prog="python -m bench.fleet")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--gateways", type=int, default=10)
    p.add_argument("--first", type=int, default=1, help="number of the first gateway (gw-r<NNN>)")
    p.add_argument("--batch", type=int, default=100, help="readings per uplink batch (0: empty, a heartbeat)")
    p.add_argument("--window", type=int, default=2, help="batches in flight per gateway at full speed")
    p.add_argument("--interval", type=float, default=0.0, help="send one batch per gateway every N s (0: full speed)")
    p.add_argument("--duration", type=float, default=3600.0)
    args = p.parse_args(argv)
    full = args.interval <= 0
    # Paced (heartbeats): every client on this thread's selector, so thousands fit in a process.
    loop = None if full else SocketLoop()
    fleet = Fleet(
        [
            SimGateway(f"gw-r{i:03d}", args.host, args.port, args.batch, args.window, full, loop=loop)
            for i in range(args.first, args.first + args.gateways)
        ]
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    mark = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: mark.set())  # end of a phase: report its lags and start afresh
    for g in fleet.gateways:
        g.start()
    deadline = time.monotonic() + args.duration
    # heartbeats spread evenly over the interval, as independent homes would send them
    start = time.monotonic()
    due = [start + args.interval * (1 + i / len(fleet.gateways)) for i in range(len(fleet.gateways))]
    next_status = start + 1.0
    while not stop.is_set() and time.monotonic() < deadline:
        if loop is not None:
            loop.run(0.02)
        else:
            stop.wait(1.0)
        now = time.monotonic()
        if not full:
            for i, g in enumerate(fleet.gateways):
                if now >= due[i]:
                    due[i] += args.interval
                    if g.connected:
                        g.send_batch()
        if mark.is_set():
            mark.clear()
            lags = fleet.take_lags()
            print(
                json.dumps({"phase": True, "lag_ms": percentiles(lags), "lags": [round(v, 2) for v in lags]}),
                flush=True,
            )
        if now >= next_status:
            next_status += 1.0
            print(json.dumps(fleet.status()), flush=True)
    for g in fleet.gateways:
        g.running = False
    summary = fleet.summary()
    for g in fleet.gateways:
        g.stop()
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
