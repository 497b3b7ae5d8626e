"""Schemathesis against a real `chatter serve` on loopback, bounded: every operation of the
OpenAPI document gets valid and invalid requests as the admin (examples, coverage, fuzzing and
stateful phases), and every check runs on each answer: no server error, documented status
codes, content types, headers and response schemas, invalid data refused, valid data accepted,
the bearer key really enforced, unknown methods answered 405.

It drives schemathesis' engine (what ``st run`` runs): its pytest plugin's ``from_fixture``
does not work under pytest 9 (it writes ``Node._nodeid``), and a schema loaded at import time
could not come from the server under test.

``positive_data_acceptance`` also takes 400: a template, time or step name the schema cannot
spell is refused with 400 and the error body, as documented."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from api_server import Server, key_of, running_server
from schemathesis.checks import load_all_checks
from schemathesis.engine import Status, events, from_schema

pytestmark = [pytest.mark.integration, pytest.mark.slow]
#: The OpenAPI checks register on import (``st run`` imports them); without this only
#: ``not_a_server_error`` would run.
load_all_checks()
#: Every check schemathesis has (``max_response_time`` needs a limit, and is not wanted).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "use_after_free",
    "ensure_resource_availability",
    "missing_required_header",
    "ignored_auth",
    "unsupported_method",
)

#: Examples per operation and phase: enough to reach each parameter, bounded for CI.
MAX_EXAMPLES = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, demo_db: Path) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("openapi") / "home"
    with running_server(home, demo_db) as running:
        yield running


def load_schema(server: Server) -> schemathesis.BaseSchema:
    config = schemathesis.Config.from_dict(
        {
            "seed": 15,
            "base-url": server.url,
            "request-timeout": 60,
            "auth": {"openapi": {"bearerAuth": {"bearer": key_of("root")}}},
            "generation": {"max-examples": MAX_EXAMPLES},
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "400", "401", "403", "404", "409"]
                }
            },
        }
    )
    return schemathesis.openapi.from_url(f"{server.url}/openapi.json", config=config)


def test_the_server_keeps_its_openapi_document(server: Server) -> None:
    failures: set[str] = set()
    errors: list[str] = []
    ran: set[str] = set()
    requests = 0
    started = time.monotonic()
    for event in from_schema(load_schema(server)).execute():
        if isinstance(event, events.ScenarioFinished):
            requests += len(event.recorder.interactions)
            for checks in event.recorder.checks.values():
                for check in checks:
                    ran.add(check.name)
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        failure = check.failure_info.failure
                        failures.add(
                            f"{failure.operation} [{check.name}] {failure}\n"
                            f"{check.failure_info.code_sample}"
                        )
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
    elapsed = time.monotonic() - started
    report = "\n\n".join(sorted(failures) + errors)
    assert not failures and not errors, f"{len(failures)} failures, {len(errors)} errors:\n{report}"
    assert requests > 200, f"only {requests} requests in {elapsed:.0f} s"
    assert set(CHECKS) <= ran, f"checks that never ran: {sorted(set(CHECKS) - ran)}"
    assert not any("Internal error" in line for line in server.stderr)
