"""amqtt glue for `BrokerAccess`: an auth + topic plugin, and a broker that checks before it touches a session.

amqtt 0.12 deletes the session of a CONNECT's client id (clean session) or takes it over *before*
asking the auth plugins: one refused connect with the server's client id used to drop the
server's subscriptions for good. `CheckedBroker` refuses such a CONNECT first.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.errors import AMQTTError, MQTTError
from amqtt.mqtt.connack import NOT_AUTHORIZED, ConnackPacket
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session
from amqtt.utils import gen_client_id

from server.broker_access import PUBLISH, RECEIVE, SUBSCRIBE, BrokerAccess, may

ACTIONS = {Action.PUBLISH: PUBLISH, Action.SUBSCRIBE: SUBSCRIBE, Action.RECEIVE: RECEIVE}


CACHE_S = 30.0  # a success is remembered this long: reconnect storms stay cheap, a revocation bites soon


async def allowed(
    access: BrokerAccess,
    session: Session,
    cache: dict[str, tuple[str, float]],
    monotonic: Callable[[], float] = time.monotonic,
) -> bool:
    """Check credentials off the event loop (a database look-up and a hash); remembers successes briefly."""
    key = f"{session.username}\0{session.client_id}"
    proof = hashlib.sha256(f"{key}\0{session.password}".encode()).hexdigest()
    remembered = cache.get(key)
    if remembered is not None and remembered[0] == proof and monotonic() < remembered[1]:
        return True
    ok = await asyncio.to_thread(access.authenticate, session.username, session.password, session.client_id or "")
    if ok:
        cache[key] = (proof, monotonic() + CACHE_S)
    else:
        cache.pop(key, None)
    return ok


class AccessPlugin(BaseAuthPlugin, BaseTopicPlugin):  # type: ignore[misc]  # amqtt has no types: its bases are Any
    """Password, client-id binding and topic ACL of server/broker_access.py."""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.access: BrokerAccess = self.config.access
        self.cache: dict[str, tuple[str, float]] = {}

    async def authenticate(self, *, session: Session) -> bool | None:
        """Right password for the account, and a client id the account may use."""
        return await allowed(self.access, session, self.cache)

    async def topic_filtering(
        self, *, session: Session | None = None, topic: str | None = None, action: Action | None = None
    ) -> bool | None:
        """The account's topics only."""
        if session is None or topic is None or action is None:
            return False
        return may(session.username, ACTIONS[action], topic)

    @dataclass
    class Config:
        """The access rules (passed in by EmbeddedBroker)."""

        access: Any = None


class CheckedBroker(Broker):  # type: ignore[misc]  # amqtt has no types: Broker is Any
    """amqtt's Broker, refusing a CONNECT that fails authentication before any session is touched."""

    access: BrokerAccess
    access_cache: dict[str, tuple[str, float]]

    async def _initialize_client_session(
        self, reader: Any, writer: Any, remote_address: str, remote_port: int
    ) -> tuple[BrokerProtocolHandler, Session]:
        try:
            handler, client_session = await BrokerProtocolHandler.init_from_connect(
                reader, writer, self.plugins_manager
            )
        except MQTTError:
            await writer.close()
            raise
        if not await allowed(self.access, client_session, self.access_cache):
            await ConnackPacket.build(0, NOT_AUTHORIZED).to_stream(writer)
            await writer.close()
            raise AMQTTError(f"connection refused for {client_session.username!r} from {remote_address}")
        # From here on, what amqtt's own _initialize_client_session does.
        if client_session.clean_session:
            if client_session.client_id:
                await self._delete_session(client_session.client_id)
            else:
                client_session.client_id = gen_client_id()
            client_session.parent = 0
        elif client_session.client_id in self._sessions:
            existing, _ = self._sessions[client_session.client_id]
            for name in ("will_flag", "will_message", "will_topic", "will_qos", "keep_alive", "username", "password"):
                setattr(existing, name, getattr(client_session, name))
            client_session = existing
            client_session.parent = 1
        else:
            client_session.parent = 0
        delay = self.config.get("timeout-disconnect-delay", 0)
        if client_session.keep_alive > 0 and isinstance(delay, int):
            client_session.keep_alive += delay
        return handler, client_session

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Session
    ) -> None:
        # amqtt calls this at every connect with *every* filter any client subscribed to: a gateway
        # got the server's `anxin/v1/gw/+/state` retained messages. Only the session's own filters.
        topic_filter = subscription[0]
        if any(s.client_id == session.client_id for s, _qos in self._subscriptions.get(topic_filter, [])):
            await super()._publish_retained_messages_for_subscription(subscription, session)
