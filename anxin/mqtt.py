"""paho-mqtt wrapped once, at the edge: callbacks only convert and hand on, never interpret."""

from __future__ import annotations

import hashlib
import logging
import socket
import ssl
import struct
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial

import paho.mqtt.client as paho
from paho.mqtt.reasoncodes import ReasonCode

# Re-exported: both have always been imported from here.
from anxin.broker_address import BrokerAddress as BrokerAddress
from anxin.broker_address import Endpoint, format_endpoint
from anxin.paho_client import make_client as make_client
from anxin.paho_client import raw_socket

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, bytes], None]
AckedMessageHandler = Callable[[str, bytes, "Delivery"], None]
ConnectionHandler = Callable[[bool], None]
AckMany = Callable[[Sequence[int]], None]
_PUBACK = struct.Struct("!BBH")  # MQTT 3.1.1 PUBACK: type 4 in the high nibble, remaining length 2, packet id


class MqttError(Exception):
    """Base of errors raised by the MQTT edge."""


class NotConnected(MqttError):
    """A publish was attempted while the link is down."""


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
    ack: Callable[[], object]
    # The link's acknowledgement of several QoS 1 messages at once (ack_all); None: ack() one by one.
    ack_many: AckMany | None = None

    def key(self, topic: str, payload: bytes) -> str:
        """Identifies a redelivery of the same message: the packet id is kept, the content is the same."""
        digest = hashlib.sha1(topic.encode() + b"\0" + payload).hexdigest()[:16]
        return f"{self.mid}:{digest}"


def ack_all(deliveries: Iterable[Delivery]) -> None:
    """Acknowledge messages in the order given; QoS 1 messages of one link go as one write (MqttLink.ack_many)."""
    run: list[int] = []
    sender: AckMany | None = None
    for d in deliveries:
        if d.ack_many is None or d.ack_many != sender:
            if run and sender is not None:
                sender(run)
            run, sender = [], d.ack_many
        if d.ack_many is None:
            d.ack()
        else:
            run.append(d.mid)
    if run and sender is not None:
        sender(run)


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
    failovers: int = 0  # moves to another node of the cluster after a failed or dropped connection
    node: str = ""  # the node (host:port) the link is connected to, or trying next


