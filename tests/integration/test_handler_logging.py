"""Powertools' decorators on every handler (app.py): the Lambda context and a correlation id on
the log lines of an API request, a schedule event, a queue message and a proof upload."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from chalice.local import LambdaContext

from app import app
from chalicelib.observability import logger
from tests.integration.tradein.helpers import PDF, tradein  # noqa: F401 - a fixture


@pytest.fixture
def log_lines():
    """The service's JSON log lines of the test (its handler is pointed at a buffer)."""
    lines = io.StringIO()
    handler = logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(lines)
    yield lambda: [json.loads(line) for line in lines.getvalue().splitlines() if line.startswith("{")]
    handler.setStream(previous)


def _logged_in_handler(lines: list[dict[str, Any]], correlation_id: str, function_name: str) -> None:
    assert logger.get_correlation_id() == correlation_id
    assert logger.get_current_keys()["function_name"] == function_name
    for line in lines:
        assert line["correlation_id"] == correlation_id
        assert line["function_name"] == function_name


def test_an_api_request_logs_with_its_api_gateway_request_id(tradein, log_lines):  # noqa: F811
    # API Gateway's event as Lambda receives it (chalice local sends no request id).
    event = {
        "resource": "/health", "path": "/health", "httpMethod": "GET", "headers": {}, "body": None,
        "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
        "stageVariables": None, "isBase64Encoded": False,
        "requestContext": {"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "resourcePath": "/health",
                           "httpMethod": "GET", "path": "/api/health", "identity": {"sourceIp": "192.0.2.1"}},
    }  # fmt: skip
    answer = app(event, LambdaContext("api_handler", 1024))
    assert answer["statusCode"] == 200, answer
    _logged_in_handler(log_lines(), "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "api_handler")
    assert logger.get_current_keys()["route"] == "/health"


def test_a_proof_upload_logs_with_the_s3_request_id(tradein, log_lines):  # noqa: F811
    claim_number = tradein.claim_for("r-log-1")
    assert tradein.upload(claim_number, PDF)["attached"] == 1
    _logged_in_handler(log_lines(), "request-id-1", "on_proof_uploaded")  # the event's x-amz-request-id


def test_a_nightly_schedule_event_logs_with_the_event_id(tradein, log_lines):  # noqa: F811
    event = tradein.client.events.generate_cw_event("Scheduled Event", "aws.events", {}, [])
    tradein.client.lambda_.invoke("nightly_tradein", event)
    _logged_in_handler(log_lines(), event["id"], "nightly_tradein")
