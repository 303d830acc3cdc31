"""The follow-up form for hypertension and type 2 diabetes (国家基本公共卫生服务规范（第三版）, 高血压/2型糖尿病患者
健康管理服务规范 and their 随访服务记录表) and its scheduling rules, pure: no database, `today` passed in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Condition = Literal["hypertension", "diabetes"]
CONDITIONS: dict[str, tuple[str, tuple[str, ...]]] = {  # name, words in a resident's recorded conditions
    "hypertension": ("高血压 hypertension", ("高血压", "hypertension")),
    "diabetes": ("2 型糖尿病 type 2 diabetes", ("糖尿病", "diabetes")),
}
SYMPTOMS = {
    "hypertension": {
        "none": "无症状",
        "headache_dizziness": "头痛头晕",
        "nausea_vomiting": "恶心呕吐",
        "blurred_vision_tinnitus": "眼花耳鸣",
        "dyspnoea": "呼吸困难",
        "palpitation_chest_tightness": "心悸胸闷",
        "nosebleed": "鼻衄出血不止",
        "limb_numbness": "四肢发麻",
        "leg_oedema": "下肢水肿",
    },
    "diabetes": {
        "none": "无症状",
        "polydipsia": "多饮",
        "polyphagia": "多食",
        "polyuria": "多尿",
        "blurred_vision": "视力模糊",
        "infection": "感染",
        "hand_foot_numbness": "手脚麻木",
        "leg_oedema": "下肢浮肿",
        "weight_loss": "体重明显下降",
    },
}
MODES = {"clinic": "门诊 clinic", "home": "家庭 home visit", "phone": "电话 phone"}
FACE_TO_FACE = ("clinic", "home")
ADHERENCE = {"regular": "规律 regular", "intermittent": "间断 intermittent", "none": "不服药 not taking"}
CLASSIFICATION = {
    "satisfactory": "控制满意 controlled",
    "unsatisfactory": "控制不满意 not controlled",
    "adverse_reaction": "不良反应 adverse reaction",
    "complication": "并发症 complication",
}
HYPO = {"none": "无 none", "occasional": "偶尔 occasional", "frequent": "频繁 frequent"}
LEVEL = {"good": "良好 good", "fair": "一般 fair", "poor": "差 poor"}
SALT = {"light": "轻 light", "moderate": "中 moderate", "heavy": "重 heavy"}
PEDAL_PULSE = {"palpable": "触及正常 palpable", "weak": "减弱 weak", "absent": "消失 absent"}

REGULAR_DAYS = 90  # controlled: the next of at least four face-to-face visits a year
SOON_DAYS = 14  # not controlled, adverse reaction, complication: again within two weeks
VISITS_PER_YEAR = 4


class Medicine(BaseModel):
    """One drug as taken: name, dose per time, times a day."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    dose: str = Field("", max_length=32)
    times_per_day: int = Field(1, ge=1, le=6)


