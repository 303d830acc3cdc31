"""A TCP relay between a home and the central broker that can be cut, like the home's internet line."""

from __future__ import annotations

import contextlib
import selectors
import socket
import threading

from anxin.mqtt import BrokerAddress
from anxin.ports import free_port


class LineCut:
    """Relays 127.0.0.1:<port> to a target; `cut()` drops every connection and refuses new ones."""

    def __init__(self, target: BrokerAddress) -> None:
        self.target = target
        self.port = free_port()
        self.up = True
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None

    @property
    def address(self) -> BrokerAddress:
        """Where the home should connect instead of the broker."""
        return BrokerAddress("127.0.0.1", self.port)

    def start(self) -> LineCut:
        """Listen and relay on a thread."""
        self._listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._run, name="linecut", daemon=True).start()
        return self

    def _run(self) -> None:
        assert self._listener is not None
        sel = selectors.DefaultSelector()
        sel.register(self._listener, selectors.EVENT_READ, None)
        while not self._stop.is_set():
            for key, _ev in sel.select(timeout=0.1):
                if key.data is None:
                    self._accept(sel)
                    continue
                src, dst = key.fileobj, key.data
                try:
                    data = src.recv(65536)  # type: ignore[union-attr]
                    if data:
                        dst.sendall(data)
                        continue
                except OSError:
                    pass
                self._drop(sel, src, dst)  # type: ignore[arg-type]
            if not self.up:
                with self._lock:
                    pairs, self._pairs = self._pairs, []
                for a, b in pairs:
                    self._drop(sel, a, b)
        sel.close()

    def _accept(self, sel: selectors.BaseSelector) -> None:
        assert self._listener is not None
        conn, _addr = self._listener.accept()
        if not self.up:
            conn.close()  # the line is down: the home sees a refused / reset connection
            return
        try:
            upstream = socket.create_connection((self.target.host, self.target.port), timeout=5)
        except OSError:
            conn.close()
            return
        sel.register(conn, selectors.EVENT_READ, upstream)
        sel.register(upstream, selectors.EVENT_READ, conn)
        with self._lock:
            self._pairs.append((conn, upstream))

    def _drop(self, sel: selectors.BaseSelector, a: socket.socket, b: socket.socket) -> None:
        for s in (a, b):
            with contextlib.suppress(KeyError, ValueError):
                sel.unregister(s)
            s.close()

    def cut(self) -> None:
        """The line goes down."""
        self.up = False

    def restore(self) -> None:
        """The line comes back."""
        self.up = True

    def stop(self) -> None:
        """Stop relaying."""
        self._stop.set()
        if self._listener:
            self._listener.close()
