"""A server with a home, a coordinator, a supervisor and two service providers, for the services pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from firmware_sim.installation import DEMO_PASSWORD
from server.assist import providers
from server.assist.schemas import ProviderIn
from server.audit import CLI
from server.auth import upsert_staff
from server.db.models import Resident
from server.db.models_care import ResidentProfile
from server.runtime import ServerRuntime
from tests.integration.harness import provision, start_server


@pytest.fixture
def server(tmp_path, central_broker, receiver) -> Iterator[ServerRuntime]:  # type: ignore[no-untyped-def]
    """The running server, provisioned; stopped afterwards."""
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    with server.services.sessions() as s, s.begin():
        upsert_staff(s, "coord", "coordinator", "协调员 周兰", DEMO_PASSWORD)
        upsert_staff(s, "super", "supervisor", "主管 孙强", DEMO_PASSWORD)
        resident = s.scalars(select(Resident).where(Resident.code == "R001")).one()
        s.add(ResidentProfile(resident_id=resident.id, district="西城区"))  # 德胜门内大街
        now = server.services.clock()
        for code, name, district in (
            ("P-EAST", "东城为老服务中心", "东城区"),
            ("P-WEST", "西城为老服务中心", "西城区"),
        ):
            providers.save(
                s,
                ProviderIn(
                    code=code,
                    name=name,
                    kind="organisation",
                    categories=["cleaning", "meals"],
                    district=district,
                    hours="每天 8:00–18:00",
                    capacity=3,
                ),
                CLI,
                now,
            )
    yield server
    server.stop()
