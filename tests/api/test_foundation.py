"""The foundation: health, auth and roles, the error body, the OpenAPI document."""

from __future__ import annotations

import json
import os
import re
import time

import jwt
import pytest
from openapi_spec_validator import validate

from app import app
from chalicelib.openapi import document
from tests.integration.tradein.helpers import receipt_body, tradein  # noqa: F401 - a fixture


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
    assert _app_routes() - documented == set(), "routes missing from the document"
    assert documented - _app_routes() == set(), "documented operations without a route"
    operation_ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids)), "operationIds are unique"


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


@pytest.mark.parametrize(
    "claims",
    [{"sub": "bo", "groups": {"backoffice": False}}, {"sub": "bo", "groups": 5}, {"sub": "", "groups": ["backoffice"]}],
)
def test_tokens_with_claims_of_the_wrong_shape_are_401_not_500_or_access(api, claims):
    secret = os.environ["AUTH_DEV_SECRET"]
    token = jwt.encode({**claims, "exp": int(time.time()) + 60}, secret, algorithm="HS256")
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", {"Authorization": f"Bearer {token}"}, {})
    assert (status, body["code"]) == (401, "INVALID_TOKEN")


def _all_roles(auth):
    return auth("bo-1", "member", "pos", "backoffice")


def _body_routes() -> list[tuple[str, str]]:
    return sorted((method, path) for path, method in ((p, m.upper()) for p, m in _app_routes()) if method != "GET")


@pytest.mark.parametrize(("method", "path"), _body_routes())
def test_deeply_nested_json_is_400_on_every_route_with_a_body(api, auth, method, path):
    url = re.sub(r"{\w+}", "X1", path)
    for raw in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 40 + b"1" + b"}" * 40):
        status, body = api(method, url, _all_roles(auth), raw)
        assert 400 <= status < 500, (status, body)
        assert isinstance(body["code"], str) and body["message"]


def test_too_deep_too_large_and_non_numbers_are_refused_with_the_contract_body(api, auth):
    headers = auth("bo", "backoffice")
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", headers, b"[" * 100_000 + b"]" * 100_000)
    assert (status, body["code"]) == (400, "MALFORMED_JSON")
    status, body = api(
        "POST", "/backoffice/jobs/nightly_loyalty/runs", headers, b'{"as_of": "' + b"9" * 2_000_000 + b'"}'
    )
    assert (status, body["code"]) == (413, "REQUEST_TOO_LARGE")
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", headers, b'{"as_of": NaN}')
    assert (status, body["code"]) == (400, "MALFORMED_JSON")


@pytest.mark.parametrize("as_of", ["0001-01-01", "1899-12-31", "9999-12-31"])
def test_job_run_with_an_absurd_as_of_is_400_not_500(api, auth, as_of):
    status, body = api("POST", "/backoffice/jobs/nightly_tradein/runs", auth("bo", "backoffice"), {"as_of": as_of})
    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    assert body["details"]["errors"][0]["field"] == "as_of"


def _receipt(purchased_at: str = "2017-09-01T12:00:00+02:00", **line: object) -> dict[str, object]:
    return receipt_body(purchased_at, **line)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_receipt("9999-12-31T23:59:59+00:00"), "purchased_at"),
        (_receipt("0001-01-01T00:00:00+00:00"), "purchased_at"),
        (_receipt(quantity=10**30), "lines.0.quantity"),
        (_receipt(unit_price_cents=-(10**20)), "lines.0.unit_price_cents"),
    ],
)
def test_far_dates_and_huge_numbers_in_a_receipt_are_400(api, auth, body, field):
    status, answer = api("PUT", "/receipts/R-FAR", auth("pos-1", "pos"), body)
    assert (status, answer["code"]) == (400, "INVALID_REQUEST")
    assert field in [e["field"] for e in answer["details"]["errors"]]


def test_far_returned_at_is_400(api, auth):
    pos = auth("pos-1", "pos")
    status, _ = api("PUT", "/receipts/R-RET", pos, _receipt())
    assert status in (200, 201)
    body = {
        "return_id": "RET-1",
        "returned_at": "9999-12-31T23:00:00+00:00",
        "lines": [{"line_id": "1", "quantity": 1}],
    }
    status, answer = api("POST", "/receipts/R-RET/returns", pos, body)
    assert (status, answer["code"]) == (400, "INVALID_REQUEST")
    assert "returned_at" in [e["field"] for e in answer["details"]["errors"]]


