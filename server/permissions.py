"""Who may do what, stated once: the role → action table the API and the pages both ask."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from server.errors import ServerError

ROLES = ("staff", "supervisor", "doctor", "admin", "coordinator", "helper")


class Forbidden(ServerError):
    """The signed-in role may not do this."""


# One line per action. Adding a role or an action is one edit here (and a line in docs/operations.md).
# `helper` sees only the residents assigned to them: the routes for that filter by assignment as well.
_TABLE: dict[str, frozenset[str]] = {
    # the duty desk
    "console.use": frozenset({"staff", "supervisor", "admin"}),
    "alarm.work": frozenset({"staff", "supervisor", "admin"}),
    "alarm.audit.read": frozenset({"staff", "supervisor", "admin"}),
    "gateway.read": frozenset({"staff", "supervisor", "admin"}),
    "gateway.test_alarm": frozenset({"staff", "supervisor", "admin"}),
    "fleet.read": frozenset({"supervisor", "admin"}),
    "coverage.read": frozenset({"staff", "supervisor", "admin", "coordinator"}),
    # residents and their health data
    "resident.read": frozenset({"staff", "supervisor", "doctor", "admin"}),
    "readings.read": frozenset({"staff", "supervisor", "doctor", "admin"}),
    "trends.read": frozenset({"doctor", "admin"}),
    "own_residents.read": frozenset({"helper", "coordinator", "supervisor", "admin"}),
    # the care record (profiles, assessments, helpers, contacts): coordinators run it; the desk and doctors read it
    "service_record.read": frozenset({"coordinator", "staff", "supervisor", "doctor", "admin"}),
    "service_record.write": frozenset({"coordinator", "supervisor", "admin"}),
    # services at home (issue 19): requests from every channel, providers, ratings, the decision figures
    "service_requests.read": frozenset({"coordinator", "staff", "supervisor", "admin"}),
    "service_requests.write": frozenset({"coordinator", "staff", "supervisor", "admin"}),
    "providers.write": frozenset({"coordinator", "supervisor", "admin"}),
    "evaluations.write": frozenset({"coordinator", "staff", "supervisor", "admin"}),
    "evaluations.follow_up": frozenset({"supervisor", "admin"}),
    "figures.read": frozenset({"coordinator", "supervisor", "admin"}),
    "activities.write": frozenset({"coordinator", "supervisor", "admin"}),
    "notices.write": frozenset({"coordinator", "supervisor", "admin"}),
    # administration of homes: who is called, and how
    "resident.write": frozenset({"supervisor", "admin"}),
    "pairing.read": frozenset({"staff", "supervisor", "admin"}),
    "pairing.write": frozenset({"admin"}),
    "channels.write": frozenset({"admin"}),
    "gateway.write": frozenset({"admin"}),
    # what a home watches for: thresholds by clinicians, switching safety off only by supervisors (with a reason)
    "rules.read": frozenset({"staff", "supervisor", "doctor", "admin"}),
    "rules.push": frozenset({"staff", "supervisor", "doctor", "admin"}),
    "rules.safety": frozenset({"supervisor", "admin"}),
    # medication and measurement reminders spoken at home: doctors and coordinators set them
    "reminders.write": frozenset({"doctor", "coordinator", "supervisor", "admin"}),
    # accounts, the audit, personal-data rights
    "staff.manage": frozenset({"admin"}),
    "audit.read": frozenset({"admin"}),
    "dead_letters.read": frozenset({"admin"}),
    "data_rights": frozenset({"admin"}),
    "consent.write": frozenset({"supervisor", "admin"}),
}
PERMISSIONS: Mapping[str, frozenset[str]] = MappingProxyType(_TABLE)


def allowed(role: str, action: str) -> bool:
    """Whether this role may do this action (unknown actions are refused to everyone)."""
    return role in PERMISSIONS.get(action, frozenset())


def roles_for(action: str) -> tuple[str, ...]:
    """The roles that may do an action, in the table's role order (for error messages and docs)."""
    granted = PERMISSIONS.get(action, frozenset())
    return tuple(r for r in ROLES if r in granted)


def check(role: str, action: str) -> None:
    """Raise Forbidden, with a sentence naming who may, unless the role may do the action."""
    if not allowed(role, action):
        raise Forbidden(f"{action} needs the role {' or '.join(roles_for(action)) or '(none)'}; you are {role}")


def markdown_table() -> str:
    """The table as Markdown, for docs/operations.md (a test keeps the two the same)."""
    lines = ["| action | " + " | ".join(ROLES) + " |", "|---|" + "---|" * len(ROLES)]
    for action, granted in PERMISSIONS.items():
        lines.append(f"| `{action}` | " + " | ".join("✓" if r in granted else "" for r in ROLES) + " |")
    return "\n".join(lines)
