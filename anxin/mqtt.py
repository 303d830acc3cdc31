"""paho-mqtt wrapped once, at the edge: callbacks only convert and hand on, never interpret."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import ConfigDict
from pydantic.dataclasses import dataclass as settings_dataclass

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]
AckedMessageHandler = Callable[[str, bytes, "Delivery"], None]
ConnectionHandler = Callable[[bool], None]


class MqttError(Exception):
    """Base of errors raised by the MQTT edge."""


class NotConnected(MqttError):
    """A publish was attempted while the link is down."""


@settings_dataclass(frozen=True, slots=True, config=ConfigDict(extra="forbid"))
class BrokerAddress:
    """Where a broker listens and how to log in to it: the one type both settings objects use.

    Validated (pydantic), so a field of the gateway's YAML or an ANXIN_* variable is checked as
    it is read and a misspelt key is an error; still built positionally like a plain dataclass.
    """

    host: str = "127.0.0.1"
    port: int = 1883
    username: str | None = None
    password: str | None = None
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    keepalive: int = 30


@dataclass(frozen=True, slots=True)
class Will:
    """A last will: published by the broker when the link dies uncleanly."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


@dataclass(frozen=True, slots=True)
class Delivery:
    """How a message arrived on a manually acknowledged link, and how to acknowledge it."""

    mid: int
    redelivered: bool  # the broker's DUP flag: it may have reached us before (e.g. before a crash)
    ack: Callable[[], None]

    def key(self, topic: str, payload: bytes) -> str:
        """Identifies a redelivery of the same message: the packet id is kept, the content is the same."""
        digest = hashlib.sha1(topic.encode() + b"\0" + payload).hexdigest()[:16]
        return f"{self.mid}:{digest}"


@dataclass(slots=True)
class LinkStats:
    """Counters a link keeps for health pages and tests."""

    connects: int = 0
    disconnects: int = 0
    received: int = 0
    handler_errors: int = 0
    published: int = 0
    loop_restarts: int = 0
    forced_reconnects: int = 0
    dropped_unsent: int = 0


