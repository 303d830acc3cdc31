"""The demo's services at home: providers and volunteers, a month of requests worked to done, ratings, activities."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.assist import activities, notices, providers, ratings, store
from server.assist.activities import ActivityIn, SignupIn
from server.assist.notices import NoticeIn
from server.assist.schemas import EvaluationIn, ProviderIn, RequestIn
from server.audit import Actor
from server.db.models import Resident
from server.db.models_assist import Provider

DESK = Actor("coordinator", "coordinator", "demo")
PROVIDERS = [
    ("P001", "西城区为老服务中心", "organisation", ["meals", "cleaning", "medical"], "西城区", "每天 7:00–19:00", 6),
    ("P002", "东城区助餐点（交道口）", "organisation", ["meals"], "东城区", "每天 10:30–13:00", 8),
    ("P003", "安居维修服务部", "organisation", ["repair", "adaptation"], "东城区", "周一至周六 8:00–18:00", 4),
    ("P004", "海淀区家政服务社", "organisation", ["cleaning", "meals"], "海淀区", "每天 8:00–17:00", 5),
    ("V001", "志愿者 陈晨（大学生）", "volunteer", ["digital", "counselling"], "海淀区", "周末", 2),
    ("V002", "志愿者 王芳（退休护士）", "volunteer", ["medical", "counselling"], "西城区", "工作日上午", 2),
    ("V003", "心理咨询师 刘静", "volunteer", ["counselling"], "东城区", "周三下午", 2),
]
# (resident, category, what is needed), asked in turn over the month.
NEEDS = [
    ("R001", "meals", "午餐送餐，软一点"),
    ("R002", "repair", "卫生间水龙头漏水"),
    ("R003", "cleaning", "每周打扫一次"),
    ("R001", "medical", "周四去医院复查，需要陪诊"),
    ("R003", "digital", "学用微信视频和孩子通话"),
    ("R002", "adaptation", "卫生间加装扶手"),
    ("R001", "cleaning", "换季整理衣物"),
    ("R003", "counselling", "最近睡不好，心里闷"),
    ("R002", "meals", "老伴住院期间需要送餐"),
]
ACTIVITIES = [
    ("course", "书法班（每周二）", ["书法"], -6, "交道口社区活动室", "东城区"),
    ("course", "智能手机课堂：微信视频与防诈骗", ["手机", "读书"], 3, "万寿路社区服务站", "海淀区"),
    ("talk", "冬季心脑血管健康讲座", ["养花", "京剧", "合唱"], -2, "德胜社区卫生服务中心", "西城区"),
    ("team", "银发宣讲团", ["京剧", "教孩子识字", "剪纸"], None, None, None),
    ("team", "邻里志愿服务队", ["书法", "剪纸"], None, None, None),
]
NOTICES = [
    ("春节慰问活动安排", "腊月二十起，社区工作人员和结对干部将上门慰问，请提前告知方便的时间。", "all", None),
    ("西城区防诈骗讲座", "本周五下午两点在德胜社区活动室，欢迎老人和家属参加。", "district", "西城区"),
]
SCORES = (5, 4, 5, 3, 4, 5, 2, 4, 5, 4, 1, 5)
CHANNELS = ("staff", "family", "staff", "helper")


def seed(session: Session, now: datetime) -> int:
    """Register the providers and a month of requests for the demo residents present; returns how many requests."""
    for code, name, kind, cats, district, hours, capacity in PROVIDERS:
        providers.save(
            session,
            ProviderIn(
                code=code,
                name=name,
                kind=kind,
                categories=cats,
                district=district,  # type: ignore[arg-type]
                hours=hours,
                capacity=capacity,
            ),
            DESK,
            now - timedelta(days=40),
        )
    present = set(session.scalars(select(Resident.code)))
    made = 0
    for n, days_ago in enumerate(range(30, 0, -1)):
        code, category, text = NEEDS[n % len(NEEDS)]
        if code not in present:
            continue
        at = now - timedelta(days=days_ago, hours=n % 5)
        row = store.create(
            session,
            RequestIn(resident_code=code, category=category, description=text),  # type: ignore[arg-type]
            CHANNELS[n % len(CHANNELS)],
            DESK,
            at,
        )
        made += 1
        _work(session, row.id, n, at, days_ago)
    _community(session, now)
    return made


def _community(session: Session, now: datetime) -> None:
    """Courses, a talk and two teams, the residents their interests suggest signed up; two notices."""
    for kind, title, tags, days, place, district in ACTIVITIES:
        row = activities.create(
            session,
            ActivityIn(
                kind=kind,
                title=title,
                tags=tags,
                place=place,
                district=district,  # type: ignore[arg-type]
                starts_at=now + timedelta(days=days) if days is not None else None,
            ),
            DESK,
            now - timedelta(days=20),
        )
        for n, invitee in enumerate(activities.suggest(session, row.id)):
            past = days is not None and days < 0
            activities.sign_up(
                session,
                row.id,
                SignupIn(
                    resident_code=str(invitee["resident_code"]),
                    role=", ".join(invitee["matches"]) if kind == "team" else None,  # type: ignore[arg-type]
                    attended=(n % 3 != 2) if past else None,
                ),
                DESK,
                now - timedelta(days=10),
            )
    for title, body, audience, value in NOTICES:
        notices.publish(
            session,
            NoticeIn(title=title, body=body, audience=audience, audience_value=value),  # type: ignore[arg-type]
            DESK,
            now - timedelta(days=3),
            deliver=False,
        )  # history: the demo's receiver gets alarms first


def _work(session: Session, request_id: int, n: int, at: datetime, days_ago: int) -> None:
    """Take a request as far as its place in the month says: most done and rated, a few cancelled or still open."""
    if days_ago <= 1:
        return  # yesterday's request is still new
    if n % 11 == 5:
        store.step(session, request_id, "cancelled", DESK, at + timedelta(hours=2), note="家属已自行安排")
        return
    ranked = providers.suggest(session, request_id)
    if not ranked:
        return
    provider = session.get(Provider, ranked[0].candidate.provider_id)
    store.step(session, request_id, "assigned", DESK, at + timedelta(minutes=20 + 7 * (n % 6)), provider)
    if n % 13 == 7:
        return  # assigned and forgotten: overdue on the queue
    worker = Actor(f"provider:{provider.code if provider else ''}", "provider", "demo")
    start = at + timedelta(hours=2 + n % 4)
    store.step(session, request_id, "on_the_way", worker, start)
    store.step(session, request_id, "arrived", worker, start + timedelta(minutes=30))
    hours = 3 + (n * 7) % 40  # some beyond their category's time limit
    store.step(session, request_id, "done", worker, start + timedelta(hours=hours), note="已完成，老人确认")
    score = SCORES[n % len(SCORES)]
    ratings.rate(
        session,
        EvaluationIn(
            request_id=request_id,
            rater="family" if n % 2 else "resident",
            score=score,
            comment="服务很好" if score >= 4 else "等了太久" if score <= 2 else None,
        ),
        DESK,
        start + timedelta(hours=hours + 5),
    )
