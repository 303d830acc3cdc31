"""The care package's errors, translated to HTTP answers at the routes."""

from __future__ import annotations

from server.errors import ServerError


class CareError(ServerError):
    """Something about a resident's care record that cannot be done."""


class UnknownResident(CareError):
    """No resident has this code."""


class InvalidRecord(CareError):
    """Input that breaks a rule of the record (an assessment item out of range, a category without a reason)."""
