"""The stream's subjects back into the MQTT topics Ingest knows; replicas never more than the nodes."""

from __future__ import annotations

import pytest

from server.settings import ServerSettings
from server.stream_setup import consumer_name, mqtt_topic, partition_subject, replicas


def test_subjects_become_mqtt_topics() -> None:
    assert mqtt_topic("anxin.up.7.gw-r001.up") == (7, "anxin/v1/gw/gw-r001/up")
    assert mqtt_topic("anxin.up.15.gw-r001.state") == (15, "anxin/v1/gw/gw-r001/state")
    for bad in ("anxin.up.x.gw.up", "anxin.up.1.gw.cmd", "anxin.up.1.gw", "other.up.1.gw.up", "anxin.up.1..up"):
        assert mqtt_topic(bad) is None


def test_names() -> None:
    assert consumer_name(3) == "ingest-p3" and partition_subject(3) == "anxin.up.3.>"
    assert replicas(3, 1) == 1 and replicas(3, 5) == 3 and replicas(0, 3) == 1


def test_nats_uplink_settings_are_checked() -> None:
    ok = ServerSettings(uplink="nats", nats_urls=["nats://10.0.0.1:4222"], embedded_broker=False)
    assert ok.nats_partitions == 16 and ok.nats_replicas == 3
    with pytest.raises(ValueError, match="ANXIN_NATS_URLS"):
        ServerSettings(uplink="nats", embedded_broker=False)
    with pytest.raises(ValueError, match="embedded broker"):
        ServerSettings(uplink="nats", nats_urls=["nats://10.0.0.1:4222"])
    with pytest.raises(ValueError, match="nats://"):
        ServerSettings(uplink="nats", nats_urls=["10.0.0.1:4222"], embedded_broker=False)
