"""Notification fan-out: N alarms raised at once (a power cut, a heat wave) until every caregiver's phone has its
message, through the desk worker, apprise json:// and a local HTTP receiver.

Run: python -m bench.notify [--alarms 200] [--workers 4] [--db sqlite|postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bench.ingest import database
from firmware_sim.receiver import NotificationReceiver
from server import alarms as desk_ops
from server.db.models import Resident
from server.db.session import create_schema, make_engine, session_factory
from server.escalation import Escalator
from server.links import LinkSigner
from server.notify import Notifier
from server.presence import PresencePolicy
from server.provision import ProvisionFile, apply
from server.worker import DeskWorker


def run(alarms: int, workers: int, kind: str) -> dict[str, object]:
    """Raise `alarms` alarms in one transaction and time until all messages arrived."""
    receiver = NotificationReceiver()
    receiver.start()
    url, cleanup = database(kind, Path(tempfile.mkdtemp(prefix="anxin-notify-")))
    engine = make_engine(url)
    try:
        create_schema(engine)
        sessions = session_factory(engine)
        with sessions() as s, s.begin():
            apply(
                s,
                ProvisionFile.model_validate(
                    {
                        "caregivers": [
                            {"code": f"C{i}", "name": f"cg{i}", "notify": [receiver.url(f"/C{i}")]}
                            for i in range(alarms)
                        ],
                        "residents": [
                            {"code": f"R{i}", "name": f"r{i}", "caregivers": [f"C{i}"]} for i in range(alarms)
                        ],
                        "gateways": [{"id": f"gw-{i}", "resident": f"R{i}"} for i in range(alarms)],
                    }
                ),
            )
        notifier = Notifier(sessions, LinkSigner("bench", 3600), "http://anxin.test", workers=workers)
        worker = DeskWorker(sessions, Escalator(), notifier, PresencePolicy(), lambda: datetime.now(UTC))
        worker.start()
        t0 = time.time()
        with sessions() as s, s.begin():
            now = datetime.now(UTC)
            for r in s.scalars(select(Resident)):
                gw = f"gw-{r.code[1:]}"
                desk_ops.apply_gateway_alarm(s, gw, 1, r.id, {"type": "sos", "severity": "emergency"}, now, now)
        worker.wake()
        got = receiver.wait_for(alarms, 300)
        worker.stop()
        latencies = sorted(r.at - t0 for r in got)
        return {
            "db": kind,
            "alarms": alarms,
            "workers": workers,
            "delivered": len(got),
            "first_s": round(latencies[0], 3),
            "median_s": round(statistics.median(latencies), 3),
            "last_s": round(latencies[-1], 3),
            "messages_per_s": round(len(got) / latencies[-1], 1),
            "load_avg_1m": os.getloadavg()[0],
        }
    finally:
        engine.dispose()
        receiver.stop()
        cleanup()


def main() -> None:
    """Command line."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--alarms", type=int, default=200)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    a = p.parse_args()
    print(json.dumps(run(a.alarms, a.workers, a.db)))


if __name__ == "__main__":
    main()
