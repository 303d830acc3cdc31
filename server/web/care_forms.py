"""The coordinator's forms as typed input: pure parsing, shared by the console and the helper's phone page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from server.care import plans
from server.care.categories import STAFF_SET
from server.care.errors import CareError
from server.care.schemas import ContactIn, ProfileIn

LIST_FIELDS = ("family", "key_holders", "conditions", "medication", "allergies", "interests", "skills", "service_needs")


def problem(exc: ValidationError | CareError) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
    return str(exc)


def profile_from_form(form: dict[str, Any]) -> ProfileIn:
    """A ProfileIn from the profile form (text areas one item per line, empty means none)."""
    data: dict[str, Any] = {
        k: (v.strip() or None) if isinstance(v, str) else v
        for k, v in form.items()
        if k in ProfileIn.model_fields and k not in LIST_FIELDS and k != "staff_categories"
    }
    for name in LIST_FIELDS:
        data[name] = [line.strip() for line in str(form.get(name, "")).splitlines() if line.strip()]
    data["language"] = data.get("language") or "zh-CN"
    data["staff_categories"] = {c: str(form.get(f"reason_{c}", "")).strip() for c in STAFF_SET if form.get(f"cat_{c}")}
    return ProfileIn.model_validate(data)


def local_input(value: str | None) -> datetime | None:
    """A datetime-local field's value (China Standard Time) as an aware time; empty means now."""
    if not value:
        return None
    return plans.to_utc(datetime.fromisoformat(value).replace(tzinfo=plans.LOCAL))


def contact_from_form(form: Any) -> ContactIn:
    """A ContactIn from the contact form (shared by the profile page and the helper's phone page)."""
    return ContactIn.model_validate(
        {
            "at": local_input(str(form.get("at") or "")),
            "channel": form.get("channel"),
            "mood": form.get("mood"),
            "health": form.get("health"),
            "living": form.get("living"),
            "hazards": list(form.getlist("hazards")),
            "needs": str(form.get("needs") or "") or None,
            "note": str(form.get("note") or "") or None,
        }
    )
