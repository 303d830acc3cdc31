"""The resident page's chart: an inline SVG of systolic, diastolic and pulse over time (no script, no CDN)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from zoneinfo import ZoneInfo

import numpy as np

from server.trends.series import EVENING, MORNING, BPSeries, day_date, day_start_utc
from server.trends.stats import group_means
from server.trends.summary import Period

W, H = 960, 360
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 30
MONTHLY_AFTER_DAYS = 92
COLORS = {"systolic": "#c0392b", "diastolic": "#2d6cb5", "pulse": "#7f8c8d"}


@dataclass(frozen=True)
class AlarmMark:
    """An alarm drawn on the time axis."""

    at: datetime
    label: str


def _fmt(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _marker(cls: str, x: float, y: float, session: int, tip: str) -> str:
    # Morning readings are filled, evening ones hollow, others small squares: told apart in print too.
    if session == MORNING:
        return f'<circle class="{cls} am" cx="{_fmt(x)}" cy="{_fmt(y)}" r="3"><title>{tip}</title></circle>'
    if session == EVENING:
        return f'<circle class="{cls} pm" cx="{_fmt(x)}" cy="{_fmt(y)}" r="3"><title>{tip}</title></circle>'
    return f'<rect class="{cls} other" x="{_fmt(x - 2)}" y="{_fmt(y - 2)}" width="4" height="4"><title>{tip}</title></rect>'


def day_ticks(period: Period) -> list[tuple[int, str]]:
    """The x axis's labelled days: every day up to 2 weeks, weekly up to ~3 months, then each month's first day.

    At 365 days weekly labels (52 of them, 18 px apart) overlapped; months are 12–13 labels, ~74 px apart.
    """
    if period.days <= 14:
        return [(d, day_date(d).strftime("%m-%d")) for d in range(period.first_day, period.last_day + 1)]
    if period.days <= MONTHLY_AFTER_DAYS:
        return [(d, day_date(d).strftime("%m-%d")) for d in range(period.first_day, period.last_day + 1, 7)]
    ticks = []
    for d in range(period.first_day, period.last_day + 1):
        when = day_date(d)
        if when.day == 1:
            ticks.append((d, when.strftime("%Y-%m")))
    return ticks


def bp_chart(
    series: BPSeries, period: Period, target: tuple[float, float], tz: ZoneInfo, alarms: list[AlarmMark] | None = None
) -> str:
    """SVG markup for the period: readings as markers, daily means as lines, target lines, alarms as ticks."""
    s = series.between_days(period.first_day, period.last_day)
    t0 = day_start_utc(period.first_day, tz).timestamp()
    t1 = day_start_utc(period.last_day + 1, tz).timestamp()
    values = np.concatenate([s.systolic, s.diastolic, s.pulse[~np.isnan(s.pulse)], np.array(target)])
    lo = min(40.0, float(np.floor(values.min() / 20) * 20)) if values.size else 40.0
    hi = max(200.0, float(np.ceil(values.max() / 20) * 20)) if values.size else 200.0
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(t: float) -> float:
        return LEFT + (t - t0) / (t1 - t0) * pw

    def y(v: float) -> float:
        return TOP + (hi - v) / (hi - lo) * ph

    out = [
        f'<svg class="bp-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" role="img" '
        f'aria-label="blood pressure from {day_date(period.first_day)} to {day_date(period.last_day)}">'
    ]
    out.append(f'<rect class="above-target" x="{LEFT}" y="{TOP}" width="{pw}" height="{_fmt(y(target[0]) - TOP)}"/>')
    for v in range(int(lo), int(hi) + 1, 20):
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{W - RIGHT}" y1="{_fmt(y(v))}" y2="{_fmt(y(v))}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{_fmt(y(v) + 4)}" text-anchor="end">{v}</text>'
        )
    for d, label in day_ticks(period):
        xd = x(day_start_utc(d, tz).timestamp())
        out.append(
            f'<line class="grid" x1="{_fmt(xd)}" x2="{_fmt(xd)}" y1="{TOP}" y2="{H - BOTTOM}"/>'
            f'<text class="axis" x="{_fmt(xd)}" y="{H - 10}">{label}</text>'
        )
    for name, value in (("systolic", target[0]), ("diastolic", target[1])):
        out.append(
            f'<line class="target {name}" x1="{LEFT}" x2="{W - RIGHT}" y1="{_fmt(y(value))}" '
            f'y2="{_fmt(y(value))}"><title>target {name} {_fmt(value)} mmHg</title></line>'
        )
    for m in alarms or []:
        at = (m.at if m.at.tzinfo else m.at.replace(tzinfo=UTC)).timestamp()
        if t0 <= at < t1:
            out.append(
                f'<line class="alarm" x1="{_fmt(x(at))}" x2="{_fmt(x(at))}" y1="{TOP}" y2="{H - BOTTOM}">'
                f"<title>{escape(m.label)}</title></line>"
            )
    for name in ("systolic", "diastolic"):
        vals = getattr(s, name)
        if len(s):
            days, means = group_means(s.day, vals)
            pts = " ".join(
                f"{_fmt(x(day_start_utc(int(d), tz).timestamp() + 43200))},{_fmt(y(float(m)))}"
                for d, m in zip(days, means, strict=False)
            )
            out.append(f'<polyline class="daily {name}" points="{pts}"/>')
    for i in range(len(s)):
        when = datetime.fromtimestamp(float(s.t[i]), tz).strftime("%Y-%m-%d %H:%M")
        pulse = "" if np.isnan(s.pulse[i]) else f", pulse {_fmt(float(s.pulse[i]))}/min"
        tip = f"{when} {_fmt(float(s.systolic[i]))}/{_fmt(float(s.diastolic[i]))} mmHg{pulse}"
        xi = x(float(s.t[i]))
        out.append(_marker("systolic", xi, y(float(s.systolic[i])), int(s.session[i]), tip))
        out.append(_marker("diastolic", xi, y(float(s.diastolic[i])), int(s.session[i]), tip))
        if not np.isnan(s.pulse[i]):
            out.append(f'<circle class="pulse" cx="{_fmt(xi)}" cy="{_fmt(y(float(s.pulse[i])))}" r="1.6"/>')
    out.append("</svg>")
    return "".join(out)
