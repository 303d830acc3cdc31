"""One thread serving many paho clients through a selector (paho's external-loop callbacks).

A paced fleet (heartbeats every N s) of thousands of gateways cannot afford a thread per client: 10,000
paho loop threads on a 2-core machine put the load average past a thousand. Here one thread reads and
writes every socket of its fleet process, and reconnects clients the broker dropped.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time

import paho.mqtt.client as paho

READ, WRITE = selectors.EVENT_READ, selectors.EVENT_WRITE
Sock = socket.socket | object  # what paho hands its socket callbacks


class SocketLoop:
    """Registers each attached client's socket and calls its loop_read / loop_write / loop_misc."""

    def __init__(self, retry_s: float = 1.0) -> None:
        self.selector = selectors.DefaultSelector()
        self.clients: list[paho.Client] = []
        self.retry_s = retry_s
        self._retry_at: dict[int, float] = {}
        self._next_misc = 0.0

    def attach(self, client: paho.Client, host: str, port: int, keepalive: int) -> None:
        """Take the client over (instead of loop_start) and connect it."""
        client.on_socket_open = self._opened
        client.on_socket_close = self._closed
        client.on_socket_register_write = self._want_write
        client.on_socket_unregister_write = self._no_write
        client.connect_async(host, port, keepalive=keepalive)
        self.clients.append(client)
        self._connect(client, time.monotonic())

    def detach(self, client: paho.Client) -> None:
        """Disconnect the client and forget it."""
        if client in self.clients:
            self.clients.remove(client)
        client.disconnect()
        client.loop_write()

    def run(self, seconds: float) -> None:
        """Serve the sockets for `seconds`; once a second, keepalives and reconnects."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            for key, mask in self.selector.select(max(0.0, left)):
                client: paho.Client = key.data
                if mask & READ:
                    client.loop_read()
                if mask & WRITE:
                    client.loop_write()
            now = time.monotonic()
            if now >= self._next_misc:
                self._next_misc = now + 1.0
                self._misc(now)
            if now >= deadline:
                return

    def _misc(self, now: float) -> None:
        for client in self.clients:
            if client.is_connected():
                client.loop_misc()
            elif now >= self._retry_at.get(id(client), 0.0):
                self._connect(client, now)

    def _connect(self, client: paho.Client, now: float) -> None:
        self._retry_at[id(client)] = now + self.retry_s
        with contextlib.suppress(OSError):  # refused while the broker restarts: the next second tries again
            client.reconnect()

    def _opened(self, client: paho.Client, _u: object, sock: Sock) -> None:
        try:
            self.selector.register(sock, READ, client)  # type: ignore[arg-type]
        except KeyError:  # a closed socket's number, reused: forget the old registration
            self.selector.unregister(sock)  # type: ignore[arg-type]
            self.selector.register(sock, READ, client)  # type: ignore[arg-type]

    def _closed(self, _client: paho.Client, _u: object, sock: Sock) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.unregister(sock)  # type: ignore[arg-type]

    def _want_write(self, client: paho.Client, _u: object, sock: Sock) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.modify(sock, READ | WRITE, client)  # type: ignore[arg-type]

    def _no_write(self, client: paho.Client, _u: object, sock: Sock) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self.selector.modify(sock, READ, client)  # type: ignore[arg-type]
