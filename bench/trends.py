"""Benchmark: one resident's year summary (~1,500 readings) and the cohort page for 1,000 residents.

Run: `python -m bench.trends [--residents 1000] [--database-url postgresql://…]`. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from firmware_sim.bp_history import Profile, history, store
from server.api.app import create_app
from server.auth import hash_password
from server.db.models import Reading, Resident, Staff
from server.db.session import create_schema, make_engine, session_factory
from server.links import LinkSigner
from server.services import Services
from server.settings import ServerSettings
from server.trends import service
from server.trends.series import day_number, from_rows, zone
from server.trends.summary import Period, summarize

TZ = zone("Asia/Shanghai")
TODAY = date(2026, 11, 27)
NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)  # 22:00 in Beijing


def timed(fn: Callable[[], Any], repeat: int) -> dict[str, float]:
    """Milliseconds per call after one warm-up: wall (median, max) and this process's CPU time (median).

    CPU time is what the code costs; wall time on a shared machine also holds other jobs' turns.
    """
    fn()
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return {
        "wall_median_ms": round(statistics.median(wall), 2),
        "wall_max_ms": round(max(wall), 2),
        "cpu_median_ms": round(statistics.median(cpu), 2),
    }


def year_summary(repeat: int) -> dict[str, Any]:
    """Pure analytics: rows → series → summary for 365 days of morning and evening pairs."""
    rows = history(TODAY - timedelta(days=729), 730, Profile(skip_share=0.0, drift_per_week=0.1), TZ, seed=1)
    period = Period(day_number(TODAY) - 364, day_number(TODAY))
    series = from_rows(rows, TZ)
    in_year = len(series.between_days(period.first_day, period.last_day))
    return {
        "readings_in_year": in_year,
        "readings_loaded": len(rows),
        "summarize": timed(lambda: summarize(series, period, (135, 85)), repeat),
        "rows_to_summary": timed(lambda: summarize(from_rows(rows, TZ), period, (135, 85)), repeat),
    }


def seeded(url: str | None, residents: int, days: int) -> tuple[Services, Any]:
    """A database with `residents` residents, each with `days` days of history, and a doctor account."""
    url = url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    engine = make_engine(url)
    create_schema(engine)
    sessions = session_factory(engine)
    rng = np.random.default_rng(7)
    with sessions() as s, s.begin():
        s.add(Staff(username="doctor", display_name="bench", role="doctor", password_hash=hash_password("pw")))
        for i in range(residents):
            r = Resident(
                code=f"B{i:05d}",
                name=f"居民 {i}",
                bp_target={"systolic": 135, "diastolic": 85},
                consent=True,
                consent_sharing=True,
            )
            s.add(r)
            s.flush()
            profile = Profile(
                systolic=float(rng.normal(135, 10)),
                drift_per_week=float(rng.normal(0, 1.5)),
                skip_share=float(rng.uniform(0.02, 0.4)),
            )
            store(s, r.id, f"gw-{i}", history(TODAY - timedelta(days=days - 1), days, profile, TZ, seed=i))
        year = Resident(
            code="YEAR", name="一年", bp_target={"systolic": 135, "diastolic": 85}, consent=True, consent_sharing=True
        )
        s.add(year)
        s.flush()  # two years: the year summarised and the year before, for the change figure
        store(s, year.id, "gw-year", history(TODAY - timedelta(days=729), 730, Profile(skip_share=0.0), TZ, seed=1))
    services = Services(
        ServerSettings(database_url=url, secret_key="bench"),
        sessions,
        LinkSigner("b", 60),
        None,
        lambda _g, _c: None,
        clock=lambda: NOW,
    )
    return services, engine


def cohort(url: str | None, residents: int, repeat: int) -> dict[str, Any]:
    """service.cohort (queries + analytics) and the whole /doctor page through the app."""
    t0 = time.perf_counter()
    services, engine = seeded(url, residents, 2 * service.COHORT_DAYS)
    seed_s = time.perf_counter() - t0
    client = TestClient(create_app(services))
    assert client.post("/api/v1/auth/token", data={"username": "doctor", "password": "pw"}).status_code == 200

    def compute() -> None:
        with services.sessions() as s:
            service.cohort(s, NOW)

    def page() -> None:
        r = client.get("/doctor")
        assert r.status_code == 200

    def year_from_db() -> None:
        with services.sessions() as s:
            resident = service.store.resident_by_code(s, "YEAR")
            assert resident is not None
            service.resident_trend(s, resident, NOW, days=365)

    def year_page() -> None:
        assert client.get("/doctor/residents/YEAR", params={"days": 365}).status_code == 200

    with services.sessions() as s:
        readings = s.execute(select(func.count()).select_from(Reading)).scalar_one()
    out = {
        "residents": residents,
        "readings": readings,
        "days_of_history": 2 * service.COHORT_DAYS,
        "seed_s": round(seed_s, 1),
        "cohort_compute": timed(compute, repeat),
        "cohort_page": timed(page, repeat),
        "year_summary_from_db": timed(year_from_db, repeat),
        "year_resident_page": timed(year_page, repeat),
    }
    engine.dispose()
    return out


def main() -> None:
    """Run both scenarios and print JSON."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--residents", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    a = p.parse_args()
    print(
        json.dumps(
            {
                "machine": {
                    "python": platform.python_version(),
                    "numpy": np.__version__,
                    "cpu": platform.processor() or platform.machine(),
                },
                "year_summary": year_summary(max(a.repeat, 20)),
                "cohort": cohort(a.database_url, a.residents, a.repeat),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
