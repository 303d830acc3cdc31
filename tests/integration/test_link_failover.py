"""An MQTT link with fallbacks moves to the next live node when its broker dies or cannot be reached,
says so (the drop is reported, the node it is on is in its stats), and goes round to the first again;
a gateway shows the node it is on, or that its uplink is down, in `systemctl status`."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from anxin.mqtt import BrokerAddress, MqttLink, make_client
from anxin.ports import free_port
from firmware_sim.installation import gateway_settings
from gateway.runtime import build_runtime
from tests.integration.harness import wait_until

pytestmark = pytest.mark.integration


def node(broker) -> str:
    return f"127.0.0.1:{broker.port}"


def cluster(*brokers) -> BrokerAddress:
    first, *rest = brokers
    return replace(first.address, fallbacks=tuple(node(b) for b in rest))


def test_a_dead_first_node_is_passed_over(mosquitto_factory):
    live = mosquitto_factory()
    dead = BrokerAddress("127.0.0.1", free_port(), fallbacks=(node(live),))  # nothing listens there
    link = MqttLink(make_client("fo-first"), dead, lambda t, p: None)
    link.start()
    try:
        assert link.wait_connected(20), "the link never reached the live node"
        assert link.stats.node == node(live) and link.stats.failovers >= 1
    finally:
        link.stop()


def test_a_killed_node_is_reported_down_then_the_link_carries_on_the_next(mosquitto_factory):
    a, b = mosquitto_factory(), mosquitto_factory()
    got: list[bytes] = []
    ups: list[bool] = []
    link = MqttLink(make_client("fo-sub"), cluster(a, b), lambda t, p: got.append(p), [("fo/#", 1)])
    link.on_connection = ups.append
    link.start()
    try:
        assert link.wait_connected(10) and link.stats.node == node(a)
        assert a.proc is not None
        a.proc.kill()  # SIGKILL: no goodbye on the socket beyond what the kernel sends
        a.proc.wait(5)
        assert wait_until(lambda: link.stats.node == node(b) and link.subscribed.is_set(), 20), link.stats
        assert ups[:3] == [True, False, True], "the drop must be reported, not hidden by the switch"
        # The subscriptions were made again on the new node: a message published there arrives.
        pub = MqttLink(make_client("fo-pub"), b.address, lambda t, p: None)
        pub.start()
        try:
            assert pub.wait_connected(10)
            pub.publish("fo/x", b"via b", 1)
            assert wait_until(lambda: got == [b"via b"], 10)
        finally:
            pub.stop()
    finally:
        link.stop()


def test_round_robin_comes_back_to_the_first_node(mosquitto_factory):
    a, b = mosquitto_factory(), mosquitto_factory()
    link = MqttLink(make_client("fo-rr"), cluster(a, b), lambda t, p: None)
    link.start()
    try:
        assert link.wait_connected(10)
        a.stop()
        assert wait_until(lambda: link.connected.is_set() and link.stats.node == node(b), 20), link.stats
        a.start()  # the same port again
        b.stop()
        assert wait_until(lambda: link.connected.is_set() and link.stats.node == node(a), 20), link.stats
        assert link.stats.failovers == 2 and link.stats.connects == 3
    finally:
        link.stop()


def test_stopping_the_link_does_not_move_it(mosquitto_factory):
    a, b = mosquitto_factory(), mosquitto_factory()
    link = MqttLink(make_client("fo-stop"), cluster(a, b), lambda t, p: None)
    link.start()
    assert link.wait_connected(10)
    link.stop()
    assert link.stats.failovers == 0 and link.stats.node == node(a)
    assert not link.loop_alive()


def test_the_gateway_tells_systemd_which_central_node_it_is_on(tmp_path, mosquitto_factory, monkeypatch):
    notify_path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # what systemd listens on for Type=notify
    sock.bind(notify_path)
    sock.settimeout(30)
    monkeypatch.setenv("NOTIFY_SOCKET", notify_path)
    home, a, b = mosquitto_factory(), mosquitto_factory(), mosquitto_factory()
    settings = gateway_settings("gw-fo", "R001", home.address, a.address, tmp_path / "gw")
    runtime = build_runtime(settings.model_copy(update={"central_broker": cluster(a, b)}))
    runtime.start()

    def status_until(text: str) -> list[str]:
        seen: list[str] = []
        while not any(text in s for s in seen):
            seen.append(sock.recv(500).decode())
        return seen

    try:
        assert runtime.readiness is not None and runtime.readiness.ready.wait(10)
        status_until(f"central node {node(a)} connected")
        assert a.proc is not None
        a.proc.kill()
        seen = status_until(f"central node {node(b)} connected")
        down = [s for s in seen if "central link down" in s]
        assert down, f"the outage was not shown: {seen}"
        assert down[0].startswith("STATUS=中央服务器未连接"), "zh-CN first"
        assert f"retrying (nodes {node(a)}, {node(b)})" in down[0] and "not ready" not in down[0]
        assert runtime.central.stats.node == node(b)
    finally:
        runtime.stop()
        sock.close()


def test_a_node_that_refuses_the_login_is_passed_over(mosquitto_factory):
    # Mosquitto started as root reads its password file as the `mosquitto` user: a directory it can read.
    secrets_dir = Path(tempfile.mkdtemp(prefix="anxin-fo-"))
    try:
        secrets_dir.chmod(0o755)
        passwd = secrets_dir / "passwd"
        subprocess.run(["mosquitto_passwd", "-c", "-b", str(passwd), "gw-fo", "another-password"], check=True)
        passwd.chmod(0o644)
        refusing = mosquitto_factory(f"allow_anonymous false\npassword_file {passwd}")
        live = mosquitto_factory()
        address = replace(cluster(refusing, live), username="gw-fo", password="the-right-password")
        link = MqttLink(make_client("fo-login"), address, lambda t, p: None)
        link.start()
        try:
            assert link.wait_connected(20), link.stats
            assert link.stats.node == node(live) and link.stats.failovers >= 1
        finally:
            link.stop()
    finally:
        shutil.rmtree(secrets_dir, ignore_errors=True)


def test_a_hung_node_is_left_once_the_keepalive_finds_it_silent(mosquitto_factory):
    a, b = mosquitto_factory(), mosquitto_factory()
    address = replace(cluster(a, b), keepalive=2)  # a hung node keeps the socket open: only silence tells
    link = MqttLink(make_client("fo-hung"), address, lambda t, p: None)
    link.start()
    try:
        assert link.wait_connected(10)
        assert a.proc is not None
        a.proc.send_signal(signal.SIGSTOP)
        assert wait_until(lambda: link.connected.is_set() and link.stats.node == node(b), 30), link.stats
        assert link.stats.failovers == 1, "paho reports the loss twice (keepalive, then ping): one move"
    finally:
        link.stop()
        if a.proc is not None:
            a.proc.send_signal(signal.SIGCONT)
