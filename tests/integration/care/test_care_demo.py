"""The demo's three residents come with full records: profile, assessment, helpers and a month of contacts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from firmware_sim import care_demo
from firmware_sim.installation import demo_provision
from server.care import queue
from server.care.plans import Intervals
from server.db.models_care import Assessment, Contact, HelperPlan, ResidentProfile
from server.provision import apply
from tests.integration.care.conftest import T0

pytestmark = pytest.mark.integration


def test_demo_residents_have_full_records(services) -> None:
    with services.sessions() as s, s.begin():
        apply(s, demo_provision(3, []))
        assert care_demo.seed(s, T0) == ["R001", "R002", "R003"]
    with services.sessions() as s:
        grades = dict(s.execute(select(ResidentProfile.district, ResidentProfile.grade)).all())
        assert grades == {"西城区": "moderate", "东城区": "mild", "海淀区": "complete"}
        assert s.scalar(select(func.count()).select_from(Assessment)) == 3
        assert s.scalar(select(func.count()).select_from(HelperPlan)) == 5
        dates = list(s.scalars(select(Contact.at)))
        assert len(dates) == 24 and (max(dates) - min(dates)).days >= 28
        assert any(c.category == "失能" and c.residents == 3 for c in queue.coverage(s, T0, Intervals()))
