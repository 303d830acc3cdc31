"""The embedded MQTT broker (amqtt) for `anxin-server run` and the demo; production uses Mosquitto."""

from __future__ import annotations

import asyncio
import logging
import threading
import warnings
from typing import Any

from server.broker_access import BrokerAccess

log = logging.getLogger(__name__)

# amqtt and its state machine log every session change at INFO; keep only what matters.
for _name in ("amqtt", "transitions"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


def broker_config(host: str, port: int, access: BrokerAccess | None) -> dict[str, Any]:
    """amqtt configuration: one TCP listener; passwords, bound client ids and the topic ACL of
    server/broker_access.py, or — only for a simulated home's local bus — anonymous access."""
    plugins: dict[str, Any] = (
        {"server.broker_plugin.AccessPlugin": {"access": access}}
        if access is not None
        else {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}}
    )
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}", "max_connections": 0}},
        "plugins": plugins,
    }


class EmbeddedBroker:
    """amqtt running on its own event loop thread."""

    def __init__(self, host: str, port: int, access: BrokerAccess | None) -> None:
        """`access` None: anyone may connect and publish anything (a simulated home's loopback bus only)."""
        self.host, self.port, self.access = host, port, access
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

                from server.broker_plugin import CheckedBroker

                config = broker_config(self.host, self.port, self.access)
                if self.access is None:
                    self._broker = Broker(config, loop=self._loop)
                else:
                    self._broker = CheckedBroker(config, loop=self._loop)
                    self._broker.access, self._broker.access_cache = self.access, {}
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
