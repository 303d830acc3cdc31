"""Schemathesis against the OpenAPI schema: whatever a client sends — alone, in linked sequences, or the edge
values that once found 500s — the server answers without a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from anxin import protocol
from server.api.app import create_app
from server.db.session import create_schema, make_engine, session_factory
from server.links import LinkSigner
from server.provision import import_file
from server.services import Services
from server.settings import ServerSettings
from tests.unit.server.conftest import DEMO_STAFF, EXAMPLE, login

SESSION_ENDING = ("/api/v1/auth/logout", "/api/v1/auth/password", "/api/v1/staff/", "/api/v1/data-rights/")
# The values that made the server answer 500 before issue 15: dates no period can be built around, and a
# rules version beyond the database column.
EDGE_DATES = ("9999-12-31", "0001-01-01")
EDGE_VERSION = 10**23


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, dict[str, str]]]:
    """One app for the whole run (the database keeps whatever the fuzzer did), and an admin's token."""
    path: Path = tmp_path_factory.mktemp("fuzz")
    settings_ = ServerSettings(database_url=f"sqlite:///{path}/fuzz.db", secret_key="fuzz", embedded_broker=False)
    engine = make_engine(settings_.database_url)
    create_schema(engine)
    sessions = session_factory(engine)
    with sessions() as s, s.begin():
        import_file(s, EXAMPLE)
        import_file(s, DEMO_STAFF)
    sent: list[protocol.Command] = []
    app = create_app(Services(settings_, sessions, LinkSigner("fuzz", 60), None, lambda g, c: sent.append(c)))
    with TestClient(app) as c:
        headers = login(c, "admin")
    yield app, headers
    engine.dispose()


@pytest.fixture(scope="module")
def api_schema(fuzz_app: tuple[object, dict[str, str]]) -> schemathesis.BaseSchema:
    """The live OpenAPI schema of the app."""
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app[0])


def test_no_request_makes_the_server_fail(
    api_schema: schemathesis.BaseSchema, fuzz_app: tuple[object, dict[str, str]]
) -> None:
    # Driven by hand rather than through schemathesis' pytest plugin, which this pytest does not load.
    # Signing out, changing passwords and disabling accounts end the fuzzer's own session (then every later
    # case would only test the 401) and an erasure empties the example: tests/unit/server/test_security.py covers them.
    operations = [
        op
        for op in (result.ok() for result in api_schema.get_all_operations())
        if not op.path.startswith(SESSION_ENDING)
    ]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def no_5xx(case: schemathesis.Case) -> None:
            response = case.call(headers=fuzz_app[1])
            case.validate_response(response, checks=[not_a_server_error])

        no_5xx()


def test_linked_sequences_of_requests_never_fail(
    api_schema: schemathesis.BaseSchema, fuzz_app: tuple[object, dict[str, str]]
) -> None:
    # Stateful: schemathesis links operations by what one returns and the next takes (an alarm id from the
    # list, then its ack, notes, resolve; a gateway id, then its rules and mode; …).
    schema = api_schema.exclude(path_regex="^(" + "|".join(SESSION_ENDING) + ")")
    workflow = schema.as_state_machine()
    headers = fuzz_app[1]

    class Signed(workflow):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"headers": headers}

        def validate_response(
            self, response: object, case: schemathesis.Case, additional_checks: object = None, **kwargs: object
        ) -> None:
            case.validate_response(response, checks=[not_a_server_error])

    Signed.run(
        settings=settings(
            max_examples=40,
            stateful_step_count=6,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )


def test_the_edge_values_that_found_500s_never_fail(
    api_schema: schemathesis.BaseSchema, fuzz_app: tuple[object, dict[str, str]]
) -> None:
    # Every operation taking `until` gets the edge dates (a filter may answer 200 with nothing; a period that
    # cannot exist is a 422 — tests/unit/trends/test_edge_values.py); every body with a `version`, 10^23.
    app, headers = fuzz_app
    tried = 0
    with TestClient(app) as client:  # type: ignore[arg-type]
        for operation in (result.ok() for result in api_schema.get_all_operations()):
            path = operation.path.replace("{code}", "R001").replace("{gateway_id}", "gw-r001")
            if any(p.name == "until" for p in operation.query):
                for until in EDGE_DATES:
                    r = client.request(operation.method.upper(), path, params={"until": until}, headers=headers)
                    assert r.status_code < 500, (path, until, r.status_code, r.text[:200])
                    tried += 1
            body = operation.definition.raw.get("requestBody", {})
            if "version" in str(body):
                r = client.request(
                    operation.method.upper(), path, headers=headers, json={"version": EDGE_VERSION, "rules": {}}
                )
                assert r.status_code == 422, (path, r.status_code, r.text[:200])
                tried += 1
    assert tried >= 2 * 3 + 1, "the trends routes with `until` and the rules push are all covered"
