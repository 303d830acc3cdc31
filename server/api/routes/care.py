"""The care record under /api/v1: profiles, assessments, helpers, contacts, and what is owed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from sqlalchemy.orm import Session

from server.api.deps import ServicesDep, permit
from server.auth import StaffIdentity
from server.care import (
    assessments,
    audit,
    contacts,
    fhir,
    pairing,
    plans,
    profile,
    queue,
    search,
)
from server.care.context import care_config
from server.care.errors import InvalidRecord, UnknownResident
from server.care.schemas import (
    AssessmentIn,
    AssessmentOut,
    ChangeOut,
    ContactIn,
    ContactOut,
    DueOut,
    HelperPlanIn,
    HelperPlanOut,
    ProfileIn,
    ProfileOut,
)
from server.db.models import Resident
from server.services import Services

router = APIRouter(tags=["care record"])
# Every access check of this module is one of these two (the permission table replaces them at merge).
Reader = Annotated[StaffIdentity, Depends(permit("service_record.read"))]
Writer = Annotated[StaffIdentity, Depends(permit("service_record.write"))]
Code = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


@contextmanager
def _tx(services: Services) -> Iterator[Session]:
    """A transaction whose care errors become HTTP answers (404 unknown resident, 422 bad record)."""
    try:
        with services.sessions() as s, s.begin():
            yield s
    except UnknownResident as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except InvalidRecord as exc:
        raise HTTPException(422, detail=str(exc)) from exc


def _read(services: Services, s: Session, resident: Resident, who: StaffIdentity) -> ProfileOut:
    cfg = care_config(services.settings)
    now = services.clock()
    audit.record(s, who.username, "profile_read", resident.id, now)
    return profile.read(s, resident, plans.local_date(now), cfg.advanced_age, cfg.intervals)


@router.get("/residents/{code}/profile", response_model=ProfileOut)
def get_profile(code: Code, services: ServicesDep, who: Reader) -> ProfileOut:
    """The resident's profile with derived categories and plan (the read is audited)."""
    with _tx(services) as s:
        return _read(services, s, profile.resident_by_code(s, code), who)


@router.put("/residents/{code}/profile", response_model=ProfileOut)
def put_profile(code: Code, body: ProfileIn, services: ServicesDep, who: Writer) -> ProfileOut:
    """Create or replace the profile; each changed field is kept in the history."""
    with _tx(services) as s:
        resident = profile.save(
            s, code, body, who.username, services.clock(), care_config(services.settings).advanced_age
        )
        s.flush()
        return _read(services, s, resident, who)


@router.get("/residents/{code}/profile/history", response_model=list[ChangeOut])
def get_history(code: Code, services: ServicesDep, who: Reader) -> list[ChangeOut]:
    """Who changed which field when, newest first."""
    with _tx(services) as s:
        resident = profile.resident_by_code(s, code)
        audit.record(s, who.username, "history_read", resident.id, services.clock())
        return profile.history(s, resident)


@router.get("/residents/{code}/assessments", response_model=list[AssessmentOut])
def get_assessments(code: Code, services: ServicesDep, who: Reader) -> list[Any]:
    """Every ability assessment, newest first."""
    with _tx(services) as s:
        resident = profile.resident_by_code(s, code)
        audit.record(s, who.username, "assessments_read", resident.id, services.clock())
        return [AssessmentOut.model_validate(a) for a in assessments.all_for(s, resident.id)]


@router.post("/residents/{code}/assessments", response_model=AssessmentOut, status_code=201)
def post_assessment(code: Code, body: AssessmentIn, services: ServicesDep, who: Writer) -> AssessmentOut:
    """Score and keep an assessment (GB/T 42195-2022); its grade feeds the categories."""
    with _tx(services) as s:
        resident = profile.resident_by_code(s, code)
        row = assessments.record_assessment(
            s, resident, body, who.username, services.clock(), care_config(services.settings).advanced_age
        )
        return AssessmentOut.model_validate(row)


@router.get("/residents/{code}/assessments/{assessment_id}/fhir")
def get_assessment_fhir(
    code: Code, assessment_id: Annotated[int, Path(ge=1, le=2**31 - 1)], services: ServicesDep, who: Reader
) -> dict[str, Any]:
    """One assessment as a FHIR R4 QuestionnaireResponse."""
    with _tx(services) as s:
        resident = profile.resident_by_code(s, code)
        row = next((a for a in assessments.all_for(s, resident.id) if a.id == assessment_id), None)
        if row is None:
            raise HTTPException(404, detail=f"{code} has no assessment {assessment_id}")
        audit.record(s, who.username, "assessment_exported", resident.id, services.clock(), assessment=row.id)
        return fhir.response(resident, row)


