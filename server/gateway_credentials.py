"""A gateway's central-broker credentials: made at provisioning, stored hashed, handed out once as YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from server.broker_access import (
    SERVER_USER,
    hash_password,
    mosquitto_acl,
    mosquitto_conf,
    mosquitto_passwords,
    new_password,
)
from server.db.models import Caregiver, Device, Gateway, Pairing, Resident
from server.errors import ServerError


class CredentialsError(ServerError):
    """A gateway id that cannot have broker credentials, or a gateway that does not exist."""


def check_gateway_id(gateway_id: str) -> None:
    """Gateway ids become MQTT usernames and topic levels: plain, short, never the server's."""
    if not gateway_id or len(gateway_id) > 64 or any(c in gateway_id for c in "/+#$: \t\r\n\x00"):
        raise CredentialsError(f"gateway id {gateway_id!r}: 1-64 characters, without / + # $ : or spaces")
    if gateway_id.startswith("anxin-server"):
        raise CredentialsError(f"gateway id {gateway_id!r}: that name belongs to the server")


def issue(session: Session, gateway: Gateway) -> str:
    """A new password for the gateway (the old one stops working); returns it in clear, once."""
    check_gateway_id(gateway.id)
    password = new_password()
    gateway.mqtt_password_hash = hash_password(password)
    return password


def issue_missing(session: Session) -> dict[str, str]:
    """Credentials for every gateway that has none yet (after `anxin-server import`)."""
    return {
        gw.id: issue(session, gw)
        for gw in session.scalars(select(Gateway).where(Gateway.mqtt_password_hash.is_(None)).order_by(Gateway.id))
    }


def revoke(session: Session, gateway_id: str) -> None:
    """The gateway can no longer log in to the broker (its sessions end at the next connect)."""
    gw = session.get(Gateway, gateway_id)
    if gw is None:
        raise CredentialsError(f"no gateway {gateway_id!r}")
    gw.mqtt_password_hash = None


def lookup(sessions: sessionmaker[Session], gateway_id: str) -> str | None:
    """The stored hash of a gateway's password, for the embedded broker."""
    with sessions() as s:
        return s.scalar(select(Gateway.mqtt_password_hash).where(Gateway.id == gateway_id))


def gateway_yaml(session: Session, gateway: Gateway, password: str, host: str, port: int) -> str:
    """The gateway's configuration file: its id, resident, devices, broker credentials and roster."""
    resident = session.get(Resident, gateway.resident_id) if gateway.resident_id else None
    roster = (
        list(
            session.scalars(
                select(Caregiver.name)
                .join(Pairing, Pairing.caregiver_id == Caregiver.id)
                .where(Pairing.resident_id == gateway.resident_id)
                .order_by(Pairing.rank)
            )
        )
        if resident
        else []
    )
    devices = [
        {"name": d.name, "family": d.family, "role": d.role, "model": d.model, "room": d.room}
        for d in session.scalars(select(Device).where(Device.gateway_id == gateway.id).order_by(Device.name))
    ]
    doc: dict[str, Any] = {
        "gateway_id": gateway.id,
        "resident": resident.code if resident else None,
        "central_broker": {"host": host, "port": port, "username": gateway.id, "password": password},
        "roster": roster,
        "devices": [{k: v for k, v in d.items() if v is not None} for d in devices],
    }
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def write_mosquitto(
    session: Session,
    directory: Path,
    server_password: str,
    gateway_port: int = 1883,
    server_port: int = 1884,
    server_bind: str = "127.0.0.1",
    mounted_at: str | None = None,
) -> list[Path]:
    """Mosquitto's password file (every gateway with credentials, and the server), ACL and settings to
    include (`mounted_at`: where the broker sees `directory`, e.g. inside a container)."""
    directory.mkdir(parents=True, exist_ok=True)
    entries = {gw.id: gw.mqtt_password_hash for gw in session.scalars(select(Gateway)) if gw.mqtt_password_hash}
    entries[SERVER_USER] = hash_password(server_password)
    passwd, acl, conf = directory / "passwd", directory / "acl", directory / "anxin.conf"
    passwd.write_text(mosquitto_passwords(entries), encoding="utf-8")
    passwd.chmod(0o600)
    acl.write_text(mosquitto_acl(), encoding="utf-8")
    conf.write_text(
        mosquitto_conf(mounted_at or str(directory.resolve()), gateway_port, server_port, server_bind), encoding="utf-8"
    )
    return [passwd, acl, conf]
