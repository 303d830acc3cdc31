"""The care settings the record needs, read once from the server's settings."""

from __future__ import annotations

from dataclasses import dataclass

from server.care.links import HelperLinks
from server.care.plans import Intervals
from server.settings import ServerSettings


@dataclass(frozen=True, slots=True)
class CareConfig:
    """Thresholds and intervals of the care record (see docs/residents.md for their sources)."""

    advanced_age: int
    intervals: Intervals
    followup_hours: int
    links: HelperLinks


def care_config(settings: ServerSettings) -> CareConfig:
    """The care configuration of these settings (no I/O)."""
    return CareConfig(
        settings.care_advanced_age,
        Intervals(
            settings.care_contact_days_high, settings.care_contact_days_priority, settings.care_contact_days_other
        ),
        settings.care_followup_hours,
        HelperLinks(settings.secret_key or "", settings.helper_link_ttl_s),
    )
