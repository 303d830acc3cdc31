"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from tests.integration.browser import launch
from tests.integration.harness import provision, start_home, start_server


@pytest.fixture
def installation(tmp_path, home_broker, central_broker, receiver):  # type: ignore[no-untyped-def]
    """One provisioned resident, the server and their home on two real Mosquittos; (server, home).

    Tests that need another layout (more homes, other devices) override this fixture in their module.
    """
    server = start_server(tmp_path, central_broker.address)
    provision(server, 1, [receiver.url("/caregiver/{code}")])
    home = start_home(tmp_path, home_broker.address, central_broker.address)
    yield server, home
    home.stop()
    server.stop()


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    """One headless Debian Chromium per test module (the browser tests' pages open their own contexts)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
