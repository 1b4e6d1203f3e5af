"""HTTP plumbing shared by every blueprint: body parsing, responses, the error middleware.

Every answer of the API carries the contract's error body `{code, message, details?}`: our own
errors (AppError), bad input of any shape (too large, too deep, control characters), Chalice's
own answers (415, 405, its 500 for an exception in a view) and anything unexpected (500 INTERNAL).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from chalice import Chalice, CORSConfig, Response
from chalice.app import Request
from pydantic import BaseModel, ValidationError

from chalicelib.body import (  # noqa: F401  (re-exported: the request models' base lives in body.py)
    CONTROL_CHARACTERS,
    EARLIEST,
    LARGEST_INT,
    LATEST,
    OUT_OF_RANGE,
    TOO_LARGE,
    _out_of_range,
    control_character_in,
)
from chalicelib.body import Body as Body  # the request models' base, re-exported for the routes
from chalicelib.errors import AppError, BadRequest, PayloadTooLarge
from chalicelib.observability import logger

M = TypeVar("M", bound=BaseModel)

JSON_HEADERS = {"Content-Type": "application/json"}


def cors_config() -> CORSConfig:
    """CORS for the webshop and app (browsers): every route, and the error bodies too."""
    from chalicelib.config import settings

    return CORSConfig(
        allow_origin=settings().cors_allow_origin,
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        max_age=600,
    )


MAX_BODY_BYTES = 1024 * 1024  # far above any request of the contract (proofs go to S3 directly)
MAX_JSON_DEPTH = 32  # the deepest request of the contract nests 4 levels


def _depth(data: Any) -> int:
    """How deeply `data` nests lists and objects (iteratively: deep input must not recurse)."""
    deepest, stack = 0, [(data, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((v, level + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse(request: Request, model: type[M]) -> M:
    """Parse and validate a JSON request body; malformed input is a 400 with the field errors."""
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge("REQUEST_TOO_LARGE", f"Request body is larger than {MAX_BODY_BYTES} bytes")
    too_deep = BadRequest("MALFORMED_JSON", f"Request body nests deeper than {MAX_JSON_DEPTH} levels")
    try:
        data = json.loads(raw, parse_constant=_no_constant) if raw.strip() else {}
    except RecursionError:  # nested beyond the parser's stack
        raise too_deep from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("MALFORMED_JSON", f"Request body is not valid JSON: {exc}") from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise too_deep
    return validate(data, model)


def validate(data: Any, model: type[M]) -> M:
    """Validate already-decoded data against a request model (400 on failure)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "problem": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise BadRequest("INVALID_REQUEST", "Request body failed validation", {"errors": errors}) from None


def query(request: Request, name: str, default: str | None = None) -> str | None:
    params: Mapping[str, str] = request.query_params or {}
    return params.get(name, default)


def limit_param(request: Request, default: int = 50, maximum: int = 200) -> int:
    raw = query(request, "limit")
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise BadRequest("INVALID_LIMIT", f"limit must be an integer from 1 to {maximum}")
    return int(raw)


def json_response(body: Any, status: int = 200, headers: Mapping[str, str | list[str]] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={**JSON_HEADERS, **(headers or {})})


# Chalice's own error codes (its `{"Code", "Message"}` bodies) in the contract's words.
CHALICE_CODES = {
    "UnsupportedMediaType": "UNSUPPORTED_MEDIA_TYPE",
    "MethodNotAllowedError": "METHOD_NOT_ALLOWED",
    "InternalServerError": "INTERNAL",
    "BadRequest": "BAD_REQUEST",
}
INTERNAL_MESSAGE = "An internal error occurred; it has been logged"


def _contract_body(response: Response) -> Response:
    """Chalice's own error answers (415, 405, its 500 for an exception in a view) in our shape."""
    body = response.body
    ours = isinstance(body, dict) and isinstance(body.get("code"), str) and isinstance(body.get("message"), str)
    if response.status_code < 400 or ours:
        return response
    theirs = body if isinstance(body, dict) else {}
    name = str(theirs.get("Code", ""))
    if response.status_code >= 500:
        code, message = "INTERNAL", INTERNAL_MESSAGE
    else:
        code = CHALICE_CODES.get(name) or re.sub(r"(?<!^)(?=[A-Z])", "_", name.removesuffix("Error")).upper()
        message = str(theirs.get("Message") or "") or code.replace("_", " ").capitalize()
    headers = {**cors_config().get_access_control_headers(), **response.headers, **JSON_HEADERS}
    return json_response({"code": code or "BAD_REQUEST", "message": message}, response.status_code, headers)


def _refuse_control_characters_in_parameters(request: Any) -> None:
    """Path and query parameters are keys and filters: the same rule as every text field."""
    if not isinstance(request, Request):
        return
    for where, params in (("path", request.uri_params), ("query", request.query_params)):
        for name, value in (params or {}).items():
            if control_character_in(name) or control_character_in(value):
                field = f"{where}.{name}" if not control_character_in(name) else where
                errors = [{"field": field, "problem": CONTROL_CHARACTERS}]
                raise BadRequest("INVALID_REQUEST", "Request parameters failed validation", {"errors": errors})


def accept_any_media_type_without_body(app: Chalice) -> None:
    """GET, HEAD and DELETE read no body, so their Content-Type is not checked (Chalice's 415)."""
    for methods in app.routes.values():
        for method, entry in methods.items():
            if method in ("GET", "HEAD", "DELETE"):
                entry.content_types = ["*/*"]


def error_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every error in the contract's body, with CORS headers (browsers read error bodies too)."""
    try:
        _refuse_control_characters_in_parameters(event)
        return _contract_body(get_response(event))
    except AppError as exc:
        if exc.status >= 500:
            logger.exception("request failed", extra={"code": exc.code})
        else:
            logger.info("request refused", extra={"code": exc.code, "status": exc.status})
        # Chalice adds CORS headers only to responses its view returned, not to these.
        return json_response(exc.body(), exc.status, cors_config().get_access_control_headers())
    except Exception:
        # A bug: logged with its traceback (scrubbed of personal data by the logger's filter).
        logger.exception("unexpected error")
        body = {"code": "INTERNAL", "message": INTERNAL_MESSAGE}
        return json_response(body, 500, cors_config().get_access_control_headers())
