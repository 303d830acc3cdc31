"""Gateways: presence, and the remote weekly test alarm."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from sqlalchemy import select

from anxin import protocol
from server import audit
from server.api.deps import ServicesDep, SessionDep, actor_of, permit
from server.api.schemas import CommandOut, GatewayOut
from server.auth import StaffIdentity
from server.db.models import Gateway

log = logging.getLogger(__name__)
router = APIRouter(prefix="/gateways", tags=["gateways"])
Desk = Annotated[StaffIdentity, Depends(permit("gateway.read"))]
Tester = Annotated[StaffIdentity, Depends(permit("gateway.test_alarm"))]
GatewayId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]


@router.get("", response_model=list[GatewayOut])
def list_gateways(session: SessionDep, _who: Desk) -> list[Gateway]:
    """Every gateway with its state (online/offline) and when it was last heard."""
    return list(session.scalars(select(Gateway).order_by(Gateway.id)))


@router.post("/{gateway_id}/test-alarm", response_model=CommandOut, status_code=202)
def test_alarm(gateway_id: GatewayId, services: ServicesDep, request: Request, staff: Tester) -> CommandOut:
    """Ask the home to run its weekly test: it sounds, speaks and sends a `test` alarm back up."""
    with services.sessions() as s, s.begin():
        if s.get(Gateway, gateway_id) is None:
            raise HTTPException(404, detail=f"gateway {gateway_id} does not exist")
    cmd = protocol.Command("test_alarm", {"by": staff.display_name})
    services.downlink(gateway_id, cmd)
    with services.sessions() as s, s.begin():
        audit.record(s, actor_of(request, staff), "gateway.test_alarm", services.clock(), "gateway", gateway_id)
    log.info("test alarm requested for gateway %s by %s", gateway_id, staff.display_name)
    return CommandOut(gateway_id=gateway_id, cmd=cmd.cmd, args=cmd.args)
