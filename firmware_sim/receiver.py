"""A caregiver's phone, simulated: an HTTP endpoint that apprise's json:// posts reach."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LINK = re.compile(r"https?://\S+/c/(\S+)")


@dataclass(frozen=True, slots=True)
class Received:
    """One notification as it arrived."""

    path: str
    at: float
    doc: dict[str, Any]

    @property
    def text(self) -> str:
        """Title and body together."""
        return f"{self.doc.get('title', '')}\n{self.doc.get('message', '')}"

    @property
    def token(self) -> str | None:
        """The one-tap acknowledgement token in the message, if any."""
        m = LINK.search(self.text)
        return m.group(1) if m else None


@dataclass
class NotificationReceiver:
    """Collects JSON posts; `on_receive` lets the demo print them or act on them."""

    host: str = "127.0.0.1"
    port: int = 0
    on_receive: Callable[[Received], None] | None = None
    received: list[Received] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        """Listen on a thread; `port` is filled in when it was 0."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    doc = json.loads(raw)
                except ValueError:
                    doc = {"raw": raw.decode("utf-8", errors="replace")}
                self.send_response(200)
                self.end_headers()
                receiver._add(Received(self.path, time.time(), doc))

            def log_message(self, *_args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True).start()

    def _add(self, item: Received) -> None:
        with self._cond:
            self.received.append(item)
            self._cond.notify_all()
        if self.on_receive:
            self.on_receive(item)

    def url(self, path: str = "/notify") -> str:
        """The apprise URL that posts here."""
        return f"json://{self.host}:{self.port}{path}"

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """Wait until at least `count` notifications arrived; returns what arrived."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.received) < count and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            return list(self.received)

    def stop(self) -> None:
        """Stop listening."""
        if self._server:
            self._server.shutdown()
            self._server.server_close()
