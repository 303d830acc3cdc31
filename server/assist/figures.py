"""The decision figures (大数据辅助决策): who the residents are, what they ask for, how fast and how well it is done."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.assist import catalog, ratings
from server.care import queue
from server.care.categories import CATEGORIES as CARE_CATEGORIES
from server.care.categories import age_on
from server.care.plans import LOCAL, Intervals, local_date
from server.db.models import Alarm, Resident, as_utc
from server.db.models_assist import Evaluation, ServiceRequest
from server.db.models_care import ResidentProfile

WINDOW_DAYS = 182  # requests and alarms of about the last six months
BANDS = (("<60", 0, 59), ("60-69", 60, 69), ("70-79", 70, 79), ("80-89", 80, 89), ("90+", 90, 200))
UNKNOWN = "—"


@dataclass(frozen=True, slots=True)
class Chart:
    """One table of figures: a title in both languages, column names, rows (what the page draws and XLSX holds)."""

    key: str
    title: tuple[str, str]
    columns: tuple[str, ...]
    rows: list[list[Any]]
    bar: int = 1  # the column drawn as a bar (its number is always printed beside it)
    bar_max: float | None = None  # the bar's full length (None: the column's largest value)

    def scale(self) -> float:
        """The value a full bar stands for."""
        values = [float(r[self.bar]) for r in self.rows if r[self.bar] is not None]
        return self.bar_max or max(values, default=0.0) or 1.0


@dataclass
class Overview:
    """Every chart of the dashboard, in order."""

    now: datetime
    charts: list[Chart] = field(default_factory=list)

    def chart(self, key: str) -> Chart:
        """The chart with this key; raises KeyError."""
        return next(c for c in self.charts if c.key == key)

    def as_json(self) -> dict[str, Any]:
        """The figures as plain JSON."""
        return {
            "at": self.now.isoformat(),
            "window_days": WINDOW_DAYS,
            "charts": {
                c.key: {"title": list(c.title), "columns": list(c.columns), "rows": c.rows} for c in self.charts
            },
        }


def _ages(session: Session, today: date) -> list[int | None]:
    births = dict(session.execute(select(ResidentProfile.resident_id, ResidentProfile.birth_date)).all())
    out: list[int | None] = []
    for rid, year in session.execute(select(Resident.id, Resident.birth_year)):
        birth = births.get(rid)
        out.append(age_on(birth, today) if birth else (today.year - year if year else None))
    return out


def residents(session: Session, today: date) -> list[Chart]:
    """Residents by age band, care category, assessment grade and district."""
    ages = _ages(session, today)
    bands = [[name, sum(1 for a in ages if a is not None and lo <= a <= hi)] for name, lo, hi in BANDS]
    bands.append([UNKNOWN, sum(1 for a in ages if a is None)])
    cats: Counter[str] = Counter()
    for (listed,) in session.execute(select(Resident.care_categories)):
        cats.update(listed or ["无 none"])
    profiles = dict(session.execute(select(ResidentProfile.resident_id, ResidentProfile.grade)).all())
    districts = dict(session.execute(select(ResidentProfile.resident_id, ResidentProfile.district)).all())
    ids = list(session.scalars(select(Resident.id)))
    grades = Counter(profiles.get(r) or UNKNOWN for r in ids)
    places = Counter(districts.get(r) or UNKNOWN for r in ids)
    return [
        Chart("age_band", ("按年龄段的老人数", "Residents by age band"), ("age_band", "residents"), bands),
        Chart(
            "category",
            ("按照护类别的老人数", "Residents by care category"),
            ("category", "residents"),
            [[c, cats[c]] for c in (*CARE_CATEGORIES, "无 none") if c in cats or c in CARE_CATEGORIES],
        ),
        Chart(
            "grade",
            ("按能力等级的老人数", "Residents by ability grade"),
            ("grade", "residents"),
            sorted([[g, n] for g, n in grades.items()]),
        ),
        Chart(
            "district",
            ("按街道 / 区的老人数", "Residents by district"),
            ("district", "residents"),
            sorted([[d, n] for d, n in places.items()]),
        ),
    ]


def _hours(later: datetime | None, earlier: datetime) -> float | None:
    return None if later is None else (as_utc(later) - earlier).total_seconds() / 3600


def requests(session: Session, now: datetime, sla: Mapping[str, int]) -> list[Chart]:
    """Requests by category and month, unmet demand, and response / completion times against the SLA."""
    since = now - timedelta(days=WINDOW_DAYS)
    rows = list(session.scalars(select(ServiceRequest).where(ServiceRequest.created_at >= since)))
    by_month: Counter[tuple[str, str]] = Counter()
    for r in rows:
        by_month[(as_utc(r.created_at).astimezone(LOCAL).strftime("%Y-%m"), r.category)] += 1
    unmet, times = [], []
    for cat in catalog.CATEGORIES:
        mine = [r for r in rows if r.category == cat]
        if not mine:
            continue
        late = [r for r in mine if catalog.overdue(r.status, as_utc(r.created_at), cat, r.urgency, now, sla)]
        cancelled = sum(1 for r in mine if r.status == "cancelled")
        done = [r for r in mine if r.status == "done"]
        unmet.append(
            [
                cat,
                len(mine),
                len(done),
                sum(1 for r in mine if r.status in catalog.OPEN),
                len(late),
                cancelled,
                len(late) + cancelled,
            ]
        )
        response = [h for r in mine if (h := _hours(r.accepted_at, as_utc(r.created_at))) is not None]
        completion = [_hours(r.done_at, as_utc(r.created_at)) or 0.0 for r in done]
        within = sum(1 for r, h in zip(done, completion, strict=False) if h <= catalog.sla_hours(cat, r.urgency, sla))
        times.append(
            [
                cat,
                catalog.sla_hours(cat, "normal", sla),
                len(done),
                round(float(np.median(response)), 2) if response else None,
                round(float(np.median(completion)), 2) if completion else None,
                within,
                round(within / len(done), 3) if done else None,
            ]
        )
    return [
        Chart(
            "requests_by_month",
            ("各类需求按月统计", "Requests by category and month"),
            ("month", "category", "requests"),
            [[m, c, n] for (m, c), n in sorted(by_month.items())],
            bar=2,
        ),
        Chart(
            "unmet",
            ("未满足需求（逾期未办结与取消）", "Unmet demand (open past SLA, and cancelled)"),
            ("category", "requests", "done", "open", "overdue", "cancelled", "unmet"),
            unmet,
            bar=6,
        ),
        Chart(
            "sla",
            ("响应与办结时间对照时限", "Response and completion times against the SLA"),
            (
                "category",
                "sla_hours",
                "done",
                "median_response_h",
                "median_completion_h",
                "done_within_sla",
                "share_within_sla",
            ),
            times,
            bar=6,
            bar_max=1.0,
        ),
    ]


def satisfaction(session: Session, now: datetime) -> Chart:
    """Ratings per category: how many, mean score, how many were low (≤ 2)."""
    q = select(Evaluation.category, Evaluation.score).where(Evaluation.at >= now - timedelta(days=WINDOW_DAYS))
    scores: dict[str, list[int]] = {}
    for cat, score in session.execute(q):
        scores.setdefault(cat, []).append(int(score))
    rows = [
        [cat, len(v), round(float(np.mean(v)), 2), sum(1 for x in v if x <= ratings.LOW)]
        for cat, v in sorted(scores.items())
    ]
    return Chart(
        "satisfaction",
        ("满意度", "Satisfaction"),
        ("category", "ratings", "mean_score", "low_ratings"),
        rows,
        bar=2,
        bar_max=5.0,
    )


def rated_by(session: Session) -> list[Chart]:
    """Ratings (all time) per provider and per staff member who answered the alarm."""
    summary = ratings.summary(session)

    def chart(key: str, title: tuple[str, str], group: str) -> Chart:
        return Chart(
            key,
            title,
            (group, "ratings", "mean_score", "low_ratings"),
            [[r["key"], r["ratings"], r["mean"], r["low"]] for r in summary[group]],
            bar=2,
            bar_max=5.0,
        )

    return [
        chart("ratings_provider", ("按服务方的评价", "Ratings per provider"), "provider"),
        chart("ratings_staff", ("按值班人员的报警处理评价", "Alarm handling ratings per staff member"), "staff"),
    ]


def coverage(session: Session, now: datetime, intervals: Intervals) -> Chart:
    """Residents reached within their contact plan's interval, per care category."""
    rows = [[c.category, c.residents, c.reached, round(c.share, 3)] for c in queue.coverage(session, now, intervals)]
    return Chart(
        "coverage",
        ("探访覆盖率", "Contact coverage"),
        ("category", "residents", "reached", "share"),
        rows,
        bar=3,
        bar_max=1.0,
    )


