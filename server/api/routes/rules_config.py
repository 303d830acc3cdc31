"""Rules configuration of a gateway: push a version, see what it runs; switch away mode."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from server import rules_push
from server.api.deps import ServicesDep, SessionDep, require_roles
from server.db.models import Gateway
from server.errors import Conflict, NotFound

# What a home watches for is changed by signed-in staff only (doctors set blood-pressure limits too).
router = APIRouter(prefix="/gateways", tags=["rules"],
                   dependencies=[Depends(require_roles("staff", "supervisor", "doctor", "admin"))])


class RulesIn(BaseModel):
    """A versioned rules document (format: docs/rules.md)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, description="Increases with every change; the gateway refuses older versions")
    rules: dict[str, Any] = Field(default_factory=dict)


class RulesStatusOut(BaseModel):
    """What was sent and what the gateway says it runs."""

    gateway_id: str
    pushed_version: int | None
    applied_version: int | None
    error: str | None


class ModeIn(BaseModel):
    """Away mode of a home."""

    away: bool


def _status(gw: Gateway) -> RulesStatusOut:
    return RulesStatusOut(gateway_id=gw.id, pushed_version=gw.rules_pushed_version,
                          applied_version=gw.rules_version, error=gw.rules_error)


@router.post("/{gateway_id}/rules", response_model=RulesStatusOut, status_code=202)
def push(gateway_id: str, body: RulesIn, services: ServicesDep) -> RulesStatusOut:
    """Validate and send a rules configuration; the gateway reports back when it has applied it."""
    try:
        return _status(rules_push.push_rules(services, gateway_id, body.version, body.rules))
    except rules_push.InvalidRules as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except Conflict as exc:
        raise HTTPException(409, detail=str(exc)) from exc


@router.get("/{gateway_id}/rules", response_model=RulesStatusOut)
def status(gateway_id: str, session: SessionDep) -> RulesStatusOut:
    """The pushed and the applied version, and the last rejection if any."""
    gw = session.get(Gateway, gateway_id)
    if gw is None:
        raise HTTPException(404, detail=f"no gateway {gateway_id!r}")
    return _status(gw)


@router.post("/{gateway_id}/mode", status_code=202)
def mode(gateway_id: str, body: ModeIn, services: ServicesDep) -> dict[str, bool]:
    """Set or end away mode in the home."""
    try:
        rules_push.send_mode(services, gateway_id, body.away)
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    return {"away": body.away}
