"""The embedded MQTT broker (amqtt) for `anxin-server run` and the demo; production uses Mosquitto."""

from __future__ import annotations

import asyncio
import logging
import threading
import warnings
from typing import Any


log = logging.getLogger(__name__)

# amqtt and its state machine log every session change at INFO; keep only what matters.
for _name in ("amqtt", "transitions"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


def broker_config(host: str, port: int) -> dict[str, Any]:
    """amqtt configuration: one TCP listener, anonymous access (loopback demo use)."""
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}", "max_connections": 0}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }


class EmbeddedBroker:
    """amqtt running on its own event loop thread."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout: float = 15.0) -> None:
        """Start listening; raises RuntimeError if it does not come up."""
        self._thread = threading.Thread(target=self._main, name="mqtt-broker", daemon=True)
        self._thread.start()
        self._ready.wait(timeout)
        if self._error is not None:
            raise RuntimeError(f"embedded MQTT broker failed on {self.host}:{self.port}: {self._error}")
        if not self._ready.is_set():
            raise RuntimeError(f"embedded MQTT broker did not start on {self.host}:{self.port}")
        log.info("embedded MQTT broker listening on %s:%s", self.host, self.port)

    def _main(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                from amqtt.broker import Broker

                self._broker = Broker(broker_config(self.host, self.port), loop=self._loop)
            self._loop.run_until_complete(self._broker.start())
        except BaseException as exc:  # reported to start() in the caller's thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        """Shut the broker down."""
        if self._loop is None or self._broker is None:
            return
        fut = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
        try:
            fut.result(timeout=10)
        except Exception as exc:  # shutting down anyway
            log.debug("broker shutdown: %s", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(timeout=10)
