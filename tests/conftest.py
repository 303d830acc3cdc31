"""Shared fixtures: real Mosquitto brokers on free ports, a notification receiver, servers, PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmware_sim.receiver import NotificationReceiver
from tests.mosquitto import MOSQUITTO, Mosquitto

POSTGRES_ADMIN_URL = os.environ.get("ANXIN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture
def mosquitto_factory(tmp_path: Path) -> Iterator[Callable[..., Mosquitto]]:
    """Start as many real brokers as a test needs; all are stopped afterwards."""
    if not Path(MOSQUITTO).exists():
        pytest.fail("mosquitto is not installed: run scripts/test.sh, or apt-get install mosquitto")
    started: list[Mosquitto] = []

    def make(extra_conf: str = "") -> Mosquitto:
        broker = Mosquitto(tmp_path, extra_conf).start()
        started.append(broker)
        return broker

    yield make
    for b in started:
        b.stop()


@pytest.fixture
def home_broker(mosquitto_factory: Callable[..., Mosquitto]) -> Mosquitto:
    """The home's local Mosquitto (what runs on the Pi)."""
    return mosquitto_factory()


@pytest.fixture
def central_broker(mosquitto_factory: Callable[..., Mosquitto]) -> Mosquitto:
    """The central Mosquitto the gateways uplink to."""
    return mosquitto_factory()


@pytest.fixture
def receiver() -> Iterator[NotificationReceiver]:
    """A caregiver's phone: a real HTTP endpoint that apprise's json:// posts to."""
    r = NotificationReceiver()
    r.start()
    yield r
    r.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on 127.0.0.1:5432, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    name = f"anxin_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}. Run scripts/test.sh (it starts "
            "one), or point ANXIN_TEST_POSTGRES at a server where that role may create databases."
        )
    admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()
