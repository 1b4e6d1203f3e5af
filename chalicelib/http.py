"""HTTP plumbing shared by every blueprint: body parsing, responses, the error middleware."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any, TypeVar

from chalice import CORSConfig, Response
from chalice.app import Request
from pydantic import BaseModel, ConfigDict, ValidationError

from chalicelib.errors import AppError, BadRequest
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


class Body(BaseModel):
    """Base of every request model: unknown fields are a 400, types are not coerced loosely."""

    # defer_build: each model's validator is built at its first use, not on every cold start.
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True, defer_build=True)


def parse(request: Request, model: type[M]) -> M:
    """Parse and validate a JSON request body; malformed input is a 400 with the field errors."""
    raw = request.raw_body or b""
    try:
        data = json.loads(raw) if raw.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("MALFORMED_JSON", f"Request body is not valid JSON: {exc}") from None
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
    params = request.query_params or {}
    return params.get(name, default)


def limit_param(request: Request, default: int = 50, maximum: int = 200) -> int:
    raw = query(request, "limit")
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise BadRequest("INVALID_LIMIT", f"limit must be an integer from 1 to {maximum}")
    return int(raw)


def encode_cursor(key: dict[str, Any] | None) -> str | None:
    """An opaque cursor from a DynamoDB LastEvaluatedKey (None on the last page)."""
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error):
        raise BadRequest("INVALID_CURSOR", "cursor is not one this API handed out") from None
    if not isinstance(value, dict):
        raise BadRequest("INVALID_CURSOR", "cursor is not one this API handed out")
    return value


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body=body, status_code=status, headers={**JSON_HEADERS, **(headers or {})})


def error_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Turn AppError into the contract's error body; everything else stays a 500 (a bug)."""
    try:
        return get_response(event)
    except AppError as exc:
        if exc.status >= 500:
            logger.exception("request failed", extra={"code": exc.code})
        else:
            logger.info("request refused", extra={"code": exc.code, "status": exc.status})
        # Chalice adds CORS headers only to responses its view returned, not to these.
        return json_response(exc.body(), exc.status, cors_config().get_access_control_headers())
