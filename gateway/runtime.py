"""Wires one home's gateway together: outbox, local bus, uplink, worker."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field

from anxin import protocol
from anxin.mqtt import MqttError, MqttLink, Will, make_client
from gateway.config import GatewaySettings
from gateway.devices.router import Router, subscriptions
from gateway.outbox import Outbox, connect
from gateway.rules.defaults import build_engine
from gateway.service import Gateway, mode_topic
from gateway.supervision import LOCAL_BROKER
from gateway.transports.serial_devices import SerialDevice, build_serial_devices
from gateway.uplink import Uplink

log = logging.getLogger(__name__)


# The server raises a "gateway offline" alarm after minutes of silence; a quiet home must still speak.
HEARTBEAT_S = 60.0


def _state(gateway_id: str, state: str, boot_id: str) -> bytes:
    return json.dumps({"v": 1, "gw": gateway_id, "state": state, "boot": boot_id, "ts": time.time()}).encode()


@dataclass
class GatewayRuntime:
    """Everything a running gateway holds; start() does the I/O, stop() undoes it."""

    settings: GatewaySettings
    gateway: Gateway
    outbox: Outbox
    uplink: Uplink
    local: MqttLink
    central: MqttLink
    serial: list[SerialDevice] = field(default_factory=list)
    boot_id: str = ""
    _stop_heartbeat: threading.Event = field(default_factory=threading.Event, repr=False)

    def _heartbeat(self) -> None:
        gw = self.settings.gateway_id
        while not self._stop_heartbeat.wait(HEARTBEAT_S):
            if self.central.connected.is_set():
                try:
                    self.central.publish(protocol.state_topic(gw), _state(gw, "online", self.boot_id), 1, retain=True)
                except MqttError as exc:  # the link reconnects by itself; the next beat tries again
                    log.debug("heartbeat not sent: %s", exc)

    def start(self) -> None:
        """Connect both brokers and start the worker and the sender."""
        self.gateway.start()
        self.uplink.start()
        self.local.start()
        self.central.start()
        threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True).start()
        for device in self.serial:
            device.transport.start()
        log.info("gateway %s started: local %s:%s, central %s:%s", self.settings.gateway_id,
                 self.local.address.host, self.local.address.port,
                 self.central.address.host, self.central.address.port)

    def stop(self) -> None:
        """Stop everything; the outbox keeps what is not yet acknowledged."""
        self._stop_heartbeat.set()
        for device in self.serial:
            device.transport.stop()
        self.central.stop()
        self.local.stop()
        self.uplink.stop()
        self.gateway.stop()
        self.outbox.close()


def build_runtime(settings: GatewaySettings) -> GatewayRuntime:
    """Create (but do not start) a gateway from its settings."""
    gw = settings.gateway_id
    boot_id = uuid.uuid4().hex
    outbox = Outbox(connect(settings.outbox_path))
    local = MqttLink(make_client(f"anxin-gw-{gw}-local"), settings.local_broker.address(), lambda t, p: None,
                     subscriptions() + [(mode_topic(gw), 1)])
    central = MqttLink(
        make_client(f"anxin-gw-{gw}", clean_session=False),
        settings.central_broker.address(),
        lambda t, p: None,
        [(protocol.ack_topic(gw), 1), (protocol.cmd_topic(gw), 1)],
        will=Will(protocol.state_topic(gw), _state(gw, "offline", boot_id)),
        birth=Will(protocol.state_topic(gw), _state(gw, "online", boot_id)),
    )
    uplink = Uplink(gw, boot_id, outbox, lambda t, p, q: central.publish(t, p, q), settings.uplink,
                    on_command=lambda c: gateway.on_command(c))
    engine = build_engine(settings.rules, settings.timezone, settings.resident)
    gateway = Gateway(settings, Router(settings), engine, outbox,
                      publish_local=lambda t, p: local.publish(t, p, 1), wake_uplink=uplink.wake)
    local.on_message = gateway.on_local_message
    local.on_connection = lambda up: gateway.on_bridge(LOCAL_BROKER, up)
    serial_devices = build_serial_devices(settings, gateway.on_device_messages, gateway.on_bridge)
    central.on_message = uplink.on_message
    central.on_connection = uplink.on_connection
    return GatewayRuntime(settings, gateway, outbox, uplink, local, central, serial_devices, boot_id=boot_id)
