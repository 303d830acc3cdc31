"""The care pages' words (zh-CN first, English second) and how those pages are rendered."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse

from server.care.categories import CATEGORY_EN
from server.care.standard import GRADES, REASONS
from server.services import Services
from server.web import i18n
from server.web.render import page

WORDS: dict[str, tuple[str, str]] = {
    "records": ("老人档案", "Residents"),
    "care_queue": ("探访工作台", "Contact desk"),
    "alarm_queue": ("报警队列", "Alarm queue"),
    "search": ("查找", "Search"),
    "search_text": ("姓名、编号或地址", "Name, code or address"),
    "district": ("街道 / 区", "District"),
    "category": ("类别", "Category"),
    "age_band": ("年龄段", "Age band"),
    "grade": ("能力等级", "Ability grade"),
    "overdue_only": ("只看逾期未联系", "Only overdue contacts"),
    "any": ("全部", "Any"),
    "new_resident": ("新建档案", "New resident"),
    "code": ("编号", "Code"),
    "name": ("姓名", "Name"),
    "age": ("年龄", "Age"),
    "overdue": ("逾期", "Overdue"),
    "none": ("无", "None"),
    "profile": ("档案", "Profile"),
    "identity": ("基本信息与联系方式", "Identity and contact"),
    "phone": ("电话", "Phone"),
    "address": ("住址", "Address"),
    "birth_date": ("出生日期", "Date of birth"),
    "gender": ("性别", "Gender"),
    "female": ("女", "Female"),
    "male": ("男", "Male"),
    "former_unit": ("原工作单位", "Former employer"),
    "retirement": ("离退休类别", "Retirement type"),
    "rank": ("职级", "Rank"),
    "living_arrangement": ("居住情况", "Living arrangement"),
    "live_alone": ("独居", "Alone"),
    "live_spouse": ("与配偶同住", "With spouse"),
    "live_children": ("与子女同住", "With children"),
    "live_relatives": ("与其他亲属同住", "With other relatives"),
    "live_carer": ("与保姆 / 护工同住", "With a paid carer"),
    "live_institution": ("养老机构", "Care home"),
    "live_other": ("其他", "Other"),
    "family": ("家人", "Family"),
    "key_holders": ("钥匙保管人", "Key holders"),
    "health": ("健康摘要", "Health summary"),
    "conditions": ("疾病", "Conditions"),
    "medication": ("用药", "Medication"),
    "allergies": ("过敏", "Allergies"),
    "family_doctor": ("家庭医生", "Family doctor"),
    "doctor_contract_signed": ("签约日期", "Contract signed"),
    "last_checkup": ("最近体检", "Last check-up"),
    "interests": ("兴趣爱好", "Interests"),
    "skills": ("特长", "Skills"),
    "service_needs": ("服务需求", "Service needs"),
    "communication": ("语言与沟通", "Language and communication"),
    "language": ("语言", "Language"),
    "dialect": ("方言", "Dialect"),
    "hearing": ("听力", "Hearing"),
    "vision": ("视力", "Vision"),
    "sense_normal": ("正常", "Normal"),
    "sense_impaired": ("下降", "Impaired"),
    "sense_aid": ("使用辅具", "Uses an aid"),
    "sense_severe": ("严重受损", "Severely impaired"),
    "communication_notes": ("沟通注意事项", "Notes for staff"),
    "one_per_line": ("每行一项", "one per line"),
    "save": ("保存", "Save"),
    "saved": ("已保存", "Saved"),
    "categories": ("照护类别", "Care categories"),
    "derived": ("自动判定", "derived"),
    "staff_set": ("人工确认（须填写原因）", "Set by staff (a reason is required)"),
    "reason": ("原因", "Reason"),
    "plan": ("默认服务计划", "Default plan"),
    "interval": ("联系间隔", "Contact interval"),
    "days": ("天", "days"),
    "devices_needed": ("应配设备", "Devices the home needs"),
    "services_offered": ("建议服务", "Services to offer"),
    "tier_high": ("高风险", "High risk"),
    "tier_priority": ("重点", "Priority"),
    "tier_other": ("一般", "Other"),
    "assessments": ("能力评估", "Ability assessments"),
    "new_assessment": ("新建评估", "New assessment"),
    "assessment_title": ("老年人能力评估表（GB/T 42195-2022）", "Ability assessment (GB/T 42195-2022)"),
    "assessed_at": ("评估时间", "Assessed at"),
    "assessor": ("评估员", "Assessor"),
    "total": ("总分", "Total"),
    "preliminary": ("初步等级", "Preliminary grade"),
    "score": ("分", "pts"),
    "domain_total": ("小计", "Subtotal"),
    "changes": ("等级变更依据", "Grade changes"),
    "coma": ("昏迷", "Coma"),
    "dementia": ("确诊痴呆或其他精神和行为障碍", "Diagnosed dementia or other mental disorder"),
    "risk_events": (
        "近30天照护风险事件次数（跌倒、噎食、走失等）",
        "Risk events in the past 30 days (falls, choking, wandering…)",
    ),
    "submit_assessment": ("计算并保存", "Score and save"),
    "print": ("打印", "Print"),
    "view": ("查看", "View"),
    "helpers": ("结对帮扶", "Paired helpers"),
    "pair_helper": ("结对新帮扶人", "Pair a helper"),
    "helper_code": ("帮扶人编号", "Helper code"),
    "role": ("身份", "Role"),
    "role_young_cadre": ("年轻干部", "Young cadre"),
    "role_volunteer": ("志愿者", "Volunteer"),
    "role_relative": ("亲属", "Relative"),
    "role_community_worker": ("社区工作者", "Community worker"),
    "rrule": ("联系规则（RRULE，留空按类别默认）", "Recurrence (RRULE; empty = the category's default)"),
    "starts_on": ("开始日期", "Starts on"),
    "channel": ("方式", "Channel"),
    "ch_visit": ("上门探访", "Home visit"),
    "ch_phone": ("电话", "Phone call"),
    "ch_video": ("视频", "Video call"),
    "next_due": ("下次应联系", "Next due"),
    "helper_link": ("帮扶人手机页", "Helper's phone page"),
    "pair": ("结对", "Pair"),
    "contacts": ("联系记录", "Contact log"),
    "log_contact": ("记录一次联系", "Log a contact"),
    "when": ("时间", "When"),
    "by": ("联系人", "By"),
    "mood": ("情绪", "Mood"),
    "mood_good": ("好", "Good"),
    "mood_fair": ("一般", "Fair"),
    "mood_low": ("低落", "Low"),
    "health_state": ("身体", "Health"),
    "health_stable": ("稳定", "Stable"),
    "health_worse": ("变差", "Worse"),
    "health_unwell": ("不适需关注", "Unwell"),
    "living": ("居家环境", "Living conditions"),
    "living_good": ("良好", "Good"),
    "living_needs_help": ("需要帮助", "Needs help"),
    "living_poor": ("差", "Poor"),
    "hazards": ("安全隐患", "Safety hazards"),
    "hz_fall": ("跌倒风险", "Fall risk"),
    "hz_gas": ("燃气", "Gas"),
    "hz_electric": ("用电", "Electrics"),
    "hz_fire": ("火灾", "Fire"),
    "hz_lock": ("门锁", "Door lock"),
    "hz_other": ("其他", "Other"),
    "needs": ("提出的需求", "Needs raised"),
    "note": ("备注", "Note"),
    "history": ("修改记录", "Change history"),
    "field": ("项目", "Field"),
    "old": ("原值", "Before"),
    "new": ("新值", "After"),
    "due_today": ("今日应联系", "Due today"),
    "overdue_list": ("逾期未联系", "Overdue"),
    "coverage": ("按类别覆盖率（计划间隔内已联系）", "Coverage by category (contacted within plan interval)"),
    "per_helper": ("按帮扶人", "Per helper"),
    "residents_n": ("人数", "Residents"),
    "reached": ("已联系", "Reached"),
    "share": ("比例", "Share"),
    "all": ("全部", "All"),
    "kind_plan": ("计划联系", "Planned"),
    "kind_follow_up": ("紧急情况后回访", "Follow-up after emergency"),
    "due": ("应联系日期", "Due"),
    "nothing_owed": ("没有逾期的联系", "No overdue contacts"),
    "nothing_today": ("今天没有应联系的老人", "Nobody due today"),
    "my_residents": ("我的结对老人", "My residents"),
    "record": ("记录", "Log"),
    "calendar": ("订阅日历", "Subscribe to calendar"),
    "helper_hello": ("您好，{name}", "Hello, {name}"),
    "reminder": ("温馨提醒：有 {n} 位老人逾期未联系", "A gentle reminder: {n} overdue"),
    "thanks": ("已记录，谢谢！", "Logged, thank you!"),
    "bad_link": (
        "链接无效或已过期，请联系协调员。",
        "This link is not valid or has expired. Please ask the coordinator.",
    ),
    "hour_offset": ("北京时间", "China Standard Time"),
    "back": ("返回", "Back"),
    "error": ("有误", "Error"),
    "grades_title": ("等级划分", "Grades"),
    "edit": ("编辑档案", "Edit profile"),
    "changed_by": ("修改人", "Changed by"),
    "notices": ("通知公告", "Notices"),
    "rate_for_resident": ("请{name}为刚完成的服务打分", "Ask {name} to rate the service just done"),
    "score_legend": ("老人的评分", "The resident's rating"),
    "stars": ("{n} 分", "{n} of 5"),
    "staff_categories": ("人工确认类别", "Categories set by staff"),
}
for _code, _lowest, _zh, _en in GRADES:
    WORDS[f"grade_{_code}"] = (_zh, _en)
for _code, (_zh, _en) in REASONS.items():
    WORDS[f"reason_{_code}"] = (_zh, _en)
for _zh, _en in CATEGORY_EN.items():
    WORDS[f"cat_{_zh}"] = (_zh, _en)


def words(language: str, vocabulary: dict[str, tuple[str, str]] = WORDS) -> Callable[..., str]:
    """`c(key, **fields)` in one language (from the care words, or another page family's)."""
    index = 1 if language == "en" else 0

    def c(key: str, **fields: object) -> str:
        text = vocabulary[key][index] if key in vocabulary else key
        return text.format(**fields) if fields else text

    return c


def care_page(
    request: Request,
    services: Services,
    name: str,
    status_code: int = 200,
    person_language: str | None = None,
    vocabulary: dict[str, tuple[str, str]] = WORDS,
    **context: Any,
) -> HTMLResponse:
    """Render a care template with the console's language rules and these words as `c`."""
    person = person_language or getattr(context.get("care_user"), "language", None)
    lang = i18n.pick_language(request, person or services.settings.language)
    return page(
        request, services, name, status_code=status_code, person_language=person, c=words(lang, vocabulary), **context
    )
