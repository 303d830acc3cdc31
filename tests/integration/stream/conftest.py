"""Fixtures of the stream tests: a real nats-server (JetStream, MQTT, mappings), servers consuming it."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from anxin.ports import free_port
from firmware_sim.nats_cluster import NatsCluster
from server.runtime import ServerRuntime, build_runtime
from server.settings import ServerSettings
from tests.integration.stream.nats_node import SERVER_MQTT_USER, SERVER_NATS_USER, NatsNode

GATEWAYS = [f"gw-r{i:03d}" for i in range(1, 9)]


@pytest.fixture
def nats_node(nats_cluster_factory: Callable[..., NatsCluster]) -> NatsNode:
    """A one-node cluster from the generated configuration; MQTT users for gw-r001…gw-r008."""
    passwords = {gw: secrets.token_urlsafe(16) for gw in GATEWAYS}
    return NatsNode(nats_cluster_factory(nodes=1, gateways=passwords), passwords)


@pytest.fixture
def stream_server(tmp_path: Path, nats_node: NatsNode, postgres_url: str) -> Iterator[Callable[..., ServerRuntime]]:
    """Start ingest servers (role all) with uplink=nats on the node and one PostgreSQL database."""
    started: list[ServerRuntime] = []

    def make(start: bool = True, **overrides: object) -> ServerRuntime:
        settings = ServerSettings(
            **{
                "port": free_port(),
                "embedded_broker": False,
                "mqtt": nats_node.mqtt_address(SERVER_MQTT_USER),
                "database_url": postgres_url,
                "secret_key": "test-secret-of-16-chars",
                "uplink": "nats",
                "nats_urls": [nats_node.url],
                "nats_user": SERVER_NATS_USER,
                "nats_password": nats_node.password,
                **overrides,
            }
        )
        runtime = build_runtime(settings)
        started.append(runtime)
        if start:
            runtime.start()
        return runtime

    yield make
    for r in started:
        if r.link.loop_alive():
            r.stop()
