"""The OpenAPI 3.1 document, generated from the contract: the operations every domain declares in
its `contract.py` and the pydantic request and response models they name.

`make package` writes it to `chalicelib/openapi.json` in the function package
(scripts/lambda_package.py), so `GET /openapi.json` serves that file and a cold start never
imports the generator; without the file (tests, `make run`) `document()` generates it.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

BUILT = Path(__file__).resolve().parent / "openapi.json"

DESCRIPTION = """The HTTP contract of API.md. JSON in and out; money is integer cents in fields ending
`_cents`; dates are `YYYY-MM-DD`, timestamps ISO 8601 with offset.
Errors carry `{code, message, details?}`, every one of them: also 405, 413, 415 and 500, which every
operation may answer (listed on each). 400 INVALID_REQUEST names the field in
`details.errors[].field` (`path.<name>` / `query.<name>` for parameters). Every text field and
parameter refuses control characters (Unicode category Cc, tab and newline included); every date and
timestamp lies between 1900-01-01 and 2999-12-31; every integer within +-(2^53-1); request bodies nest
at most 32 levels and are at most 1 MiB. Lists are `{items, next_cursor}`; a cursor is opaque and
signed: one that was changed, cut or handed out by another list is a 400 INVALID_CURSOR."""

TAGS = [
    {"name": "loyalty", "description": "Members, points ledger, receipts and returns (L1-L14)."},
    {"name": "coupons", "description": "Points converted to coupons (C1, C2, C9); redeemed at checkout (C3-C8)."},
    {"name": "tradein", "description": "The laptop trade-in campaign (T1-T15). Participant routes need no token."},
    {"name": "backoffice-tradein", "description": "Claim handling, campaigns and payouts for the back office."},
    {"name": "operations", "description": "What finance and operations check every night."},
    {"name": "ops", "description": "Health, this document, runs of the nightly jobs."},
]

# Answers any operation can give, whatever it declares (chalicelib.http makes them): status ->
# (name in components.responses, description).
SHARED_RESPONSES = {
    "BadRequest": "Malformed request: MALFORMED_JSON, INVALID_REQUEST (wrong types, unknown or missing fields, "
    "a control character in a parameter).",
    "Unauthorized": "UNAUTHORIZED, INVALID_TOKEN: no or invalid bearer token.",
    "Forbidden": "FORBIDDEN: the token lacks the route's role.",
    "MethodNotAllowed": "METHOD_NOT_ALLOWED: the path exists, not with this method (`Allow` lists those it has).",
    "PayloadTooLarge": "REQUEST_TOO_LARGE: the request body exceeds 1 MiB.",
    "UnsupportedMediaType": "UNSUPPORTED_MEDIA_TYPE: a request body must be `application/json` (none counts as JSON).",
    "Internal": "INTERNAL: an unexpected error (a bug); it is logged, the body says nothing more.",
}
COMMON_ERRORS = {405: "MethodNotAllowed", 500: "Internal"}
BODY_ERRORS = {400: "BadRequest", 413: "PayloadTooLarge", 415: "UnsupportedMediaType"}
ROLE_ERRORS = {401: "Unauthorized", 403: "Forbidden"}


def operations() -> list[Any]:
    """Every operation of the contract, in a stable order."""
    from chalicelib import contract
    from chalicelib.coupons import contract as coupons
    from chalicelib.loyalty import contract as loyalty
    from chalicelib.reconciliation import contract as reconciliation
    from chalicelib.runs import contract as runs
    from chalicelib.tradein import contract as tradein

    domains = (loyalty, coupons, tradein, reconciliation, runs, contract)
    return [op for domain in domains for op in domain.OPERATIONS]


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The built file when the package has one, else the document generated now."""
    if BUILT.exists():
        return dict(json.loads(BUILT.read_text()))
    return generate()


def generate() -> dict[str, Any]:
    from pydantic.json_schema import models_json_schema

    from chalicelib.contract import ErrorBody

    ops = operations()
    wanted: list[tuple[Any, Any]] = [(ErrorBody, "serialization")]
    for op in ops:
        if op.request is not None:
            wanted.append((op.request, "validation"))
        wanted += [(model, "serialization") for model, _ in op.responses.values() if model is not None]
    unique = list(dict.fromkeys(wanted))
    refs, defs = models_json_schema(unique, ref_template="#/components/schemas/{model}")
    error_ref = refs[(ErrorBody, "serialization")]
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, error_ref)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Loyalty, coupon and trade-in backend", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": "http://127.0.0.1:8000", "description": "local stack (`make run`)"}],
        "tags": TAGS,
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "responses": {
                name: {"description": text, "content": {"application/json": {"schema": error_ref}}}
                for name, text in SHARED_RESPONSES.items()
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Claims: sub (member or system id), groups (member, pos, backoffice).",
                }
            },
        },
    }


def _operation(op: Any, refs: dict[Any, Any], error_ref: dict[str, Any]) -> dict[str, Any]:
    has_body = op.method in ("POST", "PUT", "PATCH")
    answer: dict[str, Any] = {"tags": [op.tag], "summary": op.summary, "operationId": op.operation_id}
    if op.description:
        answer["description"] = op.description
    if op.roles:
        answer["security"] = [{"bearer": []}]
        answer["x-roles"] = list(op.roles)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": dict(op.path_params.get(name, {"type": "string"}))}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    for param in op.params:
        entry = {"name": param.name, "in": param.location, "required": param.required, "schema": dict(param.schema)}
        if param.description:
            entry["description"] = param.description
        parameters.append(entry)
    if parameters:
        answer["parameters"] = parameters
    if op.request is not None:
        answer["requestBody"] = {
            "required": op.request_required,
            "content": {"application/json": {"schema": refs[(op.request, "validation")]}},
        }
    responses: dict[str, Any] = {}
    for status, (model, description) in sorted(op.responses.items()):
        responses[str(status)] = {"description": description}
        if model is not None:
            responses[str(status)]["content"] = {"application/json": {"schema": refs[(model, "serialization")]}}
    shared = {**COMMON_ERRORS, 400: "BadRequest", **(ROLE_ERRORS if op.roles else {})}
    shared.update(BODY_ERRORS if has_body else {})
    for status, name in sorted(shared.items()):
        if status not in op.errors:
            responses[str(status)] = {"$ref": f"#/components/responses/{name}"}
    for status, codes in sorted(op.errors.items()):
        description = f"{SHARED_RESPONSES['BadRequest']} Also: {codes}." if status == 400 else codes
        responses[str(status)] = {"description": description, "content": {"application/json": {"schema": error_ref}}}
    answer["responses"] = dict(sorted(responses.items()))
    return answer
