"""Fixtures shared by the gateway's unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from firmware_sim.gsm_modem import SimModem


@pytest.fixture
def modem() -> Iterator[SimModem]:
    """The simulated GSM modem on a real pseudo-terminal."""
    m = SimModem().start()
    yield m
    m.stop()
