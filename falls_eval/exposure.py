"""False alarms per hour of an older person's day: each activity's alarm rate weighted by how often it is done.

MobiFall's 1.39 h of activities hold 90 sit-downs and car entries/exits in 84 minutes; a real day has far
fewer. The weights and their sources are in docs/falls.md; where no source was found the figure is ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from falls_eval.evaluate import Trial

WAKING_HOURS = 16.0  # the day the false alarms are spread over


@dataclass(frozen=True, slots=True)
class Exposure:
    """How much of one activity an older person does per day: `per_day` occurrences, or `hours` of it."""

    per_day: float = 0.0  # for an activity that is one movement (sit down, step into a car, one flight)
    hours: float = 0.0  # for an activity that lasts (walking, standing)
    source: str = ""
    at_home: bool = True  # within earshot of the gateway's spoken "are you all right?" prompt


OLDER_ADULT_DAY: Mapping[str, Exposure] = {
    "SCH": Exposure(
        per_day=71, source="Grant, Kerr & Dall 2008: 71 ± 25 sit-to-stand a day, healthy community-living older adults"
    ),
    "CSI": Exposure(
        per_day=2,
        source="assumed: one car trip out and back a day (NHTS 2001, Collia 2003: "
        "older Americans make most trips by car)",
        at_home=False,
    ),
    "CSO": Exposure(per_day=2, source="as CSI", at_home=False),
    "STU": Exposure(per_day=10, source="assumed: ten flights up a day"),
    "STN": Exposure(per_day=10, source="assumed: ten flights down a day"),
    "WAL": Exposure(hours=1.5, source="assumed"),
    "STD": Exposure(hours=3.0, source="assumed"),
    "JOG": Exposure(source="assumed: not done", at_home=False),
    "JUM": Exposure(source="assumed: not done", at_home=False),
}


def alarms_per_day(trials: Iterable[Trial], day: Mapping[str, Exposure] = OLDER_ADULT_DAY) -> dict[str, float]:
    """Expected false alarms a day from each activity: alarms per trial (or per hour) times its exposure."""
    by_code: dict[str, list[Trial]] = {}
    for t in trials:
        if not t.is_fall:
            by_code.setdefault(t.code, []).append(t)
    out: dict[str, float] = {}
    for code, ts in by_code.items():
        e = day.get(code, Exposure())
        alarms = sum(len(t.alarms) for t in ts)
        hours = sum(t.duration_s for t in ts) / 3600
        out[code] = alarms / len(ts) * e.per_day + (alarms / hours * e.hours if hours else 0.0)
    return out


def weighted_false_alarms_per_hour(trials: Iterable[Trial], day: Mapping[str, Exposure] = OLDER_ADULT_DAY) -> float:
    """False alarms per waking hour of an older person's day (`WAKING_HOURS`)."""
    return sum(alarms_per_day(trials, day).values()) / WAKING_HOURS


def prompt_can_cancel(trials: Iterable[Trial], day: Mapping[str, Exposure] = OLDER_ADULT_DAY) -> tuple[int, int]:
    """(false alarms raised at home, where the resident hears the 30 s prompt and can cancel; all false alarms).

    The prompt is spoken by the gateway's speaker at home: a false alarm at the car is out of its earshot."""
    alarms = [(len(t.alarms), day.get(t.code, Exposure()).at_home) for t in trials if not t.is_fall]
    return sum(n for n, home in alarms if home), sum(n for n, _ in alarms)
