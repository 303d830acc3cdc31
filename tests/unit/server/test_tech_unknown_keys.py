"""The console's technical view shows, per device, what its gateway reports it did not understand."""

from __future__ import annotations

from datetime import timedelta

from server.db.models import IngestedEvent
from tests.unit.server.pages import NOW, client, services, signed_in  # noqa: F401 - fixtures

REPORT = {
    "device": "climate",
    "kind": "unknown_keys",
    "detail": {"keys": {"comfort_index": 51, "<b>dew</b>": 1}, "messages": 51},
}


def add_event(services, seq: int, body: dict, age: timedelta = timedelta(minutes=5)) -> None:
    with services.sessions() as s, s.begin():
        s.add(
            IngestedEvent(
                gateway_id="gw-r001", seq=seq, lane="event", gateway_ts=NOW - age, received_at=NOW - age, body=body
            )
        )


def test_tech_view_counts_keys_a_device_sent_that_were_not_understood(client, services):
    add_event(services, 1, {**REPORT, "detail": {"keys": {"comfort_index": 1}, "messages": 1}}, age=timedelta(hours=2))
    add_event(services, 2, REPORT)  # the newer report of the same device replaces the older one
    add_event(services, 3, {"device": "door", "kind": "motion", "detail": {}})
    add_event(services, 4, {**REPORT, "device": "old-sensor"}, age=timedelta(days=30))  # long gone
    page = signed_in(client).get("/console/tech").text
    section = page[page.index('id="h-unknown-keys"') :]
    section = section[: section.index("</section>")]
    assert '<span class="count">1</span>' in section
    assert "<strong>climate</strong> (gw-r001) · 51" in section
    assert "<code>comfort_index</code> × 51" in section
    assert "<code>&lt;b&gt;dew&lt;/b&gt;</code> × 1" in section, "text from homes is data, never layout"
    assert "old-sensor" not in section and "door" not in section
