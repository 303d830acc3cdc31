"""A helper's contact plans as an iCalendar feed (RFC 5545) they can subscribe to."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from icalendar import Alarm, Calendar, Event, vRecur

from server.care.plans import LOCAL
from server.care.schemas import DueOut
from server.db.models import Resident
from server.db.models_care import Helper, HelperPlan

_CHANNEL = {"visit": "上门探访 visit", "phone": "电话 call", "video": "视频 video call"}
_AT = time(9, 30)  # plans name a day; the event sits in the morning so phones remind in good time


def _reminder(text: str) -> Alarm:
    """A gentle reminder on the helper's phone half an hour before (RFC 5545 VALARM)."""
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", text)
    alarm.add("trigger", timedelta(minutes=-30))
    return alarm


def feed(
    helper: Helper, plans: list[tuple[HelperPlan, Resident]], follow_ups: list[DueOut], now: datetime, host: str
) -> bytes:
    """One recurring event per paired resident, plus a single event per follow-up visit owed."""
    cal = Calendar()
    cal.add("prodid", "-//Anxin//care contacts//ZH")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"安心 探访 — {helper.name}")
    cal.add("x-wr-timezone", "Asia/Shanghai")
    for plan, resident in plans:
        ev = Event()
        ev.add("uid", f"plan-{plan.id}@{host}")
        ev.add("dtstamp", now)
        ev.add("summary", f"{_CHANNEL.get(plan.channel, plan.channel)}: {resident.name}")
        start = datetime.combine(plan.starts_on, _AT, tzinfo=LOCAL)
        ev.add("dtstart", start)
        ev.add("dtend", start + timedelta(minutes=30))
        ev.add("rrule", vRecur.from_ical(plan.rrule))
        if resident.address:
            ev.add("location", resident.address)
        ev.add_component(_reminder(f"今天请联系 {resident.name} / contact {resident.name} today"))
        cal.add_component(ev)
    for f in follow_ups:
        ev = Event()
        ev.add("uid", f"follow-up-{f.alarm_id}-{f.resident_code}@{host}")
        ev.add("dtstamp", now)
        ev.add("summary", f"紧急情况后回访 follow-up visit: {f.resident_name}")
        ev.add("dtstart", datetime.combine(f.due, _AT, tzinfo=LOCAL))
        ev.add("dtend", datetime.combine(f.due, _AT, tzinfo=LOCAL) + timedelta(minutes=30))
        ev.add_component(_reminder(f"请上门回访 {f.resident_name} / follow-up visit to {f.resident_name}"))
        cal.add_component(ev)
    ical: bytes = cal.to_ical()  # icalendar leaves to_ical() unannotated
    return ical
