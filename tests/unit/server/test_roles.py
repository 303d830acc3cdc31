"""`anxin-server run --role all|ingest|api`: what each process runs (built, not started)."""

from __future__ import annotations

from pathlib import Path

from server.runtime import build_runtime, ingest_filters
from server.settings import ServerSettings


def settings(tmp_path: Path, role: str, group: str | None = "anxin") -> ServerSettings:
    return ServerSettings(
        role=role,
        database_url=f"sqlite:///{tmp_path}/r.db",
        embedded_broker=False,
        mqtt_shared_group=group,
        secret_key="roles-test-secret-16",
    )


def test_ingest_processes_share_the_uplink_and_all_hear_presence(tmp_path: Path) -> None:
    rt = build_runtime(settings(tmp_path, "ingest"))
    assert rt.link.subscriptions[:3] == [
        ("$share/anxin/anxin/v1/gw/+/alarm", 1),
        ("$share/anxin/anxin/v1/gw/+/up", 1),
        ("anxin/v1/gw/+/state", 1),
    ]
    assert rt.probe is not None and rt.link.subscriptions[3:] == [(rt.probe.topic, 0)], "its own intake probe"
    assert rt.desk is not None
    assert ingest_filters(None) == [("anxin/v1/gw/+/alarm", 1), ("anxin/v1/gw/+/up", 1), ("anxin/v1/gw/+/state", 1)]


def test_api_processes_neither_ingest_nor_escalate(tmp_path: Path) -> None:
    rt = build_runtime(settings(tmp_path, "api"))
    assert rt.link.subscriptions == [] and rt.desk is None and rt.services.notifier is None and rt.probe is None