@dataclass
class MqttLink:
    """One supervised connection: reconnects by itself, resubscribes, never dies of a handler.

    With `address.fallbacks`, a failed or dropped connection moves the link to the next node, round
    robin, with paho's backoff between attempts; the drop is still reported (`on_connection(False)`).
    """

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
    _endpoints: tuple[Endpoint, ...] = ()
    _index: int = 0
    _stopping: bool = False
    _moved: bool = False  # since the last attempt: paho may report one loss twice (keepalive, then ping)
    _batched: AckMany | None = None  # self.ack_many, bound once: ack_all groups deliveries by it

    @property
    def node(self) -> str:
        """The node (host:port) the link is on, or tries next."""
        return format_endpoint(self._endpoints[self._index]) if self._endpoints else self.address.describe()

    def start(self) -> None:
        """Connect in the background; paho's loop thread reconnects with backoff."""
        c = self.client
        self._batched = self.ack_many
        self._endpoints, self._index, self._stopping = self.address.endpoints(), 0, False
        self.stats.node = self.node
        c.on_connect = self._handle_connect
        c.on_connect_fail = self._handle_connect_fail
        c.on_pre_connect = self._handle_pre_connect
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
                    f"cannot load the TLS files for {self.address.describe()} "
                    f"({files}): {exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}"
                ) from exc
        if self.will:
            c.will_set(self.will.topic, self.will.payload, self.will.qos, self.will.retain)
        host, port = self._endpoints[0]
        c.connect_async(host, port, keepalive=self.address.keepalive)
        c.loop_start()

    def stop(self) -> None:
        """Disconnect cleanly (no last will) and stop the loop thread."""
        self._stopping = True  # a disconnect from now on is ours: no move to another node
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()
            self.connected.clear()

    def farewell(self, message: Will, timeout_s: float) -> bool:
        """A clean stop's own last will (the broker sends none on a clean disconnect): published, waited
        for at most `timeout_s`; from now on a reconnect publishes no birth, which would stand over it.
        Returns whether the broker took it (False: the link was down, and the broker sent the will)."""
        self._stopping = True
        if not self.connected.is_set():
            return False
        info = self.publish(message.topic, message.payload, message.qos, message.retain)
        info.wait_for_publish(timeout_s)
        return info.is_published()

    def loop_alive(self) -> bool:
        """Whether paho's network thread is still running."""
        thread = getattr(self.client, "_thread", None)  # paho keeps no public handle on its loop thread
        return thread is not None and thread.is_alive()

    def supervise(self) -> bool:
        """Restart a dead network loop; returns True when it had to."""
        if self.loop_alive():
            return False
        self.stats.loop_restarts += 1
        log.error("MQTT loop for %s died; restarting it", self.node)
        self.client.loop_stop()
        self.client.loop_start()
        return True

    def force_reconnect(self) -> None:
        """Drop a connection that looks alive but carries nothing; the loop connects again."""
        self.stats.forced_reconnects += 1
        sock = raw_socket(self.client.socket())
        if not isinstance(sock, socket.socket):  # not connected (or a websocket wrapper, which we never use)
            return
        try:
            # Shutting the socket down makes paho's own loop see a lost connection and reconnect.
            sock.shutdown(socket.SHUT_RDWR)
        except OSError as exc:
            log.warning("could not drop the connection to %s: %s", self.node, exc)

    def ack_many(self, mids: Sequence[int]) -> None:
        """PUBACK several QoS 1 messages with one write and one wake-up of paho's thread.

        paho's ack() queues one packet per message and wakes its loop (a system call) for each, and the
        loop sends each packet with its own send(): ~14 µs per reading in the gateway burst (issue 24).
        The PUBACKs are joined into one packet for paho's output queue (`_packet_queue`, the call its
        ack() makes; pinned with paho's version range in pyproject.toml and tested against Mosquitto).
        Without it, one ack() each.
        """
        if not mids:
            return
        queue = getattr(self.client, "_packet_queue", None)
        if queue is None:
            for mid in mids:
                self.client.ack(mid, 1)
            return
        packet = b"".join([_PUBACK.pack(0x40, 2, mid) for mid in mids])
        queue(0x40, packet, 0, 0)

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
            raise NotConnected(f"not connected to {self.node}")
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise MqttError(f"publish to {topic} failed: {paho.error_string(info.rc)}")
        self.stats.published += 1
        return info

    # paho callbacks: they run on paho's loop thread, so each is guarded.

    def _handle_connect(self, client: paho.Client, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        if reason.is_failure:
            log.warning("MQTT %s refused the connection: %s", self.node, reason)
            return  # paho drops the connection next: _handle_disconnect moves on
        self.stats.connects += 1
        self.subscribed.clear()
        self._pending_subs = set()
        for topic, qos in self.subscriptions:
            _rc, mid = client.subscribe(topic, qos)
            if mid is not None:
                self._pending_subs.add(mid)
        if not self._pending_subs:
            self.subscribed.set()
        if self.birth and not self._stopping:  # after a farewell, a birth would stand over it
            client.publish(self.birth.topic, self.birth.payload, self.birth.qos, self.birth.retain)
        log.info("MQTT connected to %s", self.node)
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
        log.info("MQTT %s disconnected: %s", self.node, reason)
        self._notify_connection(False)
        self._move_on(f"lost the connection ({reason})")

    def _handle_connect_fail(self, _c: paho.Client, _u: object) -> None:  # refused, unreachable, no such host
        log.info("MQTT %s unreachable", self.node)
        self._move_on("could not connect")

    def _handle_pre_connect(self, _c: paho.Client, _u: object) -> None:
        self._moved = False  # a new attempt: its failure may move the link on again

    def _move_on(self, why: str) -> None:
        """Point paho at the next node, so its next attempt (after the backoff) goes there."""
        if len(self._endpoints) < 2 or self._stopping or self._moved:
            return
        before, index = self.node, (self._index + 1) % len(self._endpoints)
        host, port = self._endpoints[index]
        try:  # on paho's thread, between attempts: connect_async is paho's public way to change the target
            self.client.connect_async(host, port, keepalive=self.address.keepalive)
        except (ValueError, RuntimeError) as exc:  # never kill paho's loop: it keeps retrying where it was
            log.error("MQTT cannot move from %s to %s:%s: %s", before, host, port, exc)
            return
        self._moved, self._index = True, index
        self.stats.failovers += 1
        self.stats.node = self.node
        log.warning("MQTT %s %s; trying %s next", before, why, self.node)

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
                mid, qos = msg.mid, msg.qos
                # client.ack sends nothing for QoS 0 (partial: a C call, no Python frame of ours).
                ack = partial(self.client.ack, mid, qos)
                self.on_message_acked(
                    msg.topic,
                    bytes(msg.payload),
                    Delivery(mid, bool(msg.dup), ack, self._batched if qos == 1 else None),
                )
                return
            self.on_message(msg.topic, bytes(msg.payload))  # bytes() of bytes is the same object: no copy
        except Exception:  # supervisor boundary: a handler must never kill paho's loop
            self.stats.handler_errors += 1
            log.exception("message handler failed for topic %s", msg.topic)
