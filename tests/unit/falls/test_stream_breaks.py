"""An impact is never thrown away because the wearable's stream paused or stopped right after it."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_sim import traces
from gateway.config import GatewaySettings
from gateway.devices.router import Router
from gateway.falls.monitor import FallMonitor
from gateway.items import Tick
from gateway.model import AccelChunk, DeviceEvent, EventKind
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.rules.defaults import build_engine
from gateway.service import Gateway

T0 = 1_764_000_000.0
R = 50.0


def chunks(xyz: np.ndarray, t0: float, per: int = 25) -> list[AccelChunk]:
    return [
        AccelChunk("band", t0 + i / R, R, tuple(map(tuple, xyz[i : i + per].tolist()))) for i in range(0, len(xyz), per)
    ]


def impact_index(xyz: np.ndarray) -> int:
    return int(np.argmax(np.linalg.norm(xyz, axis=1)))


def feed(monitor: FallMonitor, parts: list[tuple[np.ndarray, float]], now: float = T0) -> list[DeviceEvent]:
    return [e for xyz, t0 in parts for c in chunks(xyz, t0) for e in monitor.feed(c, now)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_radio_gap_right_after_the_impact_still_yields_a_suspected_fall(seed: int) -> None:
    xyz = traces.fall(R, seed)
    cut, gap = impact_index(xyz) + int(1.0 * R), int(1.5 * R)
    events = feed(FallMonitor(), [(xyz[:cut], T0), (xyz[cut + gap :], T0 + (cut + gap) / R)])
    assert [e.kind for e in events] == [EventKind.MAYBE_FALL]
    assert abs(events[0].ts.timestamp() - (T0 + impact_index(xyz) / R)) < 0.1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_wearable_that_stops_streaming_after_the_impact_is_judged_on_what_it_sent(seed: int) -> None:
    xyz = traces.fall(R, seed)
    monitor = FallMonitor()
    assert feed(monitor, [(xyz[: impact_index(xyz) + int(2.5 * R)], T0)], now=T0) == []
    assert monitor.expire(T0 + 1) == [], "not silent long enough yet"
    [event] = monitor.expire(T0 + 3)
    assert event.kind == EventKind.FALL and event.detail["source"] == "detector"
    assert monitor.expire(T0 + 10) == [], "judged once"


def test_a_gap_after_everyday_movement_raises_nothing() -> None:
    xyz = traces.walk(R, 1, 20)
    cut = len(xyz) // 2
    events = feed(FallMonitor(), [(xyz[:cut], T0), (xyz[cut + 100 :], T0 + (cut + 100) / R)])
    assert events == []


def test_the_gateway_raises_a_fall_when_the_wearable_goes_quiet_after_the_impact(tmp_path) -> None:
    settings = GatewaySettings(gateway_id="gw-falls", data_dir=tmp_path)
    now = [T0]
    published: list[bytes] = []
    outbox = Outbox(connect(settings.outbox_path))
    gw = Gateway(
        settings,
        Router(settings),
        build_engine(),
        outbox,
        publish_local=lambda t, p: published.append(p),
        wake_uplink=lambda: None,
        clock=lambda: now[0],
        monotonic=lambda: now[0],
    )
    xyz = traces.fall(R, 4)
    for c in chunks(xyz[: impact_index(xyz) + int(2.5 * R)], T0):
        gw.intake.handle_message(c)
    for _ in range(40):  # the cancel window passes with nothing more from the wearable
        now[0] += 1
        gw.process(Tick())
    assert any(b"fall_prompt" in p for p in published)
    assert [(e.body["type"], e.body["severity"]) for e in outbox.pending(100) if e.lane == "alarm"] == [
        ("fall", "emergency")
    ]
    outbox.close()
