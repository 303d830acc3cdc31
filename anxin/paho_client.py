"""The paho client as every Anxin link configures it: MQTT 3.1.1, small packets sent at once."""

from __future__ import annotations

import contextlib
import socket

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion


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
