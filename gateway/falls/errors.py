"""Errors of the fall detector package."""

from __future__ import annotations

from gateway.errors import GatewayError


class FallsError(GatewayError):
    """Base of the fall detector's errors."""


class RecordingError(FallsError):
    """A recording file that cannot be read; carries the path and the reason."""


class StreamError(FallsError):
    """Acceleration samples that cannot be used (wrong shape, not finite, time going backwards)."""


class FitError(FallsError):
    """The offline fitting cannot run (scikit-learn missing, no falls to learn from)."""
