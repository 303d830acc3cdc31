"""FHIR R4 Questionnaire for the GB/T 42195-2022 assessment, and a QuestionnaireResponse per assessment."""

from __future__ import annotations

from typing import Any

from server.care.standard import DOMAINS, ITEMS
from server.db.models import Resident
from server.db.models_care import Assessment
from server.trends.fhir import _when

CANONICAL = "urn:anxin:questionnaire:gbt-42195-2022"
SCORE_SYSTEM = "urn:anxin:gbt-42195-2022:score"


def questionnaire() -> dict[str, Any]:
    """The form: one group per domain, one choice item per indicator, each option carrying its score."""
    groups = []
    for d in DOMAINS:
        items = []
        for item in d.items:
            options = [
                {
                    "valueCoding": {
                        "system": SCORE_SYSTEM,
                        "code": f"{item.code}={score}",
                        "display": f"{score} {zh} / {en}",
                    },
                    "extension": [
                        {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue", "valueDecimal": score}
                    ],
                }
                for score, zh, en in item.levels
            ]
            items.append(
                {
                    "linkId": item.code,
                    "text": f"{item.zh} / {item.en}",
                    "type": "choice",
                    "required": True,
                    "answerOption": options,
                }
            )
        groups.append({"linkId": d.code, "text": f"{d.zh} / {d.en}", "type": "group", "item": items})
    return {
        "resourceType": "Questionnaire",
        "url": CANONICAL,
        "status": "active",
        "title": "老年人能力评估 (GB/T 42195-2022) / Ability assessment of older people",
        "item": groups,
    }


def response(resident: Resident, assessment: Assessment) -> dict[str, Any]:
    """One assessment as a completed QuestionnaireResponse (the total and grade in a final group)."""
    groups = []
    for d in DOMAINS:
        answers = []
        for item in d.items:
            score = int(assessment.answers[item.code])
            zh, en = next((z, e) for s, z, e in ITEMS[item.code].levels if s == score)
            answers.append(
                {
                    "linkId": item.code,
                    "answer": [
                        {
                            "valueCoding": {
                                "system": SCORE_SYSTEM,
                                "code": f"{item.code}={score}",
                                "display": f"{score} {zh} / {en}",
                            }
                        }
                    ],
                }
            )
        groups.append({"linkId": d.code, "item": answers})
    groups.append(
        {
            "linkId": "result",
            "item": [
                {"linkId": "total", "answer": [{"valueInteger": assessment.total}]},
                {"linkId": "grade", "answer": [{"valueString": assessment.grade}]},
            ],
        }
    )
    return {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": CANONICAL,
        "status": "completed",
        "identifier": {"system": "urn:anxin:assessment", "value": str(assessment.id)},
        "subject": {"identifier": {"system": "urn:anxin:resident", "value": resident.code}, "display": resident.name},
        "authored": _when(assessment.assessed_at),
        "author": {"display": assessment.assessor},
        "item": groups,
    }