def alarms(session: Session, now: datetime) -> Chart:
    """Alarms per month (tests left out): how many, per 100 residents, and the share closed as false alarms."""
    q = select(Alarm.raised_at, Alarm.outcome).where(Alarm.raised_at >= now - timedelta(days=WINDOW_DAYS))
    months: dict[str, list[str | None]] = {}
    for raised, outcome in session.execute(q):
        if outcome != "test_passed":
            months.setdefault(as_utc(raised).astimezone(LOCAL).strftime("%Y-%m"), []).append(outcome)
    people = len(list(session.scalars(select(Resident.id)))) or 1
    rows = []
    for month, outcomes in sorted(months.items()):
        closed = [o for o in outcomes if o is not None]
        false = sum(1 for o in closed if o == "false_alarm")
        rows.append(
            [
                month,
                len(outcomes),
                round(100 * len(outcomes) / people, 2),
                false,
                round(false / len(closed), 3) if closed else None,
            ]
        )
    return Chart(
        "alarms",
        ("报警率与误报比例", "Alarm rates and false-alarm share"),
        ("month", "alarms", "per_100_residents", "false_alarms", "false_share"),
        rows,
        bar=4,
        bar_max=1.0,
    )


def overview(session: Session, now: datetime, sla: Mapping[str, int], intervals: Intervals) -> Overview:
    """Every figure of the dashboard at this moment."""
    return Overview(
        now,
        [
            *residents(session, local_date(now)),
            *requests(session, now, sla),
            satisfaction(session, now),
            *rated_by(session),
            coverage(session, now, intervals),
            alarms(session, now),
        ],
    )
