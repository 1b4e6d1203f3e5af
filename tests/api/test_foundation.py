"""The foundation: health, auth and roles, the error body, the OpenAPI document."""

from __future__ import annotations

import re

import jwt
import pytest
from openapi_spec_validator import validate

from app import app
from chalicelib.openapi import document


def test_health_answers(api):
    status, body = api("GET", "/health")
    assert status == 200
    assert body["status"] == "ok"


def test_no_token_is_401_with_contract_body(api):
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", {"Content-Type": "application/json"}, {})
    assert status == 401
    assert body["code"] == "UNAUTHORIZED"
    assert body["message"]


def test_forged_token_is_401(api):
    forged = jwt.encode(
        {"sub": "x", "groups": ["backoffice"]}, "not-the-secret-at-all-but-long-enough", algorithm="HS256"
    )
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", {"Authorization": f"Bearer {forged}"}, {})
    assert status == 401
    assert body["code"] == "INVALID_TOKEN"


def test_wrong_role_is_403(api, auth):
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", auth("m-1"), {})
    assert status == 403
    assert body["code"] == "FORBIDDEN"
    status, _ = api("POST", "/backoffice/jobs/nightly_loyalty/runs", auth("pos-1", "pos"), {})
    assert status == 403


def test_malformed_json_is_400(api, auth):
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", auth("bo", "backoffice"), b"{not json")
    assert status == 400
    assert body["code"] == "MALFORMED_JSON"


def test_unknown_field_is_400_naming_it(api, auth):
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", auth("bo", "backoffice"), {"when": "x"})
    assert status == 400
    assert body["code"] == "INVALID_REQUEST"
    assert body["details"]["errors"][0]["field"] == "when"


def test_backoffice_runs_a_job_but_not_in_the_future(api, auth):
    headers = auth("bo", "backoffice")
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", headers, {"as_of": "2017-09-01"})
    assert status == 202
    assert (body["as_of"], body["status"]) == ("2017-09-01", "running")
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", headers, {"as_of": "2999-01-01"})
    assert (status, body["code"]) == (422, "AS_OF_IN_FUTURE")
    status, body = api("POST", "/backoffice/jobs/nope/runs", headers, {})
    assert (status, body["code"]) == (404, "JOB_NOT_FOUND")


def _app_routes() -> set[tuple[str, str]]:
    return {(path, method.lower()) for path, methods in app.routes.items() for method in methods}


def test_openapi_document_is_valid_and_lists_every_route(api):
    status, doc = api("GET", "/openapi.json")
    assert status == 200
    validate(doc)
    documented = {(path, method) for path, ops in doc["paths"].items() for method in ops if method != "parameters"}
    assert documented == _app_routes()


@pytest.mark.parametrize("path", sorted({p for p, _ in _app_routes()}))
def test_every_documented_path_uses_the_apps_parameter_names(path):
    assert path in document()["paths"], path
    assert set(re.findall(r"{(\w+)}", path)) <= {
        p["name"] for op in document()["paths"][path].values() if isinstance(op, dict) for p in op.get("parameters", [])
    } | set(re.findall(r"{(\w+)}", path))


def test_cors_headers_on_answers_and_on_errors(client, auth):
    """Browsers (webshop, app) read the error bodies too, so 401/403/4xx carry CORS headers."""
    for headers in ({}, auth("m-1")):
        response = client.http.post("/backoffice/jobs/nightly_loyalty/runs", headers=headers, body=b"{}")
        assert response.status_code in (401, 403)
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Idempotency-Key" in response.headers["Access-Control-Allow-Headers"]
    assert client.http.get("/health").headers["Access-Control-Allow-Origin"] == "*"
