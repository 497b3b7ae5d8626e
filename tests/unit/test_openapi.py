"""The OpenAPI document tells the truth: a bearer scheme on every route but /health (no
``Authorization`` parameter), each 4xx with the API's error body ``{"error": {code, message}}``
and the right success status and media types. Schemathesis checks it against a real server in
tests/integration/test_openapi_conformance.py; this reads the document only."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from chatter.api.app import create_app
from chatter.api.keys import KeyRing, Principal
from chatter.services import Services

ERROR_REF = "#/components/schemas/ErrorBody"
KEY = "root-key-0123456789a"


@pytest.fixture
def app_doc(services: Services) -> dict[str, Any]:
    app = create_app(keys=KeyRing({KEY: Principal("root", "admin")}), services=services)
    return app.openapi()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
    ]


def error_refs(response: dict[str, Any]) -> list[str]:
    schema = response["content"]["application/json"]["schema"]
    return [s["$ref"] for s in schema.get("anyOf", [schema])]


def test_a_bearer_scheme_guards_every_route_but_health(app_doc: dict[str, Any]) -> None:
    schemes = app_doc["components"]["securitySchemes"]
    assert list(schemes) == ["bearerAuth"]
    assert (schemes["bearerAuth"]["type"], schemes["bearerAuth"]["scheme"]) == ("http", "bearer")
    for method, path, op in operations(app_doc):
        names = [(p["name"].lower(), p["in"]) for p in op.get("parameters", [])]
        assert ("authorization", "header") not in names, (method, path)
        if path == "/health":
            assert "security" not in op
            assert list(op["responses"]) == ["200"]
        else:
            assert op["security"] == [{"bearerAuth": []}], (method, path)


def test_every_error_is_documented_with_the_error_body(app_doc: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in app_doc["components"]["schemas"]
    error = app_doc["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]
    detail = app_doc["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "message"}
    for method, path, op in operations(app_doc):
        if path == "/health":
            continue
        statuses = {int(s) for s in op["responses"]}
        assert 401 in statuses, (method, path)
        if "requestBody" in op:
            assert {400, 413, 422} <= statuses, (method, path)
        if op.get("parameters"):
            assert 422 in statuses, (method, path)
        for status in statuses - {200, 201, 202}:
            assert 400 <= status < 500, (method, path, status)
            assert ERROR_REF in error_refs(op["responses"][str(status)]), (method, path, status)


def test_statuses_and_media_types_are_the_real_ones(app_doc: dict[str, Any]) -> None:
    paths = app_doc["paths"]
    cancel = paths["/api/v1/workflows/{run_id}/cancel"]["post"]["responses"]
    assert "202" in cancel and "200" not in cancel
    assert {"403", "404", "409"} <= set(cancel)
    execute = paths["/api/v1/workflows/{run_id}/execute"]["post"]["responses"]
    assert "202" in execute and "200" not in execute
    export = paths["/api/v1/chat/sessions/{session_id}/messages/{message_id}/export"]["get"]
    assert set(export["responses"]["200"]["content"]) == {
        "text/csv",
        "application/json",
        "application/vnd.apache.parquet",
    }
    chat = paths["/api/v1/chat/query"]["post"]["responses"]
    assert set(chat["200"]["content"]) == {"application/json", "text/event-stream"}
    assert error_refs(chat["403"]) == [ERROR_REF, "#/components/schemas/ChatResponse"]
    assert "Retry-After" in chat["429"]["headers"]
    metrics = paths["/api/v1/metrics"]["get"]["responses"]["200"]["content"]
    assert set(metrics) == {"application/json", "text/plain"}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic cm9vdDpwdw==", "Token " + KEY, "Bearer wrong-key"],
)
def test_without_a_known_key_the_answer_is_the_api_401(
    services: Services, authorization: str | None
) -> None:
    app = create_app(keys=KeyRing({KEY: Principal("root", "admin")}), services=services)
    headers = {"Authorization": authorization} if authorization is not None else {}
    with TestClient(app) as http:
        response = http.get("/api/v1/workflows", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert set(response.json()["error"]) == {"code", "message"}
    assert response.json()["error"]["code"] == "not_authenticated"


def test_an_unknown_query_parameter_is_refused_naming_the_known_ones(services: Services) -> None:
    app = create_app(keys=KeyRing({KEY: Principal("root", "admin")}), services=services)
    auth = {"Authorization": f"Bearer {KEY}"}
    with TestClient(app) as http:
        typo = http.get("/api/v1/workflows?ofset=10", headers=auth)
        none_taken = http.get("/api/v1/audit/verify?x=1", headers=auth)
        no_key = http.get("/api/v1/workflows?ofset=10")
        known = http.get("/api/v1/workflows?offset=0&limit=5", headers=auth)
    assert typo.status_code == 422
    assert typo.json()["error"]["code"] == "invalid_request"
    assert "ofset: unknown query parameter" in typo.json()["error"]["message"]
    assert "limit, offset" in typo.json()["error"]["message"]
    assert none_taken.status_code == 422
    assert "takes no query parameters" in none_taken.json()["error"]["message"]
    assert no_key.status_code == 401  # the key is checked first
    assert known.status_code == 200


def test_every_guarded_route_documents_the_callers_401_and_422(app_doc: dict[str, Any]) -> None:
    for method, path, op in operations(app_doc):
        if "security" in op:
            assert {"401", "422"} <= set(op["responses"]), (method, path)
            assert ERROR_REF in error_refs(op["responses"]["422"]), (method, path)


def test_an_over_long_header_is_an_unknown_key(services: Services) -> None:
    app = create_app(keys=KeyRing({KEY: Principal("root", "admin")}), services=services)
    with TestClient(app) as http:
        padded = http.get(
            "/api/v1/workflows", headers={"Authorization": f"Bearer {KEY}" + " " * 2000}
        )
        known = http.get("/api/v1/workflows", headers={"Authorization": f"bearer  {KEY} "})
    assert padded.status_code == 401
    assert padded.json()["error"]["message"] == "Unknown API key."
    assert known.status_code == 200
