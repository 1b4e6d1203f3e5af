"""Schemathesis over every operation of the OpenAPI document (`chalicelib.openapi.document()`),
each with every role's token (member, pos, back office), against the app in process (Chalice's
local gateway behind a small WSGI adapter, moto in process). Checks on every answer: no 5xx, the
status code is documented, the body fits the documented schema, the content type is the
documented one, and every error body is the contract's `{code, message, details?}`.

Each operation and role in three modes: positive data as generated; positive data with control
characters replaced (the document refuses them everywhere, so most generated strings would stop at
that first check); negative data. Bounded: MAX_EXAMPLES per operation, role and mode, no shrinking
(a failure is reported as generated), ~30 s.
"""

from __future__ import annotations

import json
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core import NOT_SET
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from chalicelib.openapi import document
from tests.integration.tradein.helpers import Driver

MAX_EXAMPLES = 5
ROLES = {"member": ("m-fuzz",), "pos": ("pos-1", "pos"), "backoffice": ("bo-1", "backoffice")}
CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]  # fmt: skip


class ChaliceWSGI:
    """A WSGI face for Chalice's local gateway (what `chalice local` and the test client use)."""

    def __init__(self, http: Any) -> None:
        self.http = http

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = quote(environ.get("PATH_INFO", "/").encode("latin-1"), safe="/:@!$&'()*+,;=-._~")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        response = self.http.request(environ["REQUEST_METHOD"], path, headers=headers, body=body)
        status = response.status_code
        start_response(f"{status} {HTTPStatus(status).phrase}", list(response.headers.items()))
        return [response.body or b""]


def contract_error_body(response: Any) -> str | None:
    if response.status_code < 400:
        return None
    try:
        answer = json.loads(response.content)
    except ValueError:
        return f"{response.status_code} body is not JSON: {response.content[:120]!r}"
    if not (
        isinstance(answer, dict)
        and isinstance(answer.get("code"), str)
        and isinstance(answer.get("message"), str)
        and isinstance(answer.get("details", {}), dict)
        and set(answer) <= {"code", "message", "details"}
    ):
        return f"{response.status_code} without the contract body: {answer!r:.200}"
    return None


def seed(driver: Driver) -> None:
    """Data for the roles' ids, so that not every answer is a 404: the member, a receipt, a claim."""
    status, body = driver.api(
        "POST",
        "/members",
        driver.auth("m-fuzz"),
        {"email": "m-fuzz@example.com", "first_name": "Ann", "last_name": "Smit", "newsletter": False,
         "partner_data_sharing": False},
    )  # fmt: skip
    assert status == 201, body
    driver.claim_for("R-FUZZ")


def printable(value: Any) -> Any:
    """The value with every control character replaced: the document refuses them in every text
    field (so most generated strings would stop at the first check), tests/reliability/test_fuzz.py
    sends them on purpose."""
    if isinstance(value, str):
        return "".join("x" if unicodedata.category(c) == "Cc" else c for c in value)
    if isinstance(value, dict):
        return {printable(k): printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [printable(v) for v in value]
    return value


def cleaned(case: Any) -> Any:
    for part in ("path_parameters", "query", "body"):
        value = getattr(case, part, None)
        if value is not None and not isinstance(value, (bytes, type(NOT_SET))):
            setattr(case, part, printable(value))
    return case


MODES = {
    "as generated": lambda operation: operation.as_strategy(),
    "printable": lambda operation: operation.as_strategy().map(cleaned),
    "negative": lambda operation: operation.as_strategy(GenerationMode.NEGATIVE),
}


def explore(
    operation: Any,
    app: ChaliceWSGI,
    role: str,
    headers: dict[str, str],
    mode: str,
    failures: list[str],
    statuses: Counter[str],
) -> int:
    """Runs up to MAX_EXAMPLES generated cases of one operation as one role; returns how many ran."""
    ran = 0

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=MODES[mode](operation))
    def run(case: Any) -> None:
        nonlocal ran
        ran += 1
        response = case.call(app=app, headers=headers)
        statuses[f"{response.status_code // 100}xx"] += 1
        label = f"{case.method.upper()} {case.path} as {role} ({mode}): {case.formatted_path}"
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:  # the checks that failed, each with its title
            failures.extend(f"{label} {failure.title}: {failure.message[:400]}" for failure in group.exceptions)
        except Failure as failure:
            failures.append(f"{label} {failure.title}: {failure.message[:400]}")
        problem = contract_error_body(response)
        if problem:
            failures.append(f"{label} {problem}")

    try:
        run()
    except Unsatisfiable:  # nothing to break: an operation without parameters or body, in negative mode
        assert mode == "negative" and ran == 0
    return ran


def test_schemathesis_over_every_operation_and_role(
    tradein: Driver,  # the app in process on moto, the campaign seeded, the clock in its window
    auth: Callable[..., dict[str, str]],
    figure: Any,
) -> None:
    seed(tradein)
    schema = schemathesis.openapi.from_dict(json.loads(json.dumps(document())))
    app = ChaliceWSGI(tradein.client.http)
    operations = [result.ok() for result in schema.get_all_operations()]
    failures: list[str] = []
    statuses: Counter[str] = Counter()
    examples = 0
    started = time.monotonic()
    for operation in operations:
        for role, token in ROLES.items():
            headers = {"Authorization": auth(*token)["Authorization"]}
            for mode in MODES:
                examples += explore(operation, app, role, headers, mode, failures, statuses)
    elapsed = time.monotonic() - started
    figure(
        "schemathesis",
        operations=len(operations),
        roles=len(ROLES),
        combinations=len(operations) * len(ROLES),
        modes=len(MODES),
        examples=examples,
        answers=", ".join(f"{n} x {k}" for k, n in sorted(statuses.items())),
        failures=len(failures),
        seconds=round(elapsed, 1),
    )
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])


def test_the_served_document_is_the_fuzzed_one(client: Any) -> None:
    response = client.http.request("GET", "/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.body) == json.loads(json.dumps(document()))
