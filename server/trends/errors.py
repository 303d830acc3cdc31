"""The trends package's small error tree."""

from __future__ import annotations


class TrendsError(Exception):
    """Base of every error raised by `server.trends`."""


class BadPeriod(TrendsError):
    """A period that ends before it starts, or is longer than we are willing to compute."""


class UnknownTimezone(TrendsError):
    """A resident's time zone that the tz database does not know."""
