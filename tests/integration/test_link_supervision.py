"""The MQTT edge survives its own failures: a raising handler, a dead loop thread, a stuck socket;
and a gateway process tells systemd it is ready and alive over a real NOTIFY_SOCKET."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
import yaml

from anxin import protocol
from anxin.mqtt import MqttLink, make_client
from gateway.config import load_settings
from gateway.runtime import build_runtime
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration


def test_handler_exception_does_not_kill_the_loop(home_broker):
    got: list[bytes] = []

    def handler(topic: str, payload: bytes) -> None:
        if payload == b"boom":
            raise RuntimeError("a bug in a handler")
        got.append(payload)

    link = MqttLink(make_client("sup-sub"), home_broker.address, handler, [("t/#", 1)])
    pub = MqttLink(make_client("sup-pub"), home_broker.address, lambda t, p: None)
    link.start()
    pub.start()
    try:
        assert link.wait_connected(10) and pub.wait_connected(10)
        wait_until(lambda: False, 0.3)  # let the subscription land
        pub.publish("t/a", b"boom", 1)
        pub.publish("t/a", b"after", 1)
        assert wait_until(lambda: got == [b"after"], 10)
        assert link.stats.handler_errors == 1 and link.loop_alive()
    finally:
        link.stop()
        pub.stop()


def test_dead_loop_is_restarted_and_stuck_socket_reconnects(home_broker):
    link = MqttLink(make_client("sup-loop"), home_broker.address, lambda t, p: None)
    link.start()
    try:
        assert link.wait_connected(10)
        link.client.loop_stop()  # the loop thread is gone, as after an uncaught error in paho
        assert not link.loop_alive()
        assert link.supervise() and link.loop_alive()
        connects = link.stats.connects
        link.force_reconnect()
        assert wait_until(lambda: link.stats.connects > connects and link.connected.is_set(), 20)
        assert not link.supervise()
    finally:
        link.stop()


def test_every_connection_sends_small_packets_at_once(home_broker):
    """TCP_NODELAY on each socket, reconnects included: with Nagle's algorithm an uplink ack sent right
    after a PUBACK waited ~40 ms for the broker's delayed ACK (docs/performance.md, connection scale)."""
    link = MqttLink(make_client("sup-nodelay"), home_broker.address, lambda t, p: None)
    link.start()
    try:
        assert link.wait_connected(10)
        first = link.client.socket()
        assert first.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        link.force_reconnect()  # as the link does with a stuck socket
        assert wait_until(lambda: link.client.socket() not in (None, first) and link.connected.is_set(), 20)
        assert link.client.socket().getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        link.stop()


def test_gateway_process_notifies_systemd(tmp_path, home_broker, central_broker):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(30)
    cfg = tmp_path / "gw.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "gateway_id": "gw-wd",
                "data_dir": str(tmp_path / "gw"),
                "local_broker": {"port": home_broker.port},
                "central_broker": {"port": central_broker.port},
            }
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway", "run", "--config", str(cfg)],
        env={**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        messages: list[bytes] = []
        while not (any(m.startswith(b"READY=1") for m in messages) and b"WATCHDOG=1" in messages):
            messages.append(sock.recv(200))  # READY=1 comes once subscribed to the home broker
        assert sum(m.startswith(b"READY=1") for m in messages) == 1
        proc.terminate()
        assert proc.wait(20) == 0
        sock.settimeout(1)
        rest = []
        try:
            while True:
                rest.append(sock.recv(200))
        except (TimeoutError, OSError):
            pass
        assert b"STOPPING=1" in rest
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()


def test_an_uplink_publish_refused_while_down_is_not_sent_after_the_reconnect(tmp_path):
    """paho keeps a QoS 1 message it could not send and sends it after the reconnect; for the uplink
    that was a stale batch arriving ahead of the alarms raised meanwhile (tests/faults)."""
    from anxin.mqtt import NotConnected
    from tests.mosquitto import Mosquitto

    broker = Mosquitto(tmp_path, extra_conf=f"persistence true\npersistence_location {tmp_path}/\n").start()
    got: list[bytes] = []
    # A subscriber whose session outlives the broker restart: it would receive the stale message.
    sub = MqttLink(
        make_client("stale-sub", clean_session=False), broker.address, lambda t, p: got.append(p), [("up/#", 1)]
    )
    uplink = MqttLink(make_client("stale-up"), broker.address, lambda t, p: None, drop_unsent_on_disconnect=True)
    sub.start()
    uplink.start()
    try:
        assert sub.wait_connected(10) and uplink.wait_connected(10)
        broker.stop()
        assert wait_until(lambda: not uplink.connected.is_set(), 10)
        with pytest.raises(NotConnected):
            uplink.publish("up/gw", b"stale", 1)
        broker.start()
        assert uplink.wait_connected(20) and sub.wait_connected(20)
        uplink.publish("up/gw", b"fresh", 1)
        assert wait_until(lambda: b"fresh" in got, 10)
        assert got == [b"fresh"], "the batch refused while the broker was down came back"
    finally:
        uplink.stop()
        sub.stop()
        broker.stop()


def _retained(broker, topic: str) -> dict:
    """The message the broker keeps on `topic` (what a server subscribing now would read)."""
    got: list[bytes] = []
    reader = MqttLink(make_client("retained-reader"), broker.address, lambda t, p: got.append(p), [(topic, 1)])
    reader.start()
    try:
        assert reader.wait_connected(10)
        assert wait_until(lambda: bool(got), 5), f"nothing retained on {topic}"
    finally:
        reader.stop()
    return json.loads(got[-1])


def test_a_reconnect_while_a_gateway_stops_does_not_leave_its_birth_over_the_offline(tmp_path, central_broker):
    """A clean stop says "offline" (retained), then disconnects cleanly (no will). If the link drops and
    paho reconnects in between (a stuck-link nudge from the uplink, a flaky line), the reconnect published
    the birth, a retained "online", and the clean disconnect left it standing: a gateway that is gone
    looked online until the server's ten-minute silence limit (review of stop 16)."""
    settings = load_settings(
        None, gateway_id="gw-bye", data_dir=str(tmp_path / "gw"), central_broker={"port": central_broker.port}
    )
    runtime = build_runtime(settings)
    central = runtime.central
    central.start()
    try:
        assert central.wait_connected(10)
        runtime._say_offline()
        connects = central.stats.connects
        central.force_reconnect()  # what the uplink's stuck check does, from its own thread
        assert wait_until(lambda: central.stats.connects > connects and central.connected.is_set(), 20)
        wait_until(lambda: False, 0.3)  # let a birth (if any) reach the broker
    finally:
        central.stop()
        runtime.outbox.close()
    assert _retained(central_broker, protocol.state_topic("gw-bye"))["state"] == "offline"
