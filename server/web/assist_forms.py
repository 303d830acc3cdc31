"""Turning the services pages' forms into the API's models (shared by the console and the signed-link pages)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from server.assist.errors import AssistError
from server.assist.schemas import EvaluationIn, RequestIn
from server.care.plans import LOCAL


def local_time(value: Any) -> datetime | None:
    """A datetime-local field (China Standard Time, as the form shows) as an aware time; empty is None."""
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=LOCAL)
    except ValueError as exc:
        raise AssistError(f"not a time: {text!r}") from exc


def request_from_form(form: Mapping[str, Any], resident_code: str | None = None) -> RequestIn:
    """A RequestIn from the intake form (the resident fixed by a family link, or chosen by staff)."""
    return RequestIn(
        resident_code=resident_code or str(form.get("resident_code", "")).strip(),
        category=str(form.get("category", "")),
        urgency=str(form.get("urgency") or "normal"),
        preferred_at=local_time(form.get("preferred_at")),
        description=str(form.get("description", "")).strip(),
    )


def rating_from_form(form: Mapping[str, Any], rater: str) -> EvaluationIn:
    """An EvaluationIn from a rating form (request_id or alarm_id, score, comment)."""
    ids = {k: int(str(form[k])) for k in ("request_id", "alarm_id") if str(form.get(k) or "").isdigit()}
    return EvaluationIn(
        rater=rater,
        score=int(str(form.get("score") or 0)) if str(form.get("score") or "").isdigit() else 0,
        comment=str(form.get("comment", "")).strip() or None,
        **ids,
    )


def problem(exc: ValidationError | AssistError | ValueError) -> str:
    """A refusal as one readable line."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'form'}: {e['msg']}" for e in exc.errors())
    return str(exc)


def back(url: str, error: str | None = None, done: str | None = None) -> RedirectResponse:
    """Back to a page after a POST, carrying an error or a note of what was done."""
    sep = "&" if "?" in url else "?"
    if error:
        return RedirectResponse(f"{url}{sep}error={quote(error)}", 303)
    return RedirectResponse(f"{url}{sep}done={quote(done or '1')}", 303)
