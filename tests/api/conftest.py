"""Every answer an API test receives is checked against the OpenAPI document: its status must be
one the operation declares and its JSON body must match that status's schema (a mismatch fails
the test that received it)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache, lru_cache
from typing import Any

import pytest
from chalice.test import TestHTTPClient
from jsonschema import Draft202012Validator, FormatChecker

from chalicelib.openapi import document


@lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern[str], str]]:
    """The document's paths as patterns; literal segments win over parameters (as in Chalice)."""
    paths = sorted(document()["paths"], key=lambda p: (p.count("{"), -len(p)))
    return [(re.compile("^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(p)) + "$"), p) for p in paths]


@cache
def _validator(path: str, method: str, status: str) -> Draft202012Validator | None:
    operation = document()["paths"][path].get(method)
    if operation is None:
        return None
    response = operation["responses"].get(status)
    assert response is not None, f"{method.upper()} {path} answered {status}, which the document does not list"
    if "$ref" in response:
        response = document()["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    schema = response.get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return None
    return Draft202012Validator({**schema, "components": document()["components"]}, format_checker=FormatChecker())


def check_against_document(method: str, url: str, status: int, body: bytes) -> None:
    """Fail when an answer is not what the document says `method url` answers with `status`."""
    path = url.split("?", 1)[0]
    template = next((t for pattern, t in _templates() if pattern.match(path)), None)
    if template is None or not body:
        return  # not a route of the API (404 from Chalice itself) or no body
    validator = _validator(template, method.lower(), str(status))
    if validator is None:
        return
    errors = sorted(validator.iter_errors(json.loads(body)), key=lambda e: list(e.absolute_path))
    assert not errors, f"{method} {url} -> {status}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<body>'}: {e.message}" for e in errors[:5]
    )


@pytest.fixture(autouse=True)
def answers_match_the_document(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    original = TestHTTPClient.request

    def checked(self: TestHTTPClient, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        response = original(self, method, path, *args, **kwargs)
        if response.headers.get("Content-Type", "").startswith("application/json"):
            check_against_document(method, path, response.status_code, response.body)
        return response

    monkeypatch.setattr(TestHTTPClient, "request", checked)
    yield
