"""One detector per wearable: turns `AccelChunk`s into fall `DeviceEvent`s for the rules."""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from datetime import UTC, datetime

import numpy as np

from gateway.falls.detector import Candidate, FallDetector, FallParams
from gateway.falls.errors import StreamError
from gateway.falls.resample import Resampler
from gateway.model import AccelChunk, DeviceEvent, EventKind

log = logging.getLogger(__name__)

# Below this a fall's impact is not in the samples at all, and a few samples would span minutes that the
# resampler fills at 50 Hz (0.1 Hz x 5000 samples: 14 h of grid, 189 MB): refused, not slowly computed.
MIN_RATE_HZ = 5.0


class FallMonitor:
    """Keeps a resampler and a detector per device; bounded by `max_streams` (least recently heard dropped)."""

    def __init__(self, params: FallParams | None = None, max_streams: int = 64) -> None:
        self.params = params or FallParams()
        self.max_streams = max_streams
        self._streams: OrderedDict[str, tuple[Resampler, FallDetector]] = OrderedDict()
        self._heard: dict[str, float] = {}  # device -> when its last chunk arrived (the gateway's clock)
        self.counters: Counter[str] = Counter()

    def feed(self, chunk: AccelChunk, now: float | None = None) -> list[DeviceEvent]:
        """Push one chunk (arrived at `now`); returns the FALL / MAYBE_FALL events it decided.

        Raises StreamError on unusable samples."""
        if not chunk.rate_hz >= MIN_RATE_HZ:
            raise StreamError(f"{chunk.device}: rate_hz must be at least {MIN_RATE_HZ}, got {chunk.rate_hz}")
        try:
            xyz = np.asarray(chunk.samples, dtype=np.float64).reshape(len(chunk.samples), -1)
        except (TypeError, ValueError) as exc:
            raise StreamError(f"{chunk.device}: samples must be [x, y, z] numbers: {exc}") from exc
        if len(xyz) and xyz.shape[1] != 3:
            raise StreamError(f"{chunk.device}: samples must have 3 axes, got {xyz.shape[1]}")
        xyz = xyz if len(xyz) else np.empty((0, 3))
        t = chunk.t0 + np.arange(len(xyz)) / chunk.rate_hz
        resampler, detector = self._stream(chunk.device)
        if now is not None:
            self._heard[chunk.device] = now
        decided = detector.feed(resampler.feed(t, xyz))
        self.counters["accel_samples"] += len(xyz)
        return self._events(chunk.device, decided)

    def expire(self, now: float, silent_s: float = 2.0) -> list[DeviceEvent]:
        """A wearable that stopped streaming (power save when still, out of range) right after an impact:
        judge its waiting impacts on what arrived, instead of waiting for samples that may never come."""
        out: list[DeviceEvent] = []
        for device, (_resampler, detector) in self._streams.items():
            heard = self._heard.get(device)
            if detector.pending and heard is not None and now - heard > silent_s:
                out += self._events(device, detector.flush())
        return out

    def _events(self, device: str, decided: list[Candidate]) -> list[DeviceEvent]:
        self.counters["fall_candidates"] += len(decided)
        return [self._event(device, c) for c in decided if c.is_fall or c.maybe]

    def _stream(self, device: str) -> tuple[Resampler, FallDetector]:
        if device in self._streams:
            self._streams.move_to_end(device)
            return self._streams[device]
        if len(self._streams) >= self.max_streams:
            dropped, _ = self._streams.popitem(last=False)
            self._heard.pop(dropped, None)
            self.counters["streams_dropped"] += 1
            log.warning("fall monitor full (%d streams): forgot %s", self.max_streams, dropped)
        self._streams[device] = (Resampler(self.params.rate_hz), FallDetector(self.params))
        return self._streams[device]

    def _event(self, device: str, c: Candidate) -> DeviceEvent:
        kind = EventKind.FALL if c.is_fall else EventKind.MAYBE_FALL
        self.counters["falls_detected" if c.is_fall else "falls_suspected"] += 1
        log.info(
            "%s on %s: %s", "fall detected" if c.is_fall else "possible fall (stream broke off)", device, c.detail()
        )
        detail = {"source": "detector", "decided_at": round(c.decided_t, 3), **c.detail()}
        return DeviceEvent(device, kind, datetime.fromtimestamp(c.impact_t, UTC), detail)


def summary(chunk: AccelChunk) -> dict[str, float]:
    """A compact reading of one chunk (sample count, rate, |a| range in g) instead of its raw samples."""
    if not chunk.samples:
        return {"samples": 0.0, "rate_hz": float(chunk.rate_hz)}
    mag = np.linalg.norm(np.asarray(chunk.samples, dtype=np.float64).reshape(-1, 3), axis=1)
    return {
        "samples": float(len(mag)),
        "rate_hz": float(chunk.rate_hz),
        "min_g": round(float(mag.min()), 3),
        "max_g": round(float(mag.max()), 3),
    }
