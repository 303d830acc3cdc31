"""The demo's month of services: providers, requests worked to done, ratings, so the dashboard shows something real."""

from __future__ import annotations

import pytest

from firmware_sim import care_demo, services_demo
from firmware_sim.installation import demo_provision
from server.assist import activities, figures, notices, ratings, store
from server.care.plans import Intervals
from server.provision import apply
from tests.integration.care.conftest import T0

pytestmark = pytest.mark.integration


def test_demo_month_of_requests_fills_every_service_figure(services) -> None:
    with services.sessions() as s, s.begin():
        apply(s, demo_provision(3, []))
        care_demo.seed(s, T0)
        assert services_demo.seed(s, T0) == 30
    with services.sessions() as s:
        every = store.listing(s, T0, {})
        by_status = {st: sum(1 for r in every if r.status == st) for st in ("new", "assigned", "done", "cancelled")}
        assert by_status["done"] >= 20 and by_status["cancelled"] >= 1 and by_status["new"] >= 1
        assert {r.channel for r in every} >= {"staff", "family", "helper"}
        assert store.overdue_queue(s, T0, {}), "the demo's queue shows an overdue job"
        assert ratings.listing(s, open_follow_ups=True), "a low rating waits for the supervisor"
        view = figures.overview(s, T0, {}, Intervals())
        assert len(view.chart("requests_by_month").rows) >= 2 and len(view.chart("sla").rows) >= 6
        assert all(row[1] > 0 for row in view.chart("satisfaction").rows)
        listed = {a.title: a for a in activities.listing(s)}
        assert len(listed) == 5 and listed["书法班（每周二）"].signed_up >= 1 and listed["银发宣讲团"].signed_up >= 2
        assert sum(a.attended for a in listed.values()) >= 1 and len(notices.listing(s)) == 2
