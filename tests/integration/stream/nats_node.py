"""One node of firmware_sim/nats_cluster.py (made from `nats-config`'s own files) as the stream tests use it."""

from __future__ import annotations

from dataclasses import dataclass

from anxin.mqtt import BrokerAddress
from firmware_sim.nats_cluster import NatsCluster
from server.nats_config import SERVER_MQTT_USER, SERVER_NATS_USER

__all__ = ["SERVER_MQTT_USER", "SERVER_NATS_USER", "NatsNode"]


@dataclass
class NatsNode:
    """Node 0 of a cluster (of one node, or three); gateways log in with their own passwords."""

    cluster: NatsCluster
    gateway_passwords: dict[str, str]

    @property
    def url(self) -> str:
        """The server's NATS URL (node 0)."""
        return self.cluster.nats_urls()[0]

    @property
    def password(self) -> str:
        """The server's NATS password."""
        return self.cluster.server_nats_password

    @property
    def mqtt_port(self) -> int:
        """Node 0's MQTT listener."""
        return self.cluster.layout.nodes[0].mqtt_port

    def mqtt_address(self, user: str) -> BrokerAddress:
        """Node 0's MQTT listener as the server (SERVER_MQTT_USER) or a gateway logs in."""
        if user == SERVER_MQTT_USER:
            return self.cluster.server_mqtt(0)
        return self.cluster.mqtt_address(0, user, self.gateway_passwords[user])
