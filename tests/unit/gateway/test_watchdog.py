"""The systemd watchdog: petted over a real unix datagram socket only while the gateway is healthy."""

from __future__ import annotations

import socket
from pathlib import Path

import yaml

from gateway.config import load_settings
from gateway.watchdog import SystemdNotifier, Watchdog

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


class FakeLink:
    def __init__(self) -> None:
        self.checks = 0

    def supervise(self) -> bool:
        self.checks += 1
        return False


def notify_socket(tmp_path: Path) -> tuple[socket.socket, str]:
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2)
    return sock, path


def test_pets_when_healthy_and_withholds_when_a_thread_hangs(tmp_path):
    sock, path = notify_socket(tmp_path)
    now = [100.0]
    beats = {"worker": 99.0, "uplink": 99.0}
    link = FakeLink()
    dog = Watchdog(
        SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "30000000"}),
        [link],
        {k: (lambda k=k: beats[k]) for k in beats},
        stale_after_s=30,
        monotonic=lambda: now[0],
    )
    assert dog.notifier.watchdog_s == 30
    assert dog.check()
    assert sock.recv(100) == b"WATCHDOG=1"
    now[0] = 140.0
    beats["worker"] = 139.0
    assert not dog.check(), "the uplink thread has been silent for 41 s"
    assert dog.unhealthy == ["uplink"]
    sock.settimeout(0.2)
    try:
        sock.recv(100)
        raise AssertionError("the watchdog was petted while a thread hung")
    except TimeoutError:
        pass
    assert link.checks == 2
    sock.close()


def test_outside_systemd_is_a_no_op():
    assert SystemdNotifier({}).notify("READY=1") is False


def test_deploy_unit_restarts_always_with_watchdog():
    unit = (DEPLOY / "anxin-gateway.service").read_text()
    lines = {
        ln.split("=", 1)[0]: ln.split("=", 1)[1] for ln in unit.splitlines() if "=" in ln and not ln.startswith("#")
    }
    assert lines["Type"] == "notify" and lines["Restart"] == "always" and int(lines["WatchdogSec"]) >= 10
    assert "anxin-gateway run --config" in lines["ExecStart"]


def test_example_gateway_config_is_valid(tmp_path):
    settings = load_settings(DEPLOY / "gateway.example.yaml")
    assert settings.sms.enabled and settings.sms.after_s == 30
    assert settings.outbox.max_mb > 0
    assert yaml.safe_load((DEPLOY / "gateway.example.yaml").read_text())["gateway_id"] == settings.gateway_id


def test_readiness_says_ready_once_subscribed_and_degraded_when_the_broker_never_comes(tmp_path):
    import threading

    from gateway.watchdog import Readiness

    sock, path = notify_socket(tmp_path)
    subscribed = threading.Event()
    ready = Readiness(SystemdNotifier({"NOTIFY_SOCKET": path}), subscribed, "the home's broker x:1883")
    subscribed.set()
    assert ready.wait() and ready.ready.is_set()
    assert sock.recv(200) == b"READY=1\nSTATUS=ready: subscribed to the home's broker x:1883"
    now = [0.0]

    def clock() -> float:
        now[0] += 30.0
        return now[0]

    never = Readiness(
        SystemdNotifier({"NOTIFY_SOCKET": path}),
        threading.Event(),
        "the home's broker x:1883",
        give_up_after_s=60.0,
        monotonic=clock,
    )
    assert not never.wait() and not never.ready.is_set()
    # systemd is told anyway, so its start time-out does not restart a gateway whose serial devices work
    assert sock.recv(200) == b"READY=1\nSTATUS=degraded: the home's broker x:1883 unreachable"
    sock.close()