def make_client(client_id: str, clean_session: bool = True) -> paho.Client:
    """A paho 2 client speaking MQTT 3.1.1 (the embedded broker knows nothing newer), without Nagle."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=paho.MQTTv311,
    )
    client.on_socket_open = no_delay
    return client


def no_delay(_client: paho.Client, _userdata: object, sock: object) -> None:
    """Send small MQTT packets at once (TCP_NODELAY; paho leaves Nagle's algorithm on).

    With Nagle, a PUBACK followed by a PUBLISH on the same socket — the server acknowledging a
    gateway's batch, then publishing its ack — waits for the broker's delayed TCP ACK: 40 ms for
    every uplink ack, measured in docs/performance.md (connection scale).
    """
    if not isinstance(sock, socket.socket):  # not a plain TCP socket (a websocket wrapper): nothing to tune
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


@dataclass
class MqttLink:
    """One supervised connection: reconnects by itself, resubscribes, never dies of a handler."""

    client: paho.Client
    address: BrokerAddress
    on_message: MessageHandler
    subscriptions: list[tuple[str, int]] = field(default_factory=list)
    will: Will | None = None
    on_connection: ConnectionHandler | None = None
    birth: Will | None = None
    # For links whose sender has its own end-to-end acknowledgements (the gateway uplink): paho's
    # resend of stale QoS 1 messages after a reconnect would only put old batches ahead of new alarms.
    drop_unsent_on_disconnect: bool = False
    # With a handler here, PUBACK goes to the broker only when the handler calls its `ack` (after the
    # message is safe on disk); with a persistent session the broker redelivers anything not acked.
    on_message_acked: AckedMessageHandler | None = None
    stats: LinkStats = field(default_factory=LinkStats)
    connected: threading.Event = field(default_factory=threading.Event)
    subscribed: threading.Event = field(default_factory=threading.Event)
    _pending_subs: set[int] = field(default_factory=set)

    def start(self) -> None:
        """Connect in the background; paho's loop thread reconnects with backoff."""
        c = self.client
        c.on_connect = self._handle_connect
        c.on_disconnect = self._handle_disconnect
        c.on_message = self._handle_message
        c.on_subscribe = self._handle_subscribe
        c.reconnect_delay_set(min_delay=1, max_delay=8)
        c.max_inflight_messages_set(1000)
        c.max_queued_messages_set(0)
        c.manual_ack_set(self.on_message_acked is not None)
        if self.address.username:
            c.username_pw_set(self.address.username, self.address.password)
        if self.address.tls_ca:
            try:
                c.tls_set(
                    ca_certs=self.address.tls_ca,
                    certfile=self.address.tls_cert,
                    keyfile=self.address.tls_key,
                    cert_reqs=ssl.CERT_REQUIRED,
                )
            except (OSError, ssl.SSLError, ValueError) as exc:  # a missing or unreadable file: say which
                files = ", ".join(f for f in (self.address.tls_ca, self.address.tls_cert, self.address.tls_key) if f)
                raise MqttError(
                    f"cannot load the TLS files for {self.address.host}:{self.address.port} "
                    f"({files}): {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}"
                ) from exc
        if self.will:
            c.will_set(self.will.topic, self.will.payload, self.will.qos, self.will.retain)
        c.connect_async(self.address.host, self.address.port, keepalive=self.address.keepalive)
        c.loop_start()

    def stop(self) -> None:
        """Disconnect cleanly (no last will) and stop the loop thread."""
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()
            self.connected.clear()

    def loop_alive(self) -> bool:
        """Whether paho's network thread is still running."""
        thread = getattr(self.client, "_thread", None)  # paho keeps no public handle on its loop thread
        return thread is not None and thread.is_alive()

    def supervise(self) -> bool:
        """Restart a dead network loop; returns True when it had to."""
        if self.loop_alive():
            return False
        self.stats.loop_restarts += 1
        log.error("MQTT loop for %s:%s died; restarting it", self.address.host, self.address.port)
        self.client.loop_stop()
        self.client.loop_start()
        return True

    def force_reconnect(self) -> None:
        """Drop a connection that looks alive but carries nothing; the loop connects again."""
        self.stats.forced_reconnects += 1
        sock = self.client.socket()
        if not isinstance(sock, socket.socket):  # not connected (or a websocket wrapper, which we never use)
            return
        try:
            # Shutting the socket down makes paho's own loop see a lost connection and reconnect.
            sock.shutdown(socket.SHUT_RDWR)
        except OSError as exc:
            log.warning("could not drop the connection to %s:%s: %s", self.address.host, self.address.port, exc)

    def _ack(self, client: paho.Client, mid: int, qos: int) -> None:
        if qos > 0:
            client.ack(mid, qos)

    def _drop_unsent(self) -> None:
        # paho has no public call to forget queued messages; these two attributes are the queue.
        lock = getattr(self.client, "_out_message_mutex", None)
        messages = getattr(self.client, "_out_messages", None)
        if lock is None or messages is None:
            return
        with lock:
            self.stats.dropped_unsent += len(messages)
            messages.clear()
            self.client._inflight_messages = 0

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Block until connected and every subscription is acknowledged by the broker, or time out."""
        return self.connected.wait(timeout) and self.subscribed.wait(timeout)

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> paho.MQTTMessageInfo:
        """Queue a publish on the live connection; raises NotConnected when down."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc == paho.MQTT_ERR_NO_CONN:
            # paho keeps a QoS 1 message it could not send and sends it after the reconnect. For the
            # uplink that is a stale batch built before the alarms that came meanwhile, ahead of them
            # (found by tests/faults: a publish 5 ms after the disconnect was dropped by nobody).
            if self.drop_unsent_on_disconnect:
                self._drop_unsent()
            raise NotConnected(f"not connected to {self.address.host}:{self.address.port}")
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise MqttError(f"publish to {topic} failed: {paho.error_string(info.rc)}")
        self.stats.published += 1
        return info

    # paho callbacks: they run on paho's loop thread, so each is guarded.

    def _handle_connect(self, client: paho.Client, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        if reason.is_failure:
            log.warning("MQTT %s:%s refused the connection: %s", self.address.host, self.address.port, reason)
            return
        self.stats.connects += 1
        self.subscribed.clear()
        self._pending_subs = set()
        for topic, qos in self.subscriptions:
            _rc, mid = client.subscribe(topic, qos)
            if mid is not None:
                self._pending_subs.add(mid)
        if not self._pending_subs:
            self.subscribed.set()
        if self.birth:
            client.publish(self.birth.topic, self.birth.payload, self.birth.qos, self.birth.retain)
        self.connected.set()
        self._notify_connection(True)

    def _handle_subscribe(self, _c: paho.Client, _u: object, mid: int, _codes: object, _p: object) -> None:
        # SUBACK: only now will the broker route messages to us, so only now are we ready.
        self._pending_subs.discard(mid)
        if not self._pending_subs:
            self.subscribed.set()

    def _handle_disconnect(self, _c: paho.Client, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        self.stats.disconnects += 1
        self.connected.clear()
        self.subscribed.clear()
        if self.drop_unsent_on_disconnect:
            self._drop_unsent()
        log.info("MQTT %s:%s disconnected: %s", self.address.host, self.address.port, reason)
        self._notify_connection(False)

    def _notify_connection(self, up: bool) -> None:
        if self.on_connection is None:
            return
        try:
            self.on_connection(up)
        except Exception:  # supervisor boundary: a handler must never kill paho's loop
            self.stats.handler_errors += 1
            log.exception("connection handler failed")

    def _handle_message(self, _c: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        self.stats.received += 1
        try:
            if self.on_message_acked is not None:
                mid, qos, client = msg.mid, msg.qos, self.client
                self.on_message_acked(
                    msg.topic, bytes(msg.payload), Delivery(mid, bool(msg.dup), lambda: self._ack(client, mid, qos))
                )
                return
            self.on_message(msg.topic, bytes(msg.payload))  # bytes() of bytes is the same object: no copy
        except Exception:  # supervisor boundary: a handler must never kill paho's loop
            self.stats.handler_errors += 1
            log.exception("message handler failed for topic %s", msg.topic)