@pytest.mark.parametrize("text", ["Jan\x00", "Jan\x01nes", "Jan\nJansen", "Jan\t", "Jan\x7f", "Jan\x85"])
def test_control_characters_in_any_text_field_are_400_naming_it(api, auth, text):
    base = {"email": "jan@example.nl", "first_name": "Jan", "last_name": "Jansen"}
    base |= {"newsletter": False, "partner_data_sharing": False}
    status, body = api("POST", "/members", auth("m-ctl"), {**base, "first_name": text})
    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    assert body["details"]["errors"] == [
        {"field": "first_name", "problem": "Value error, must not contain control characters"}
    ]
    address = {"street": f"Dam{text}", "house_number": 1, "postcode": "1012 JS", "city": "Amsterdam", "country": "NL"}
    status, body = api("POST", "/members", auth("m-ctl"), {**base, "email": f"j{text}@example.nl", "address": address})
    assert status == 400
    assert {"email", "address.street"} <= {e["field"] for e in body["details"]["errors"]}


def test_control_characters_in_path_and_query_parameters_are_400(api, auth):
    status, body = api("PUT", "/receipts/R\x01-1", auth("pos-1", "pos"), _receipt())
    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    assert body["details"]["errors"][0]["field"] == "path.receipt_id"
    status, body = api("GET", "/members/me/history?cursor=a%01b", auth("m-1"))
    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    assert body["details"]["errors"][0]["field"] == "query.cursor"


def _cors(response) -> None:
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_wrong_content_type_is_415_in_the_contract_body_and_ignored_without_a_body(client, auth):
    headers = {**auth("bo", "backoffice"), "Content-Type": "text/plain"}
    response = client.http.post("/backoffice/jobs/nightly_loyalty/runs", headers=headers, body=b"{}")
    assert response.status_code == 415
    assert json.loads(response.body) == {
        "code": "UNSUPPORTED_MEDIA_TYPE",
        "message": "Unsupported media type: text/plain",
    }
    _cors(response)
    response = client.http.get("/health", headers={"Content-Type": "text/plain"})
    assert response.status_code == 200


def test_wrong_method_is_405_in_the_contract_body(client):
    response = client.http.request("DELETE", "/health", headers={}, body=b"")
    assert response.status_code == 405
    assert json.loads(response.body)["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["Allow"] == "GET"
    _cors(response)


def test_an_unexpected_exception_is_500_internal_with_cors_and_no_personal_data(client, auth, monkeypatch, capfd):
    from chalicelib import ops

    def broken(job, as_of, trigger):
        raise RuntimeError("SES refused jan.jansen@example.nl")

    monkeypatch.setattr(ops.runs, "start", broken)
    response = client.http.post("/backoffice/jobs/nightly_loyalty/runs", headers=auth("bo", "backoffice"), body=b"{}")
    assert response.status_code == 500
    body = json.loads(response.body)
    assert body["code"] == "INTERNAL" and body["message"]
    assert "jan.jansen" not in response.body.decode()
    _cors(response)
    assert "jan.jansen@example.nl" not in capfd.readouterr().out


def test_every_error_the_api_gives_is_documented():
    doc = document()
    responses = doc["components"]["responses"]
    assert {"UnsupportedMediaType", "MethodNotAllowed", "PayloadTooLarge", "Internal"} <= set(responses)
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            assert {"405", "500"} <= set(op["responses"]), (path, method)
            if method in ("post", "put", "patch"):
                assert {"400", "413", "415"} <= set(op["responses"]), (path, method)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"participant": {"birth_date": "9999-12-31"}}, "participant.birth_date"),
        ({"participant": {"birth_date": "0001-01-01"}}, "participant.birth_date"),
        ({"old_device": {"purchased_on": "0001-01-01"}}, "old_device.purchased_on"),
        ({"old_device": {"screen_inches": 10**400}}, "old_device.screen_inches"),
        ({"participant": {"email": "jan\x01@example.nl"}}, "participant.email"),
    ],
)
def test_trade_in_registration_with_far_dates_huge_numbers_or_control_characters_is_400(tradein, changes, field):  # noqa: F811
    tradein.receipt("R-FAR")
    status, body = tradein.register("R-FAR", **changes)
    assert (status, body["code"]) == (400, "INVALID_REQUEST"), body
    assert field in [e["field"] for e in body["details"]["errors"]]


def test_far_received_on_is_400(tradein):  # noqa: F811
    number = tradein.claim_for("R-RCV")
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "9999-12-31"})
    assert (status, body["code"]) == (400, "INVALID_REQUEST")
