"""GB/T 42195-2022 老年人能力评估规范: the 26 items of Appendix B, their score ranges, and the grades.

Item codes, score ranges and the grade bands follow the standard's Appendix B (B.1–B.4) and its
grading (total 0–90 in five bands, with the changes for coma, dementia and repeated risk events).
The wording below is our short label for each level, not the standard's full text; see
docs/residents.md for what was checked and against what.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Item:
    """One second-level indicator: code, names, and a label per score (highest first)."""

    code: str
    zh: str
    en: str
    levels: tuple[tuple[int, str, str], ...]  # (score, zh, en)

    @property
    def max_score(self) -> int:
        """The best score of the item."""
        return max(score for score, _, _ in self.levels)


@dataclass(frozen=True, slots=True)
class Domain:
    """A first-level indicator (B.1 … B.4) and its items."""

    code: str
    zh: str
    en: str
    items: tuple[Item, ...]

    @property
    def max_score(self) -> int:
        """The domain's best total."""
        return sum(i.max_score for i in self.items)


def _help5(zh: str, en: str, code: str) -> Item:
    """An item scored by how much help the person needs (4 = none … 0 = fully dependent)."""
    return Item(
        code,
        zh,
        en,
        (
            (4, "独立完成，不需要协助", "does it alone"),
            (3, "在他人指导或提示下完成", "with guidance or prompting"),
            (2, "需要他人协助，但以自身完成为主", "with some help, mostly alone"),
            (1, "主要依靠他人协助，自身能配合", "mostly helped, can cooperate"),
            (0, "完全依赖他人协助，不能配合", "fully dependent, cannot cooperate"),
        ),
    )


def _five(code: str, zh: str, en: str, labels: tuple[tuple[str, str], ...]) -> Item:
    return Item(code, zh, en, tuple((4 - i, z, e) for i, (z, e) in enumerate(labels)))


SELF_CARE = Domain(
    "B1",
    "自理能力",
    "Self-care",
    (
        _five(
            "B1.1",
            "进食",
            "Eating",
            (
                ("独立进食，无呛咳", "eats alone, no choking"),
                ("指导下或用辅具完成，无呛咳", "with prompting or aids, no choking"),
                ("需少量接触式协助，偶尔呛咳", "some hands-on help, occasional choking"),
                ("需大量接触式协助，经常呛咳", "much hands-on help, frequent choking"),
                ("完全依赖、吞咽困难或留置营养管", "fully fed, swallowing difficulty or feeding tube"),
            ),
        ),
        _help5("修饰", "Grooming", "B1.2"),
        _help5("洗澡", "Bathing", "B1.3"),
        _help5("穿/脱上衣", "Upper-body dressing", "B1.4"),
        _help5("穿/脱裤子和鞋袜", "Trousers, shoes and socks", "B1.5"),
        _five(
            "B1.6",
            "小便控制",
            "Bladder control",
            (
                ("完全自控", "full control"),
                ("夜间控制较差或自用尿垫", "worse at night, or uses pads alone"),
                ("偶有失禁（每周>1次）或需少量协助", "occasional incontinence or some help"),
                ("白天大部分不能控制，或需大量协助", "mostly no control by day, or much help"),
                ("完全失禁或留置导尿管", "incontinent or catheter"),
            ),
        ),
        _five(
            "B1.7",
            "大便控制",
            "Bowel control",
            (
                ("完全自控", "full control"),
                ("有时便秘或失禁，或自用辅助用物", "sometimes constipated or incontinent"),
                ("经常便秘或失禁，或需少量协助", "often, or some help"),
                ("每天便秘或失禁，或需大量协助", "daily, or much help"),
                ("严重便秘或完全失禁", "severe constipation or fully incontinent"),
            ),
        ),
        _help5("如厕", "Toileting", "B1.8"),
    ),
)

MOBILITY = Domain(
    "B2",
    "基础运动能力",
    "Basic mobility",
    (
        _help5("床上体位转移", "Turning and sitting up in bed", "B2.1"),
        _help5("床椅转移", "Bed–chair transfer", "B2.2"),
        _five(
            "B2.3",
            "平地行走",
            "Walking on the level",
            (
                ("独立行走约50米，无跌倒风险", "walks ~50 m alone, no fall risk"),
                ("能走约50米，需监护或用拐杖、助行器", "walks ~50 m with supervision or a walking aid"),
                ("行走需少量扶持", "needs a little support"),
                ("行走需大量扶持", "needs much support"),
                ("完全不能行走", "cannot walk"),
            ),
        ),
        Item(
            "B2.4",
            "上下楼梯",
            "Stairs",
            (
                (3, "独立上下楼梯（10–15级）", "climbs 10–15 steps alone"),
                (2, "在指导或提示下完成", "with guidance"),
                (1, "需要协助，以自身为主", "with some help"),
                (0, "主要或完全依赖他人", "mostly or fully dependent"),
            ),
        ),
    ),
)

