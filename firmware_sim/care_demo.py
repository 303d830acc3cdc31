"""The demo's care record: full profiles, an assessment, paired helpers and a month of contacts per resident."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.care import assessments, contacts, pairing, profile
from server.care.schemas import AssessmentIn, ContactIn, HelperPlanIn, ProfileIn
from server.db.models import Resident

COORDINATOR = "coordinator"

# One profile per demo resident (R001–R003), the same people firmware_sim.installation registers.
PROFILES: dict[str, dict[str, object]] = {
    "R001": {
        "district": "西城区",
        "birth_date": date(1936, 3, 8),
        "gender": "female",
        "former_unit": "北京市第一棉纺厂",
        "retirement": "退休",
        "rank": "高级技师",
        "living_arrangement": "alone",
        "family": ["儿子 李伟 139 1000 0001（海淀）"],
        "key_holders": ["儿子 李伟", "邻居 周大姐（3 单元 402）"],
        "allergies": ["青霉素"],
        "medication": ["氨氯地平 5 mg 每日一次", "二甲双胍 500 mg 每日两次"],
        "family_doctor": "德胜社区卫生服务中心 刘医生",
        "doctor_contract_signed": date(2026, 1, 12),
        "last_checkup": date(2026, 9, 20),
        "interests": ["京剧", "养花"],
        "skills": ["剪纸"],
        "service_needs": ["助餐", "陪同就医"],
        "hearing": "aid",
        "vision": "impaired",
        "communication_notes": "右耳助听器；说话请慢一点、面对面。",
    },
    "R002": {
        "district": "东城区",
        "birth_date": date(1937, 11, 2),
        "gender": "male",
        "former_unit": "北京军区后勤部",
        "retirement": "离休",
        "rank": "副师职",
        "living_arrangement": "spouse",
        "family": ["女儿 张敏 138 2000 0002"],
        "key_holders": ["女儿 张敏"],
        "allergies": [],
        "medication": ["阿司匹林 100 mg", "单硝酸异山梨酯"],
        "family_doctor": "交道口社区卫生服务中心 王医生",
        "doctor_contract_signed": date(2025, 12, 1),
        "last_checkup": date(2026, 10, 8),
        "interests": ["书法", "象棋"],
        "skills": ["书法"],
        "service_needs": ["上门理发", "心脏随访"],
        "hearing": "normal",
        "vision": "normal",
        "staff_categories": {"重病": "2026 年 8 月心梗住院，出院后需密切随访"},
    },
    "R003": {
        "district": "海淀区",
        "birth_date": date(1950, 6, 21),
        "gender": "female",
        "former_unit": "海淀区实验小学",
        "retirement": "退休",
        "rank": "小学高级教师",
        "living_arrangement": "alone",
        "family": ["侄子 陈志强（结对干部）"],
        "key_holders": ["物业 万寿路管理处"],
        "allergies": ["磺胺"],
        "medication": ["碳酸钙 D3"],
        "family_doctor": "万寿路社区卫生服务中心 赵医生",
        "last_checkup": date(2026, 5, 30),
        "interests": ["合唱", "读书"],
        "skills": ["教孩子识字"],
        "service_needs": ["家政", "助浴"],
        "hearing": "normal",
        "vision": "aid",
        "staff_categories": {"特殊困难": "低保户，独居无子女"},
    },
}
# Scores per GB/T 42195-2022 item: R001 53 (moderate), R002 87 (mild), R003 43 (severe; two falls in 30 days
# make her grade one worse: complete).
ANSWERS = {
    "R001": "32212332322132323310211213",
    "R002": "44434444444344444411222324",
    "R003": "21101221111043444411210101",
}
HELPERS = {
    "R001": [("H001", "青年干部 刘洋", "young_cadre", "visit"), ("H002", "志愿者 马丽", "volunteer", "phone")],
    "R002": [("H001", "青年干部 刘洋", "young_cadre", "visit"), ("H003", "女儿 张敏", "relative", "phone")],
    "R003": [("H004", "社区工作者 孙敏", "community_worker", "visit")],
}
_ITEMS = (
    [f"B1.{i}" for i in range(1, 9)]
    + [f"B2.{i}" for i in range(1, 5)]
    + [f"B3.{i}" for i in range(1, 10)]
    + [f"B4.{i}" for i in range(1, 6)]
)
_MOODS = ("good", "good", "fair", "good", "low")


def seed(session: Session, now: datetime, advanced_age: int = 80) -> list[str]:
    """Fill the care record of the demo residents present; returns their codes."""
    done = []
    for code, extra in PROFILES.items():
        resident = session.scalars(select(Resident).where(Resident.code == code)).first()
        if resident is None:
            continue
        body = ProfileIn.model_validate(
            {
                "name": resident.name,
                "phone": resident.phone,
                "address": resident.address,
                "conditions": list(resident.conditions or []),
                **extra,
            }
        )
        profile.save(session, code, body, COORDINATOR, now - timedelta(days=35), advanced_age)
        answers = dict(zip(_ITEMS, map(int, ANSWERS[code]), strict=True))
        assessments.record_assessment(
            session,
            resident,
            AssessmentIn(
                assessed_at=now - timedelta(days=34),
                reason="first",
                assessor="评估员 陈静",
                answers=answers,
                risk_events_30d=2 if code == "R003" else 0,
            ),
            COORDINATOR,
            now - timedelta(days=34),
            advanced_age,
        )
        start = (now - timedelta(days=30)).date()
        for h_code, name, role, channel in HELPERS[code]:
            plan = HelperPlanIn.model_validate(
                {"helper_code": h_code, "name": name, "role": role, "channel": channel, "starts_on": start}
            )
            pairing.pair(session, resident, plan, COORDINATOR, now - timedelta(days=30))
        _month_of_contacts(session, resident, now)
        done.append(code)
    return done


def _month_of_contacts(session: Session, resident: Resident, now: datetime) -> None:
    """A visit or call every four days over the past month."""
    helpers = HELPERS[resident.code]
    for n, days_ago in enumerate(range(30, 1, -4)):
        h_code, _name, _role, channel = helpers[n % len(helpers)]
        helper = pairing.helper_by_code(session, h_code)
        body = ContactIn.model_validate(
            {
                "at": now - timedelta(days=days_ago),
                "channel": channel,
                "mood": _MOODS[n % len(_MOODS)],
                "health": "stable" if n % 3 else "worse",
                "living": "good",
                "hazards": ["fall"] if resident.code == "R003" else [],
                "needs": "想参加社区合唱团" if n == 2 else None,
                "note": "按时服药，精神不错" if n % 2 else None,
            }
        )
        contacts.log_contact(
            session,
            resident,
            body,
            helper.name if helper else COORDINATOR,
            now - timedelta(days=days_ago),
            helper=helper,
        )
