"""`anxin-server import FILE`: residents, caregivers, gateways and devices from YAML (upsert by code)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from anxin.phone import normalise_phone
from server.auth import AuthError, upsert_staff
from server.db.models import Caregiver, Device, DutyShift, Gateway, Pairing, Resident
from server.errors import ProvisionError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Written once in E.164 whatever the file says (`+86 139 0013 9000` -> `+8613900139000`); numbers
# without a country code are Chinese; what cannot be a number is refused with the file.
PhoneNumber = Annotated[str, AfterValidator(normalise_phone)]


class CaregiverIn(_Strict):
    """A caregiver; `notify` lists apprise URLs tried for them."""

    code: str
    name: str
    phone: PhoneNumber | None = None
    relation: str | None = None
    language: str = "zh-CN"
    notify: list[str] = Field(default_factory=list)


class PairingIn(_Strict):
    """A caregiver in a resident's escalation order, with how long to wait for their acknowledgement."""

    code: str
    ack_timeout_s: int = Field(default=120, ge=10, le=3600)


class ResidentIn(_Strict):
    """A resident; `caregivers` is the escalation order."""

    code: str
    name: str
    birth_year: int | None = None
    address: str | None = None
    phone: PhoneNumber | None = None
    language: str = "zh-CN"
    key_holder: str | None = None
    care_categories: list[str] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)
    medication: list[str] = Field(default_factory=list)
    bp_target: dict[str, float] = Field(default_factory=dict)
    timezone: str | None = None
    consent: bool = False  # storing health readings (emergency response needs no consent)
    consent_sharing: bool = False  # showing them to doctors and exporting them (needs `consent` too)
    notes: str | None = None
    caregivers: list[str | PairingIn] = Field(default_factory=list)


class DeviceIn(_Strict):
    """A device in a home."""

    name: str
    family: str
    role: str
    model: str | None = None
    room: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    report_interval_s: float | None = None


class GatewayIn(_Strict):
    """A home's gateway."""

    id: str
    resident: str | None = None
    devices: list[DeviceIn] = Field(default_factory=list)


class ShiftIn(_Strict):
    """One duty shift of the roster (times with their zone, e.g. 2026-03-02T08:00:00+08:00)."""

    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _ordered(self) -> ShiftIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("a shift must end after it starts")
        return self


class StaffIn(_Strict):
    """A staff account; `password` is plain text in the example file and hashed on import."""

    username: str = Field(min_length=1, max_length=64)
    display_name: str | None = None
    role: Literal["staff", "supervisor", "doctor", "admin", "coordinator", "helper"] = "staff"
    password: str | None = Field(default=None, min_length=1)
    password_hash: str | None = None
    language: str = "zh-CN"
    phone: PhoneNumber | None = None
    notify: list[str] = Field(default_factory=list)
    shifts: list[ShiftIn] | None = Field(default=None, description="replaces this person's roster when given")


class ProvisionFile(_Strict):
    """The whole file."""

    caregivers: list[CaregiverIn] = Field(default_factory=list)
    residents: list[ResidentIn] = Field(default_factory=list)
    gateways: list[GatewayIn] = Field(default_factory=list)
    staff: list[StaffIn] = Field(default_factory=list)


def load_file(path: Path | str) -> ProvisionFile:
    """Read and validate a provisioning file; raises ProvisionError."""
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return ProvisionFile.model_validate(doc)
    except (OSError, yaml.YAMLError) as exc:
        raise ProvisionError(f"cannot read {path}: {exc}") from exc
    except ValidationError as exc:
        raise ProvisionError(f"{path} is not a valid provisioning file:\n{exc}") from exc


def _by_code(session: Session, model: type[Any], code: str) -> Any:
    return session.scalars(select(model).where(model.code == code)).first()


def apply(session: Session, data: ProvisionFile) -> dict[str, int]:
    """Upsert everything in the file; returns counts. The caller commits."""
    caregivers: dict[str, Caregiver] = {}
    for c in data.caregivers:
        row = _by_code(session, Caregiver, c.code) or Caregiver(code=c.code)
        row.name, row.phone, row.relation, row.language = c.name, c.phone, c.relation, c.language
        row.notify_urls = list(c.notify)
        session.add(row)
        caregivers[c.code] = row
    session.flush()
    residents: dict[str, Resident] = {}
    for r in data.residents:
        row = _by_code(session, Resident, r.code) or Resident(code=r.code)
        for field in (
            "name",
            "birth_year",
            "address",
            "phone",
            "language",
            "key_holder",
            "care_categories",
            "conditions",
            "medication",
            "bp_target",
            "timezone",
            "notes",
        ):
            setattr(row, field, getattr(r, field))
        if (row.consent, row.consent_sharing) != (r.consent, r.consent and r.consent_sharing):
            row.consent, row.consent_sharing = r.consent, r.consent and r.consent_sharing
            row.consent_at = datetime.now(UTC)  # when the file recorded it
        session.add(row)
        session.flush()
        residents[r.code] = row
        for p in list(row.pairings):
            session.delete(p)
        session.flush()
        for rank, item in enumerate(r.caregivers, start=1):
            pairing = item if isinstance(item, PairingIn) else PairingIn(code=item)
            cg = caregivers.get(pairing.code) or _by_code(session, Caregiver, pairing.code)
            if cg is None:
                raise ProvisionError(f"resident {r.code}: unknown caregiver {pairing.code!r}")
            session.add(Pairing(resident_id=row.id, caregiver_id=cg.id, rank=rank, ack_timeout_s=pairing.ack_timeout_s))
    for g in data.gateways:
        row = session.get(Gateway, g.id) or Gateway(id=g.id)
        if g.resident:
            res = residents.get(g.resident) or _by_code(session, Resident, g.resident)
            if res is None:
                raise ProvisionError(f"gateway {g.id}: unknown resident {g.resident!r}")
            row.resident_id = res.id
        session.add(row)
        session.flush()
        for d in g.devices:
            dev = session.scalars(select(Device).where(Device.gateway_id == g.id, Device.name == d.name)).first()
            dev = dev or Device(gateway_id=g.id, name=d.name)
            dev.family, dev.role, dev.model, dev.room = d.family, d.role, d.model, d.room
            session.add(dev)
    for st in data.staff:
        try:
            row = upsert_staff(
                session,
                st.username,
                st.role,
                st.display_name,
                st.password,
                st.password_hash,
                st.language,
                st.phone,
                st.notify,
            )
        except AuthError as exc:
            raise ProvisionError(f"staff {st.username}: {exc}") from exc
        if st.shifts is not None:
            session.execute(delete(DutyShift).where(DutyShift.staff_id == row.id))
            # Stored in UTC: SQLite keeps no offset, so every time in the database must share one zone.
            session.add_all(
                DutyShift(staff_id=row.id, starts_at=sh.starts_at.astimezone(UTC), ends_at=sh.ends_at.astimezone(UTC))
                for sh in st.shifts
            )
    session.flush()
    return {
        "caregivers": len(data.caregivers),
        "residents": len(data.residents),
        "gateways": len(data.gateways),
        "staff": len(data.staff),
    }


def import_file(session: Session, path: Path | str) -> dict[str, int]:
    """Load, validate and apply a file in the caller's transaction."""
    return apply(session, load_file(path))
