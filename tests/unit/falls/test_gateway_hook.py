"""The gateway sends a wearable's acceleration to its detector, and a detected fall into the rules and uplink."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from firmware_sim import traces
from gateway.config import GatewaySettings
from gateway.devices.router import Router
from gateway.model import AccelChunk, DeviceEvent, EventKind
from gateway.outbox import Outbox
from gateway.outbox_db import connect
from gateway.outlet import message_body
from gateway.rules.engine import Engine
from gateway.service import Gateway

T0 = 1_764_000_000.0


@dataclass
class Seen:
    """A rule that only remembers what reached the rules engine."""

    name: str = "seen"
    items: list[Any] = field(default_factory=list)

    def initial(self) -> None:
        return None

    def evaluate(self, state: Any, item: Any, now: datetime) -> tuple[Any, list, list]:
        self.items.append(item)
        return state, [], []


def chunks(device: str, xyz: np.ndarray, rate: float = 50.0, per: int = 50) -> list[AccelChunk]:
    return [
        AccelChunk(device, T0 + i / rate, rate, tuple(map(tuple, xyz[i : i + per].tolist())))
        for i in range(0, len(xyz), per)
    ]


def make_gateway(tmp_path) -> tuple[Gateway, Seen, Outbox]:
    settings = GatewaySettings(gateway_id="gw-falls", data_dir=tmp_path)
    seen = Seen()
    outbox = Outbox(connect(settings.outbox_path))
    gw = Gateway(
        settings,
        Router(settings),
        Engine((seen,)),
        outbox,
        publish_local=lambda t, p: None,
        wake_uplink=lambda: None,
        clock=lambda: T0 + 20,
    )
    return gw, seen, outbox


def test_a_fall_in_the_stream_reaches_the_rules_and_the_uplink_once_and_no_samples_do(tmp_path):
    gw, seen, outbox = make_gateway(tmp_path)
    for c in chunks("wrist-1", traces.fall(50.0, 4)):
        gw.intake.handle_message(c)
    falls = [i for i in seen.items if isinstance(i, DeviceEvent)]
    assert [(f.device, f.kind, f.detail["source"]) for f in falls] == [("wrist-1", EventKind.FALL, "detector")]
    assert abs(falls[0].ts.timestamp() - (T0 + 5.4)) < 0.2  # stamped with the impact, not the verdict
    assert not any(isinstance(i, AccelChunk) for i in seen.items)
    entries = outbox.pending(100)
    assert [(e.lane, e.body["kind"], e.body["detail"]["source"]) for e in entries] == [("event", "fall", "detector")]
    assert outbox.count("reading") == 0


def test_each_wearable_has_its_own_detector(tmp_path):
    gw, seen, _ = make_gateway(tmp_path)
    fall, walk = chunks("wrist-1", traces.fall(50.0, 1)), chunks("wrist-2", traces.walk(50.0, 1, 14))
    for a, b in zip(fall, walk, strict=False):  # interleaved, as two wearables would arrive
        gw.intake.handle_message(a)
        gw.intake.handle_message(b)
    assert [i.device for i in seen.items if isinstance(i, DeviceEvent)] == ["wrist-1"]


def test_bad_acceleration_is_counted_and_logged_and_the_stream_carries_on(tmp_path, caplog):
    gw, seen, _ = make_gateway(tmp_path)
    good = chunks("wrist-1", traces.fall(50.0, 2))
    with caplog.at_level(logging.WARNING):
        gw.intake.handle_message(AccelChunk("wrist-1", T0, 50.0, ((1.0, float("nan"), 0.0),)))
        gw.intake.handle_message(AccelChunk("wrist-1", T0, 0.0, ((1.0, 0.0, 0.0),)))
        gw.intake.handle_message(AccelChunk("wrist-1", T0, 50.0, ((1.0, 0.0), (0.0, 1.0), (1.0, 1.0))))
        gw.intake.handle_message(AccelChunk("wrist-1", T0, 50.0, ((1.0, 0.0, 0.0), (0.0, 1.0))))  # type: ignore[arg-type]
        for c in good:
            gw.intake.handle_message(c)
    assert gw.counters["accel_errors"] == 4
    assert "rejected acceleration from wrist-1" in caplog.text
    assert [i.kind for i in seen.items if isinstance(i, DeviceEvent)] == [EventKind.FALL]


def test_message_body_of_a_chunk_is_a_compact_summary_not_the_samples():
    chunk = AccelChunk("wrist-1", T0, 50.0, ((0.0, 1.0, 0.0), (0.0, 2.0, 0.0)))
    lane, body = message_body(chunk)
    assert lane == "reading" and body["device"] == "wrist-1"
    assert body["values"] == {"samples": 2.0, "rate_hz": 50.0, "min_g": 1.0, "max_g": 2.0}
    assert len(json.dumps(body)) < 300


@pytest.mark.parametrize("rate", [25.0, 100.0, 200.0])
def test_wearables_at_other_rates_are_resampled_and_judged_alike(tmp_path, rate):
    gw, seen, _ = make_gateway(tmp_path)
    for c in chunks("wrist-1", traces.fall(rate, 5), rate, int(rate)):
        gw.intake.handle_message(c)
    for c in chunks("wrist-2", traces.sit_hard(rate, 5), rate, int(rate)):
        gw.intake.handle_message(c)
    assert [(i.device, i.kind) for i in seen.items if isinstance(i, DeviceEvent)] == [("wrist-1", EventKind.FALL)]


@pytest.mark.parametrize("rate", [0.1, 1e-5, 4.9])
def test_a_rate_too_low_to_hold_a_fall_is_refused_not_resampled(tmp_path, rate):
    gw, seen, _ = make_gateway(tmp_path)
    gw.intake.handle_message(AccelChunk("wrist-1", T0, rate, ((0.0, 0.0, 1.0),) * 5000))
    assert gw.counters["accel_errors"] == 1
    assert gw.intake.falls.counters["accel_samples"] == 0, "refused before any resampling"
    for c in chunks("wrist-1", traces.fall(50.0, 4)):  # the wearable at its proper rate is judged as ever
        gw.intake.handle_message(c)
    assert [i.kind for i in seen.items if isinstance(i, DeviceEvent)] == [EventKind.FALL]