class Referral(BaseModel):
    """Where the resident was referred and why."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)
    institution: str = Field(min_length=1, max_length=100)


class FollowUpIn(BaseModel):
    """One visit as the doctor records it; every check the specification implies is made here."""

    model_config = ConfigDict(extra="forbid")

    condition: Condition
    visit_date: date
    mode: Literal["clinic", "home", "phone"]
    symptoms: list[str] = Field(default_factory=list, max_length=12)
    systolic: float | None = Field(None, ge=50, le=300)
    diastolic: float | None = Field(None, ge=30, le=200)
    weight_kg: float | None = Field(None, ge=10, le=300)
    target_weight_kg: float | None = Field(None, ge=10, le=300)
    bmi: float | None = Field(None, ge=8, le=80)
    heart_rate: float | None = Field(None, ge=20, le=250)
    pedal_pulse: Literal["palpable", "weak", "absent"] | None = None
    cigarettes_per_day: int | None = Field(None, ge=0, le=100)
    alcohol_liang_per_day: float | None = Field(None, ge=0, le=50)
    exercise_times_per_week: int | None = Field(None, ge=0, le=21)
    exercise_minutes: int | None = Field(None, ge=0, le=600)
    salt: Literal["light", "moderate", "heavy"] | None = None
    staple_food_g_per_day: int | None = Field(None, ge=0, le=2000)
    psychological: Literal["good", "fair", "poor"] | None = None
    compliance: Literal["good", "fair", "poor"] | None = None
    fasting_glucose_mmol_l: float | None = Field(None, ge=0.5, le=45)
    hba1c_pct: float | None = Field(None, ge=3, le=20)
    adherence: Literal["regular", "intermittent", "none"]
    adverse_reactions: str | None = Field(None, max_length=200)
    hypoglycaemia: Literal["none", "occasional", "frequent"] | None = None
    classification: Literal["satisfactory", "unsatisfactory", "adverse_reaction", "complication"]
    medication: list[Medicine] = Field(default_factory=list, max_length=12)
    referral: Referral | None = None
    next_date: date
    notes: str | None = Field(None, max_length=1000)

    @model_validator(mode="after")
    def _per_specification(self) -> FollowUpIn:
        allowed = SYMPTOMS[self.condition]
        if unknown := [s for s in self.symptoms if s not in allowed]:
            raise ValueError(f"symptoms not on the {self.condition} form: {', '.join(unknown)}")
        if "none" in self.symptoms and len(self.symptoms) > 1:
            raise ValueError("“no symptoms” cannot be ticked together with a symptom")
        if self.condition == "hypertension" and (self.systolic is None or self.diastolic is None):
            raise ValueError("a hypertension follow-up records the blood pressure")
        if self.condition == "diabetes" and self.hypoglycaemia is None:
            raise ValueError("a diabetes follow-up records hypoglycaemic reactions")
        if self.classification == "adverse_reaction" and not self.adverse_reactions:
            raise ValueError("classified as an adverse reaction: describe it")
        if self.classification == "complication" and self.referral is None:
            raise ValueError("a new complication is referred: record the referral")
        if self.next_date <= self.visit_date:
            raise ValueError("the next follow-up must be after this one")
        limit = max_interval(self.classification)
        if (self.next_date - self.visit_date).days > limit:
            raise ValueError(f"{CLASSIFICATION[self.classification]}: the next follow-up is due within {limit} days")
        return self


def max_interval(classification: str) -> int:
    """Days allowed until the next visit: two weeks unless controlled."""
    return REGULAR_DAYS if classification == "satisfactory" else SOON_DAYS


def suggested_next(visit: date, classification: str) -> date:
    """The latest date the specification allows for the next visit."""
    return visit + timedelta(days=max_interval(classification))


def needs_referral(previous_classification: str | None, form: FollowUpIn) -> bool:
    """Twice in a row not controlled (or an adverse reaction) means referral (规范: 连续两次…转诊)."""
    poor = ("unsatisfactory", "adverse_reaction")
    return form.classification in poor and previous_classification in poor


def conditions_of(recorded: list[str]) -> list[str]:
    """Which managed conditions a resident's recorded conditions name."""
    text = " ".join(map(str, recorded)).lower()
    return [c for c, (_, words) in CONDITIONS.items() if any(w in text for w in words)]


@dataclass(frozen=True)
class Due:
    """One resident's next follow-up for one condition."""

    resident_id: int
    condition: str
    doctor: str | None  # who recorded the last visit; None: never followed up
    last_visit: date | None
    due: date
    overdue_days: int
    face_to_face_last_year: int

    @property
    def too_few_visits(self) -> bool:
        """Fewer than four face-to-face visits in the last year."""
        return self.face_to_face_last_year < VISITS_PER_YEAR


def due(resident_id: int, condition: str, visits: list[tuple[date, str, str, date]], today: date) -> Due:
    """From (visit date, mode, doctor, next date) of one resident and condition: when the next is due.
    Never followed up: due today."""
    year_ago = today - timedelta(days=365)
    f2f = sum(1 for v, mode, _, _ in visits if mode in FACE_TO_FACE and year_ago < v <= today)
    if not visits:
        return Due(resident_id, condition, None, None, today, 0, f2f)
    last = max(visits, key=lambda v: v[0])
    return Due(resident_id, condition, last[2], last[0], last[3], max(0, (today - last[3]).days), f2f)
