"""Rules configuration of a gateway: push a version, see what it runs; switch away mode."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from anxin.rules_document import RulesConfigError, parse_rules
from server import audit, rules_push
from server.api.deps import CurrentStaff, ServicesDep, SessionDep, actor_of, forbidden, permit
from server.auth import StaffIdentity
from server.db.models import Gateway
from server.errors import Conflict, NotFound
from server.permissions import allowed

# What a home watches for is changed by signed-in staff only (doctors set blood-pressure limits too).
router = APIRouter(prefix="/gateways", tags=["rules"], dependencies=[Depends(permit("rules.read"))])


class RulesIn(BaseModel):
    """A versioned rules document (format: docs/rules.md)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(
        ge=1, le=2**31 - 1, description="Increases with every change; the gateway refuses older versions"
    )
    rules: dict[str, Any] = Field(default_factory=dict)
    reason: str | None = Field(
        default=None,
        max_length=500,
        description="why; required when the document disables a rule (supervisor/admin only)",
    )


class RulesStatusOut(BaseModel):
    """What was sent and what the gateway says it runs."""

    gateway_id: str
    pushed_version: int | None
    applied_version: int | None
    error: str | None


class ModeIn(BaseModel):
    """Away mode of a home."""

    away: bool
    reason: str | None = Field(default=None, max_length=500, description="why; required to switch away mode on")


def _status(gw: Gateway) -> RulesStatusOut:
    return RulesStatusOut(
        gateway_id=gw.id, pushed_version=gw.rules_pushed_version, applied_version=gw.rules_version, error=gw.rules_error
    )


def _safety_role(staff: StaffIdentity) -> None:
    """Switching protection off is for supervisors and administrators."""
    if not allowed(staff.role, "rules.safety"):
        raise forbidden(staff, "rules.safety")


def _reason(reason: str | None, what: str) -> None:
    """... and they say why."""
    if not (reason and reason.strip()):
        raise HTTPException(422, detail=f"{what} needs a reason (the audit keeps it)")


def disabled_rules(rules: dict[str, Any]) -> list[str]:
    """The rules a document switches off."""
    return sorted(name for name, conf in rules.items() if isinstance(conf, dict) and conf.get("enabled") is False)


@router.post("/{gateway_id}/rules", response_model=RulesStatusOut, status_code=202)
def push(
    gateway_id: str, body: RulesIn, services: ServicesDep, staff: CurrentStaff, request: Request
) -> RulesStatusOut:
    """Validate and send a rules configuration; the gateway reports back when it has applied it."""
    if not allowed(staff.role, "rules.push"):
        raise forbidden(staff, "rules.push")
    off = disabled_rules(body.rules)
    if off:
        _safety_role(staff)
        try:  # a document the gateway would refuse says why first (e.g. the SOS rule cannot be disabled)
            parse_rules(body.rules)
        except RulesConfigError as exc:
            raise HTTPException(422, detail=str(exc)) from exc
        _reason(body.reason, f"disabling {', '.join(off)}")
    try:
        gw = rules_push.push_rules(services, gateway_id, body.version, body.rules)
        with services.sessions() as s, s.begin():
            audit.record(
                s,
                actor_of(request, staff),
                "rules.push",
                services.clock(),
                "gateway",
                gateway_id,
                after={"version": body.version, "rules": body.rules, "disabled": off},
                reason=body.reason,
            )
        return _status(gw)
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
def mode(
    gateway_id: str, body: ModeIn, services: ServicesDep, staff: CurrentStaff, request: Request
) -> dict[str, bool]:
    """Set (supervisors and administrators, with a reason) or end away mode in the home."""
    if body.away:
        _safety_role(staff)
        _reason(body.reason, "away mode (no inactivity or check-in alerts)")
    elif not allowed(staff.role, "rules.push"):
        raise forbidden(staff, "rules.push")
    try:
        rules_push.send_mode(services, gateway_id, body.away)
    except NotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    with services.sessions() as s, s.begin():
        audit.record(
            s,
            actor_of(request, staff),
            "rules.away_mode",
            services.clock(),
            "gateway",
            gateway_id,
            after={"away": body.away},
            reason=body.reason,
        )
    return {"away": body.away}
