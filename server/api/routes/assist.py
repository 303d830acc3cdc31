"""Services at home under /api/v1: requests and their steps, providers, ratings, the decision figures."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from sqlalchemy.orm import Session

from server.api.deps import RowId, ServicesDep, actor_of, permit
from server.assist import figures, providers, ratings, store
from server.assist.context import assist_config
from server.assist.errors import AssistError, BadStep, NotFound
from server.assist.schemas import EvaluationIn, EvaluationOut, ProviderIn, ProviderOut, RequestIn, RequestOut, StepIn
from server.auth import StaffIdentity
from server.care.context import care_config
from server.db.models_assist import Provider
from server.permissions import allowed
from server.services import Services

router = APIRouter(tags=["services at home"])
Reader = Annotated[StaffIdentity, Depends(permit("service_requests.read"))]
Writer = Annotated[StaffIdentity, Depends(permit("service_requests.write"))]
ProviderWriter = Annotated[StaffIdentity, Depends(permit("providers.write"))]
Rater = Annotated[StaffIdentity, Depends(permit("evaluations.write"))]
Supervisor = Annotated[StaffIdentity, Depends(permit("evaluations.follow_up"))]
FiguresReader = Annotated[StaffIdentity, Depends(permit("figures.read"))]


@contextmanager
def _tx(services: Services) -> Iterator[Session]:
    """A transaction whose errors become answers: 404 unknown, 409 a step not allowed now, 422 bad input."""
    try:
        with services.sessions() as s, s.begin():
            yield s
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except BadStep as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    except AssistError as exc:
        raise HTTPException(422, detail=str(exc)) from exc


def _one(services: Services, s: Session, request_id: int) -> RequestOut:
    return store.one(s, request_id, services.clock(), assist_config(services.settings).sla)


@router.get("/requests", response_model=list[RequestOut])
def get_requests(
    services: ServicesDep,
    _who: Reader,
    status: Annotated[
        Literal["open", "new", "accepted", "assigned", "on_the_way", "done", "cancelled", "overdue"] | None, Query()
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[RequestOut]:
    """Requests newest first, each with its SLA due time; status=open, a status, or overdue (oldest due first)."""
    with _tx(services) as s:
        sla = assist_config(services.settings).sla
        if status == "overdue":
            return store.overdue_queue(s, services.clock(), sla)
        return store.listing(s, services.clock(), sla, status=status, limit=limit)


@router.post("/requests", response_model=RequestOut, status_code=201)
def post_request(body: RequestIn, request: Request, services: ServicesDep, who: Writer) -> RequestOut:
    """Take a request by phone or at the desk (channel staff)."""
    with _tx(services) as s:
        row = store.create(s, body, "staff", actor_of(request, who), services.clock())
        return _one(services, s, row.id)


@router.post("/requests/{request_id}/steps", response_model=RequestOut)
def post_step(request_id: RowId, body: StepIn, request: Request, services: ServicesDep, who: Writer) -> RequestOut:
    """Accept, assign (provider_code), on the way, arrived, done (note) or cancel (note)."""
    with _tx(services) as s:
        provider = store.provider_by_code(s, body.provider_code) if body.provider_code else None
        store.step(s, request_id, body.step, actor_of(request, who), services.clock(), provider, body.note)
        return _one(services, s, request_id)


@router.get("/requests/{request_id}/suggestions")
def get_suggestions(request_id: RowId, services: ServicesDep, _who: Reader) -> list[dict[str, Any]]:
    """Providers for this request, best first, with the parts of their score."""
    with _tx(services) as s:
        codes = {p.id: p.code for p in s.query(Provider)}
        return [
            {
                "provider_code": codes[x.candidate.provider_id],
                "name": x.candidate.name,
                "score": x.score,
                "same_district": x.same_district,
                "load": x.candidate.load,
                "capacity": x.candidate.capacity,
                "rating": x.rating,
            }
            for x in providers.suggest(s, request_id)
        ]


@router.get("/providers", response_model=list[ProviderOut])
def get_providers(services: ServicesDep, who: Reader) -> list[ProviderOut]:
    """Providers and volunteers with load and ratings (their phone page's link for those who manage them)."""
    with _tx(services) as s:
        out = providers.listing(s)
        if allowed(who.role, "providers.write"):
            links, base = assist_config(services.settings).links, services.settings.base_url
            ids = {p.code: p.id for p in s.query(Provider)}
            out = [p.model_copy(update={"link": f"{base}/p/{links.provider(ids[p.code])}"}) for p in out]
        return out


@router.post("/providers", response_model=ProviderOut, status_code=201)
def post_provider(body: ProviderIn, request: Request, services: ServicesDep, who: ProviderWriter) -> ProviderOut:
    """Register (or update by code) an organisation or a volunteer."""
    with _tx(services) as s:
        providers.save(s, body, actor_of(request, who), services.clock())
        return next(p for p in providers.listing(s) if p.code == body.code)


@router.get("/residents/{code}/family-link")
def get_family_link(code: str, services: ServicesDep, _who: Writer) -> dict[str, str]:
    """The signed link a family member uses to ask for services and rate them."""
    with _tx(services) as s:
        resident = store.resident_by_code(s, code)
        token = assist_config(services.settings).links.family(resident.id)
        return {"resident_code": code, "link": f"{services.settings.base_url}/f/{token}"}


@router.get("/evaluations", response_model=list[EvaluationOut])
def get_evaluations(services: ServicesDep, _who: Reader, follow_up: Literal["open"] | None = None) -> list[Any]:
    """Ratings newest first (follow_up=open: the supervisor's list of low ratings)."""
    with _tx(services) as s:
        return [EvaluationOut.model_validate(e) for e in ratings.listing(s, follow_up == "open")]


@router.post("/evaluations", response_model=EvaluationOut, status_code=201)
def post_evaluation(body: EvaluationIn, request: Request, services: ServicesDep, who: Rater) -> EvaluationOut:
    """A resident's rating recorded by staff (a call or a visit), of a done request or a resolved alarm."""
    with _tx(services) as s:
        return EvaluationOut.model_validate(ratings.rate(s, body, actor_of(request, who), services.clock()))


@router.post("/evaluations/{evaluation_id}/close", response_model=EvaluationOut)
def close_follow_up(
    evaluation_id: RowId, body: dict[str, str], request: Request, services: ServicesDep, who: Supervisor
) -> EvaluationOut:
    """The supervisor closes a low rating's follow-up with a note of what was done."""
    with _tx(services) as s:
        row = ratings.close_follow_up(
            s, evaluation_id, str(body.get("note", "")), actor_of(request, who), services.clock()
        )
        return EvaluationOut.model_validate(row)


@router.get("/evaluations/summary")
def get_rating_summary(services: ServicesDep, _who: Reader) -> dict[str, list[dict[str, object]]]:
    """Mean ratings per provider, per staff member and per category."""
    with _tx(services) as s:
        return ratings.summary(s)


@router.get("/figures/overview")
def get_overview(services: ServicesDep, _who: FiguresReader) -> dict[str, Any]:
    """The dashboard's figures as JSON (see docs/services.md for each one's definition)."""
    with _tx(services) as s:
        return figures.overview(
            s, services.clock(), assist_config(services.settings).sla, care_config(services.settings).intervals
        ).as_json()
