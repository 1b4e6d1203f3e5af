"""Shared fixtures: moto-backed AWS per test, provisioned resources, a Chalice client, tokens,
time travel. The `test` stage's environment is applied before the app is first imported, because
PynamoDB fixes table names at import."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
_stage_env = json.loads((ROOT / ".chalice" / "config.json").read_text())
os.environ.update(_stage_env.get("environment_variables", {}))
os.environ.update(_stage_env["stages"]["test"]["environment_variables"])
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

import time_machine  # noqa: E402
from chalice.test import Client  # noqa: E402
from moto import mock_aws  # noqa: E402

from app import app  # noqa: E402
from chalicelib.auth import mint_dev_token  # noqa: E402
from chalicelib.clock import AMSTERDAM  # noqa: E402
from chalicelib.provision import provision  # noqa: E402
from chalicelib.tables import reset_connections  # noqa: E402


@pytest.fixture
def aws() -> Iterator[None]:
    """In-process moto for one test, with every table, the bucket and the SES identity."""
    # Clients made after moto's import are intercepted whenever a mock is active, so they are
    # kept across tests (making them costs more than a test); only endpoint switches reset them.
    with mock_aws():
        provision()
        yield


@pytest.fixture
def client(aws: None) -> Iterator[Client]:
    with Client(app, stage_name="test") as chalice_client:
        yield chalice_client


@pytest.fixture
def token() -> Callable[..., str]:
    """token("m-1") for a member, token("pos-1", "pos") for a store system."""

    def make(subject: str, *groups: str) -> str:
        return mint_dev_token(subject, list(groups) or None, secret=os.environ["AUTH_DEV_SECRET"])

    return make


@pytest.fixture
def auth(token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    """auth("m-1") -> headers with a bearer token and a JSON content type."""

    def make(subject: str, *groups: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token(subject, *groups)}", "Content-Type": "application/json"}

    return make


@pytest.fixture
def travel() -> Iterator[Callable[[str | datetime], Any]]:
    """travel("2017-08-10T14:00") moves the clock (Amsterdam time when no offset is given).

    Call it again to jump elsewhere; the clock ticks on from each destination.
    """
    current: list[Any] = []

    def go(when: str | datetime) -> Any:
        instant = datetime.fromisoformat(when) if isinstance(when, str) else when
        if instant.tzinfo is None:
            instant = instant.replace(tzinfo=AMSTERDAM)
        if current:
            current.pop().stop()
        traveller = time_machine.travel(instant, tick=True)
        traveller.start()
        current.append(traveller)
        return traveller

    yield go
    if current:
        current.pop().stop()


def call(client: Client, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None) -> Any:
    """Send a JSON request through the Chalice test client; returns (status, parsed body)."""
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    response = client.http.request(method, path, headers=headers or {}, body=raw)
    parsed = json.loads(response.body) if response.body else None
    return response.status_code, parsed


@pytest.fixture
def api(client: Client) -> Callable[..., Any]:
    """api("GET", "/members/me", headers) -> (status, body)."""

    def send(method: str, path: str, headers: dict[str, str] | None = None, body: Any = None) -> Any:
        return call(client, method, path, headers, body)

    return send


class _AtomicRequests:
    """WSGI wrapper: moto's backends are not thread-safe, DynamoDB's requests are atomic.

    Serialising requests on the server gives each call DynamoDB's atomicity while the clients'
    threads still interleave their reads and writes, which is the race under test.
    """

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        with self._lock:
            return list(self._app(environ, start_response))


@pytest.fixture(scope="session")
def _moto_server_url() -> Iterator[str]:
    from moto.server import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    server = make_server(
        "127.0.0.1",
        0,
        _AtomicRequests(DomainDispatcherApplication(create_backend_app)),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    yield f"http://{host}:{port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def moto_server(_moto_server_url: str) -> Iterator[str]:
    """A real HTTP endpoint (moto's server) for tests that race threads against DynamoDB.

    Resets the server's state, points boto3 and PynamoDB at it and provisions everything.
    """
    import requests

    requests.post(f"{_moto_server_url}/moto-api/reset", timeout=10)
    os.environ["AWS_ENDPOINT_URL"] = _moto_server_url
    reset_connections()
    provision()
    yield _moto_server_url
    os.environ.pop("AWS_ENDPOINT_URL", None)
    reset_connections()


@pytest.fixture
def drain(client: Client) -> Callable[..., int]:
    """drain() runs the nightly worker on every message of the in-process work queue until it is
    empty, each in the SQS event shape Lambda delivers; returns how many messages it handled."""
    from chalicelib.db import client as aws_client
    from chalicelib.runs import queue

    def run(limit: int = 1000) -> int:
        sqs = aws_client("sqs")
        url = queue.queue_url()
        handled = 0
        while handled < limit:
            answer = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=1, MessageSystemAttributeNames=["ApproximateReceiveCount"]
            )
            messages = answer.get("Messages", [])
            if not messages:
                return handled
            message = messages[0]
            event = client.events.generate_sqs_event([message["Body"]], queue_name="test-nightly-work")
            event["Records"][0]["attributes"]["ApproximateReceiveCount"] = message["Attributes"][
                "ApproximateReceiveCount"
            ]
            try:
                client.lambda_.invoke("nightly_worker", event)
            except Exception:
                # Lambda failed: SQS would deliver the message again; here at once, not after the timeout.
                sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
                raise
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
        return handled

    return run


@pytest.fixture
def run_job(
    api: Callable[..., Any], auth: Callable[..., dict[str, str]], drain: Callable[..., int]
) -> Callable[..., Any]:
    """run_job("nightly_loyalty", "2017-09-09") -> the finished run, started through the route."""

    def start(job: str, as_of: str | None = None) -> Any:
        headers = auth("bo-jobs", "backoffice")
        status, started = api("POST", f"/backoffice/jobs/{job}/runs", headers, {"as_of": as_of} if as_of else {})
        assert status == 202, started
        drain()
        status, run = api("GET", f"/backoffice/jobs/{job}/runs/{started['run_id']}", headers)
        assert status == 200, run
        return run

    return start