@router.get("/care/questionnaire")
def get_questionnaire(_who: Reader) -> dict[str, Any]:
    """The assessment form as a FHIR R4 Questionnaire."""
    return fhir.questionnaire()


def _plans_out(services: Services, s: Session, resident: Resident) -> list[HelperPlanOut]:
    cfg = care_config(services.settings)
    owed = {
        d.helper_code: d
        for d in queue.due(s, services.clock(), cfg.followup_hours)
        if d.kind == "plan" and d.resident_code == resident.code
    }
    base = services.settings.base_url
    return [
        HelperPlanOut(
            helper_code=h.code,
            name=h.name,
            phone=h.phone,
            role=h.role,
            rrule=p.rrule,
            starts_on=p.starts_on,
            channel=p.channel,
            next_due=owed[h.code].due if h.code in owed else None,
            overdue=owed[h.code].overdue if h.code in owed else False,
            link=f"{base}/h/{cfg.links.sign(h.id)}",
        )
        for p, h in pairing.plans_of_resident(s, resident.id)
    ]


@router.get("/residents/{code}/helpers", response_model=list[HelperPlanOut])
def get_helpers(code: Code, services: ServicesDep, _who: Reader) -> list[HelperPlanOut]:
    """The resident's helpers, each with plan, next due date and their page's signed link."""
    with _tx(services) as s:
        return _plans_out(services, s, profile.resident_by_code(s, code))


@router.post("/residents/{code}/helpers", response_model=list[HelperPlanOut], status_code=201)
def post_helper(code: Code, body: HelperPlanIn, services: ServicesDep, who: Writer) -> list[HelperPlanOut]:
    """Pair a helper (new or known) with the resident; the plan defaults from the categories."""
    with _tx(services) as s:
        resident = profile.resident_by_code(s, code)
        pairing.pair(s, resident, body, who.username, services.clock())
        return _plans_out(services, s, resident)


@router.get("/residents/{code}/contacts", response_model=list[ContactOut])
def get_contacts(
    code: Code, services: ServicesDep, who: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> list[Any]:
    """The contact log, newest first."""
    with _tx(services) as s:
        resident = profile.resident_by_code(s, code)
        audit.record(s, who.username, "contacts_read", resident.id, services.clock())
        return [ContactOut.model_validate(c) for c in contacts.history(s, resident.id, limit)]


@router.post("/residents/{code}/contacts", response_model=ContactOut, status_code=201)
def post_contact(code: Code, body: ContactIn, services: ServicesDep, who: Writer) -> ContactOut:
    """Record a visit or call."""
    with _tx(services) as s:
        resident = profile.resident_by_code(s, code)
        return ContactOut.model_validate(contacts.log_contact(s, resident, body, who.display_name, services.clock()))


@router.get("/contacts/overdue", response_model=list[DueOut])
def get_overdue(services: ServicesDep, _who: Reader) -> list[DueOut]:
    """The coordinator's queue: planned contacts past their date and follow-up visits past due."""
    with _tx(services) as s:
        return [d for d in queue.due(s, services.clock(), care_config(services.settings).followup_hours) if d.overdue]


@router.get("/contacts/due", response_model=list[DueOut])
def get_due(services: ServicesDep, _who: Reader) -> list[DueOut]:
    """Everything owed, soonest first (the next planned date of every plan, and follow-ups)."""
    with _tx(services) as s:
        return queue.due(s, services.clock(), care_config(services.settings).followup_hours)


@router.get("/care/coverage")
def get_coverage(services: ServicesDep, _who: Reader) -> list[dict[str, Any]]:
    """Per category: residents, how many were reached within their plan's interval, and the share."""
    with _tx(services) as s:
        return [
            {"category": c.category, "residents": c.residents, "reached": c.reached, "share": round(c.share, 3)}
            for c in queue.coverage(s, services.clock(), care_config(services.settings).intervals)
        ]


@router.get("/care/residents")
def find_residents(
    services: ServicesDep,
    _who: Reader,
    q: Annotated[str | None, Query(max_length=64)] = None,
    district: Annotated[str | None, Query(max_length=64)] = None,
    category: Annotated[str | None, Query(max_length=16)] = None,
    age: Annotated[str | None, Query(pattern=r"^(60-69|70-79|80-89|90\+)$")] = None,
    grade: Annotated[str | None, Query(max_length=16)] = None,
    overdue: bool = False,
) -> list[dict[str, Any]]:
    """Search residents by text, district, category, age band, assessment grade and overdue contact."""
    with _tx(services) as s:
        now = services.clock()
        late = {d.resident_code for d in queue.due(s, now, care_config(services.settings).followup_hours) if d.overdue}
        rows = search.find(s, search.Filters(q, district, category, age, grade, overdue), plans.local_date(now), late)
        return [asdict(r) for r in rows]
