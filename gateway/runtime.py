"""Wires one home's gateway together: outbox, local bus, uplink, worker."""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass, field

from anxin import protocol
from anxin.broker_address import format_endpoint
from anxin.loop import Loop
from anxin.mqtt import MqttError, MqttLink, Will, make_client
from gateway.commands import mode_topic
from gateway.config import GatewaySettings
from gateway.devices.router import Router, subscriptions
from gateway.fallback.modem import open_serial_modem
from gateway.fallback.sms import SmsFallback
from gateway.home.bridge import SpeakerService, build_speaker
from gateway.home.health import health_doc, health_topic
from gateway.home.panel import Panel, PanelError
from gateway.home.speaker import speaker_topic
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.rules.defaults import build_engine
from gateway.service import Gateway
from gateway.supervision import LOCAL_BROKER
from gateway.transports.serial_devices import SerialDevice, build_serial_devices
from gateway.uplink import Uplink
from gateway.watchdog import Readiness, SystemdNotifier, Watchdog

log = logging.getLogger(__name__)


# The server raises a "gateway offline" alarm after minutes of silence; a quiet home must still speak.
HEARTBEAT_S = 60.0
STOP_NOTICE_S = 2.0  # at most this long for the broker to take the "offline" of a clean stop


def central_status(up: bool, node: str, nodes: str, home_ready: bool) -> str:
    """The uplink as `systemctl status anxin-gateway` shows it: the central node it is on, or that it is down."""
    central = (
        f"中央节点 {node} 已连接 · central node {node} connected"
        if up
        else f"中央服务器未连接，正在重试（节点 {nodes}）· central link down, retrying (nodes {nodes})"
    )
    return "STATUS=" + (central if home_ready else f"本地总线未就绪 · home broker not ready; {central}")


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
    watchdog: Watchdog | None = None
    sms: SmsFallback | None = None
    speaker: SpeakerService | None = None
    panel: Panel | None = None
    readiness: Readiness | None = None
    heartbeat: Loop = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.heartbeat = Loop("heartbeat", self._beat, interval_s=HEARTBEAT_S)

    def _beat(self) -> None:
        gw = self.settings.gateway_id
        self.show_status()  # again now and then: another part (Readiness) may have written its own
        if self.central.connected.is_set():
            try:
                self.central.publish(protocol.state_topic(gw), _state(gw, "online", self.boot_id), 1, retain=True)
            except MqttError as exc:  # the link reconnects by itself; the next beat tries again
                log.debug("heartbeat not sent: %s", exc)

    def _say_offline(self) -> None:
        """A clean stop sends no last will, so the gateway says "offline" itself (retained, as the will would):
        a Pi shut down, or a service stopped by mistake, that does not come back alarms staff after the
        offline grace instead of after the server's silence limit (ten minutes)."""
        gw = self.settings.gateway_id
        offline = Will(protocol.state_topic(gw), _state(gw, "offline", self.boot_id))
        try:
            # Not connected: the broker published the will when the link dropped; a reconnect from now on
            # publishes no birth (it would leave "online" standing after the clean disconnect).
            if not self.central.farewell(offline, STOP_NOTICE_S) and self.central.connected.is_set():
                log.warning('the broker did not confirm the "offline" of this stop within %.0f s', STOP_NOTICE_S)
        except (MqttError, RuntimeError, ValueError) as exc:  # the server's silence check is the fallback
            log.warning("could not tell the server this gateway is stopping: %s", exc)

    def show_status(self) -> None:
        """Tell systemd (STATUS=) which central node the gateway is on, or that the uplink is down."""
        if self.watchdog is None:
            return
        up, link = self.central.connected.is_set(), self.central
        ready = self.readiness is None or self.readiness.ready.is_set()
        nodes = ", ".join(format_endpoint(e) for e in link.address.endpoints())
        self.watchdog.notifier.notify(central_status(up, link.node, nodes, ready))

    def on_central(self, up: bool) -> None:
        """The central link went up or down (on paho's thread): the uplink resends, systemd is told."""
        self.uplink.on_connection(up)
        self.show_status()

    def start(self) -> None:
        """Recover the outbox, connect both brokers, start the worker, the sender and the guards."""
        gap = self.outbox.recover(time.time(), time.monotonic())
        if gap:
            log.warning("unclean stop detected: sequence numbers %s reported to the server as a gap", gap["ranges"])
        self.gateway.start()
        self.uplink.start()
        self.local.start()
        self.central.start()
        self.heartbeat.start()
        for device in self.serial:
            device.transport.start()
        if self.sms:
            self.sms.start()
        if self.watchdog:
            self.watchdog.start()
        if self.speaker:
            self.speaker.start()
        if self.panel:
            try:
                self.panel.start()
            except PanelError as exc:  # the home still runs; staff are told the button does not work
                log.critical("%s", exc)
                self.gateway.on_local_message(
                    health_topic(self.settings.gateway_id, "panel"), health_doc({"gpio_failed": str(exc)})
                )
            else:
                self.gateway.on_local_message(health_topic(self.settings.gateway_id, "panel"), health_doc({}))
        if self.readiness:
            self.readiness.start()
        log.info(
            "gateway %s started: local %s, central %s",
            self.settings.gateway_id,
            self.local.address.describe(),
            self.central.address.describe(),  # with fallbacks: "a:1883 (then b:1883, c:1883)"
        )

    def stop(self) -> None:
        """Stop everything; the outbox keeps what is not yet acknowledged."""
        if self.readiness:
            self.readiness.stop()
        if self.watchdog:
            self.watchdog.stop()
        if self.panel:
            self.panel.stop()
        if self.speaker:
            self.speaker.stop()
        if self.sms:
            self.sms.stop()
        # The worker stops before the links it watches: a broker or serial port closed because we are
        # stopping is a routine restart, not an outage to page anyone about (bridge_offline).
        self.gateway.stop()
        self.heartbeat.stop()
        # The sender stops first: its stuck-link nudge (force_reconnect) must not drop the "offline" unsent.
        self.uplink.stop()
        self._say_offline()
        for device in self.serial:
            device.transport.stop()
        self.central.stop()
        self.local.stop()
        self.outbox.close()


