"""Commit -> caregiver's phone on one process, without brokers: an SOS batch handed to ingest's queue, its
commit, the first call (or, with --desk, the desk worker's round as before issue 24), apprise, a local HTTP
receiver. Every press is a fresh alarm. The server's half of `python -m bench alarm_latency`, free of the
gateway and the brokers, for comparing code on a busy machine (quote the minimum and p25 there).

Run: python -m bench.first_call [--presses 100] [--desk] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import update

from anxin import protocol
from bench.ingest import database
from firmware_sim.installation import demo_provision
from firmware_sim.receiver import NotificationReceiver
from server.db.models import Alarm
from server.db.session import create_schema, make_engine, session_factory
from server.escalation import Escalator
from server.ingest import Ingest, drain_bytes
from server.links import LinkSigner
from server.notify import Notifier
from server.presence import PresencePolicy
from server.provision import apply
from server.worker import DeskWorker


def spread(samples: list[float]) -> dict[str, float]:
    """min, p25, p50, p90, max in ms."""
    s = sorted(samples)
    return {
        k: round(s[min(len(s) - 1, int(q * len(s)))], 2)
        for k, q in (("min", 0), ("p25", 0.25), ("p50", 0.5), ("p90", 0.9))
    } | {"max": round(s[-1], 2)}


def run(presses: int, first_call: bool, kind: str) -> dict[str, object]:
    """Press `presses` times (after 3 warm-up presses); queue -> commit done and commit -> phone, in ms."""
    receiver = NotificationReceiver()
    receiver.start()
    url, cleanup = database(kind, Path(tempfile.mkdtemp(prefix="anxin-first-call-")))
    engine = make_engine(url)
    try:
        create_schema(engine)
        sessions = session_factory(engine)
        with sessions() as s, s.begin():
            apply(s, demo_provision(1, [receiver.url("/caregiver/{code}")]))
        clock = lambda: datetime.now(UTC)  # noqa: E731
        notifier = Notifier(sessions, LinkSigner("bench", 3600), "http://anxin.test")
        desk = DeskWorker(sessions, Escalator(), notifier, PresencePolicy(), clock, first_call=first_call)
        committed: list[float] = []

        def on_new_alarm(alarm_id: int) -> None:
            committed.append(time.time())
            desk.wake(alarm_id)

        ingest = Ingest(
            sessions,
            lambda _t, _p, _q: None,
            on_new_alarm,
            clock=clock,
            alarm_first=desk.alarm_first,
            max_drain_bytes=drain_bytes(url),
        )
        desk.start()
        ingest.start()
        to_commit, to_phone = [], []
        for i in range(presses + 3):
            before = len(receiver.received)
            ev = protocol.UplinkEvent(i + 1, "alarm", time.time(), {"type": "sos", "severity": "emergency"})
            payload = protocol.encode_batch(protocol.UplinkBatch("gw-r001", "boot", (ev,), time.time(), True))
            t0 = time.time()
            ingest.on_message(protocol.up_topic("gw-r001"), payload)
            got = receiver.wait_for(before + 1, 30)
            if len(got) <= before:
                raise RuntimeError(f"press {i + 1}: the caregiver was not notified within 30 s")
            if i >= 3:
                to_commit.append((committed[-1] - t0) * 1000)
                to_phone.append((got[before].at - committed[-1]) * 1000)
            with sessions() as s, s.begin():  # staff resolve it: the next press is a fresh alarm
                s.execute(
                    update(Alarm)
                    .where(Alarm.status.in_(("raised", "notified", "acknowledged")))
                    .values(status="resolved", next_escalation_at=None)
                )
            time.sleep(0.02)
        ingest.stop()
        desk.stop()
        return {
            "db": kind,
            "path": "first call" if first_call else "desk round",
            "presses": presses,
            "queue_to_commit_ms": spread(to_commit),
            "commit_to_phone_ms": spread(to_phone),
            "load_avg_1m": os.getloadavg()[0],
        }
    finally:
        engine.dispose()
        receiver.stop()
        cleanup()


def main() -> None:
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--presses", type=int, default=100)
    p.add_argument("--desk", action="store_true", help="notify through the desk worker's round (before issue 24)")
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    a = p.parse_args()
    print(json.dumps(run(a.presses, not a.desk, a.db)))


if __name__ == "__main__":
    main()
