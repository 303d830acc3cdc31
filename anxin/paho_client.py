"""The paho client as every Anxin link configures it: MQTT 3.1.1, small packets sent at once."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from functools import partial
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

READ_SIZE = 65536
READ_BURST = 64  # packets read from memory per wake-up of paho's loop, at most


def make_client(client_id: str, clean_session: bool = True) -> paho.Client:
    """A paho 2 client speaking MQTT 3.1.1 (the embedded broker knows nothing newer), without Nagle."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=paho.MQTTv311,
    )
    client.on_socket_open = no_delay
    create = getattr(client, "_create_socket", None)
    if create is not None:  # paho's own socket factory (pinned with paho's version range in pyproject.toml)
        client._create_socket = lambda: ReadBuffered(create())  # type: ignore[method-assign]
        client.loop_read = partial(read_buffered, client, client.loop_read)  # type: ignore[method-assign]
    return client


def read_buffered(client: paho.Client, read: Callable[[int], MQTTErrorCode], max_packets: int = 1) -> Any:
    """paho's loop_read, repeated while packets wait in memory (up to READ_BURST): paho's loop otherwise
    calls select() again for every packet."""
    rc = read(max_packets)
    for _ in range(READ_BURST):
        sock = client.socket()
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or not isinstance(sock, ReadBuffered) or not sock.pending():
            break
        rc = read(max_packets)
    return rc


class ReadBuffered:
    """A connected socket read in large chunks: paho reads each packet with three or more recv() calls (the
    command byte, the length bytes one by one, the rest), a system call each — about a third of the home
    link's thread in the gateway burst (issue 24). What one recv() brings is handed out from memory, and
    `pending()` tells paho's loop there is more (it then reads without waiting in select(), as it does for
    bytes an SSL socket holds). Everything else goes to the socket itself (`raw`)."""

    __slots__ = ("_buf", "_pos", "raw")

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self._buf = b""
        self._pos = 0

    def recv(self, size: int) -> bytes:
        if self._pos >= len(self._buf):
            data: bytes = self.raw.recv(max(size, READ_SIZE))  # BlockingIOError, SSLWantReadError: as they are
            if len(data) <= size:
                return data  # b"" is the end of the connection
            self._buf, self._pos = data, 0
        out = self._buf[self._pos : self._pos + size]
        self._pos += len(out)
        return out

    def pending(self) -> int:
        inner = getattr(self.raw, "pending", None)
        return len(self._buf) - self._pos + (inner() if inner is not None else 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def raw_socket(sock: object) -> object:
    """The socket under a ReadBuffered one (or the object itself)."""
    return sock.raw if isinstance(sock, ReadBuffered) else sock


def no_delay(_client: paho.Client, _userdata: object, sock: object) -> None:
    """Send small MQTT packets at once (TCP_NODELAY; paho leaves Nagle's algorithm on).

    With Nagle, a PUBACK followed by a PUBLISH on the same socket — the server acknowledging a
    gateway's batch, then publishing its ack — waits for the broker's delayed TCP ACK: 40 ms for
    every uplink ack, measured in docs/performance.md (connection scale).
    """
    sock = raw_socket(sock)
    if not isinstance(sock, socket.socket):  # not a plain TCP socket (a websocket wrapper): nothing to tune
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