def build_runtime(settings: GatewaySettings) -> GatewayRuntime:
    """Create (but do not start) a gateway from its settings."""
    gw = settings.gateway_id
    boot_id = uuid.uuid4().hex
    outbox = Outbox(connect(settings.outbox_path), max_bytes=int(settings.outbox.max_mb * 1_000_000))
    # A persistent local session: the Pi's Mosquitto keeps device messages while the gateway restarts.
    local = MqttLink(
        make_client(f"anxin-gw-{gw}-local", clean_session=False),
        settings.local_broker,
        lambda t, p: None,
        [*subscriptions(), (mode_topic(gw), 1), (speaker_topic(gw), 1)],
    )
    central = MqttLink(
        make_client(f"anxin-gw-{gw}", clean_session=False),
        settings.central_broker,
        lambda t, p: None,
        [(protocol.ack_topic(gw), 1), (protocol.cmd_topic(gw), 1), (protocol.server_state_topic(), 1)],
        will=Will(protocol.state_topic(gw), _state(gw, "offline", boot_id)),
        birth=Will(protocol.state_topic(gw), _state(gw, "online", boot_id)),
        drop_unsent_on_disconnect=True,
    )
    uplink = Uplink(
        gw,
        boot_id,
        outbox,
        lambda t, p, q: central.publish(t, p, q),
        settings.uplink,
        on_command=lambda c: gateway.on_command(c),
        on_stuck=lambda: central.force_reconnect(),
    )
    outbox.in_flight = uplink.in_flight  # the disk cap passes over what may already be at the server
    engine = build_engine(settings.rules, settings.timezone, settings.resident)
    gateway = Gateway(
        settings,
        Router(settings),
        engine,
        outbox,
        publish_local=lambda t, p: local.publish(t, p, 1),
        wake_uplink=uplink.wake,
    )
    local.on_message_acked = gateway.on_local_message
    local.on_connection = lambda up: gateway.on_bridge(LOCAL_BROKER, up)
    serial_devices = build_serial_devices(settings, gateway.on_device_messages, gateway.on_bridge)
    central.on_message = uplink.on_message
    sms = None
    cfg = settings.sms
    if cfg.port and cfg.caregivers:
        port = cfg.port
        sms = SmsFallback(
            cfg,
            outbox,
            lambda: open_serial_modem(port, cfg.baudrate, cfg.command_timeout_s, cfg.send_timeout_s),
            language=settings.language,
            timezone=settings.timezone,
        )
    elif cfg.port or cfg.caregivers:
        log.warning("SMS fallback is off: it needs both sms.port and sms.caregivers")
    notifier = SystemdNotifier()
    watchdog = Watchdog(
        notifier, [local, central], {"worker": lambda: gateway.loop.alive_at, "uplink": lambda: uplink.alive_at}
    )
    speaker = build_speaker(settings) if settings.speaker and not settings.speaker.separate else None
    if settings.speaker is None:
        log.warning(
            "no `speaker:` in the configuration: the home's prompts go to the bus only, nobody hears "
            "them unless another speaker bridge listens (docs/home.md)"
        )
    panel = None
    if settings.gpio:
        panel = Panel(settings.gpio, gateway.on_device_messages, online=lambda: central.connected.is_set())
        gateway.outlet.on_led = panel.show
    readiness = Readiness(notifier, local.subscribed, f"the home's broker {local.address.host}:{local.address.port}")
    runtime = GatewayRuntime(
        settings,
        gateway,
        outbox,
        uplink,
        local,
        central,
        serial_devices,
        boot_id=boot_id,
        watchdog=watchdog,
        sms=sms,
        speaker=speaker,
        panel=panel,
        readiness=readiness,
    )
    central.on_connection = runtime.on_central
    return runtime