MENTAL = Domain(
    "B3",
    "精神状态",
    "Mental state",
    (
        _five(
            "B3.1",
            "时间定向",
            "Orientation to time",
            (
                ("年月清楚，日期可差一天", "knows year and month"),
                ("年月日不能全部分清", "mixes up dates"),
                ("只知季节或上下半年", "knows only the season"),
                ("只知上午下午或昼夜", "knows only day or night"),
                ("无时间观念", "no sense of time"),
            ),
        ),
        _five(
            "B3.2",
            "空间定向",
            "Orientation to place",
            (
                ("能在日常范围内单独外出", "goes out alone nearby"),
                ("不能单独外出，准确知道住址", "knows the address exactly"),
                ("不能单独外出，知道较多住址信息", "knows much about where they live"),
                ("只知道较少住址信息", "knows little about where they live"),
                ("无空间观念", "no sense of place"),
            ),
        ),
        _five(
            "B3.3",
            "人物定向",
            "Orientation to people",
            (
                ("认识同住的人，知道称呼和关系", "knows housemates and relations"),
                ("认识大部分同住的人", "knows most"),
                ("认识部分亲人或照护者", "knows some relatives or carers"),
                ("只认识自己或极少数人", "knows only self or very few"),
                ("不认识任何人", "knows no one"),
            ),
        ),
        _five(
            "B3.4",
            "记忆",
            "Memory",
            (
                ("记忆与年龄相称", "memory fit for age"),
                ("轻度记忆紊乱", "mild disorder"),
                ("中度记忆紊乱", "moderate disorder"),
                ("重度记忆紊乱", "severe disorder"),
                ("记忆完全紊乱", "memory lost"),
            ),
        ),
        _five(
            "B3.5",
            "理解能力",
            "Understanding",
            (
                ("能正常理解", "understands normally"),
                ("能理解但需更多时间", "needs more time"),
                ("理解困难，需重复或简化", "needs repetition"),
                ("理解严重困难", "severe difficulty"),
                ("完全不能理解", "cannot understand"),
            ),
        ),
        _five(
            "B3.6",
            "表达能力",
            "Expression",
            (
                ("能正常表达", "expresses normally"),
                ("能表达但需更多时间", "needs more time"),
                ("表达困难，需重复或简化", "difficulty"),
                ("表达严重困难", "severe difficulty"),
                ("完全不能表达", "cannot express needs"),
            ),
        ),
        Item("B3.7", "攻击行为", "Aggression", ((1, "未出现", "none"), (0, "近一个月出现过", "in the past month"))),
        Item(
            "B3.8",
            "抑郁症状",
            "Depressive symptoms",
            ((1, "未出现", "none"), (0, "近一个月出现过", "in the past month")),
        ),
        Item(
            "B3.9",
            "意识水平",
            "Consciousness",
            (
                (2, "神志清醒", "alert"),
                (1, "嗜睡或意识模糊", "drowsy or confused"),
                (0, "昏睡或昏迷", "stupor or coma"),
            ),
        ),
    ),
)

PERCEPTION = Domain(
    "B4",
    "感知觉与社会参与",
    "Perception and social participation",
    (
        Item(
            "B4.1",
            "视力",
            "Vision",
            (
                (2, "视力正常", "normal"),
                (1, "能看大字，看不清标准字体", "large print only"),
                (0, "只能看到光、颜色、形状或失明", "light and shapes only, or blind"),
            ),
        ),
        Item(
            "B4.2",
            "听力",
            "Hearing",
            (
                (2, "听力正常", "normal"),
                (1, "轻声或两米外听不清", "misses quiet or distant speech"),
                (0, "大声慢说才部分听见或失聪", "hears only loud slow speech, or deaf"),
            ),
        ),
        _help5("执行日常事务", "Everyday tasks (washing, small shopping, medicines)", "B4.3"),
        Item(
            "B4.4",
            "使用交通工具外出",
            "Going out by transport",
            (
                (3, "能骑车或乘公共交通", "cycles or takes public transport"),
                (2, "能自己乘出租车", "takes a taxi alone"),
                (1, "有人陪同可乘公共交通", "public transport with company"),
                (0, "只能在协助下乘车或不能出门", "only helped by car, or cannot go out"),
            ),
        ),
        _five(
            "B4.5",
            "社会交往能力",
            "Social contact",
            (
                ("参与社会，待人接物恰当", "takes part, behaves fittingly"),
                ("能适应单纯环境，主动接触他人", "simple settings, seeks contact"),
                ("脱离社会，可被动接触", "withdrawn, contact only when approached"),
                ("勉强与人接触", "barely in contact"),
                ("不能与人交往", "no contact"),
            ),
        ),
    ),
)

DOMAINS: tuple[Domain, ...] = (SELF_CARE, MOBILITY, MENTAL, PERCEPTION)
ITEMS: dict[str, Item] = {item.code: item for d in DOMAINS for item in d.items}
MAX_TOTAL = sum(d.max_score for d in DOMAINS)  # 90

# (grade code, lowest total, zh, en), best first; the total's band gives the preliminary grade.
GRADES: tuple[tuple[str, int, str, str], ...] = (
    ("intact", 90, "能力完好", "Ability intact"),
    ("mild", 66, "能力轻度受损（轻度失能）", "Mildly impaired (mild disability)"),
    ("moderate", 46, "能力中度受损（中度失能）", "Moderately impaired (moderate disability)"),
    ("severe", 30, "能力重度受损（重度失能）", "Severely impaired (severe disability)"),
    ("complete", 0, "能力完全丧失（完全失能）", "Ability lost (complete disability)"),
)
GRADE_ORDER = tuple(g[0] for g in GRADES)

# Why an assessment is made (the standard's 评估原因), as codes.
REASONS: dict[str, tuple[str, str]] = {
    "first": ("首次评估", "First assessment"),
    "routine": ("常规评估", "Routine assessment"),
    "event": ("即时评估（状况变化后）", "After an event"),
    "review": ("对结果有疑问的复评", "Re-assessment"),
    "other": ("其他", "Other"),
}
