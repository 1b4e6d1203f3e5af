"""The HTTP contract as data: the shapes every answer shares (the error body, list envelopes) and
the declaration of an operation (path, method, roles, request and response models, errors), from
which chalicelib.openapi builds the OpenAPI document. Each domain declares its operations in its
`contract.py`; the routes that belong to no domain (health, this document) are declared here.

Pure: pydantic and the standard library only, so that a response model costs nothing to import.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

# Dates and timestamps are written by the domains' own formatters (clock.iso, date.isoformat),
# so the answer models carry them as strings and only document their format.
Timestamp = Annotated[str, Field(json_schema_extra={"format": "date-time"})]
Day = Annotated[str, Field(json_schema_extra={"format": "date"})]


class Answer(BaseModel):
    """Base of every response model: exactly the fields listed (the document says so too)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


class ErrorBody(Answer):
    """`{code, message, details?}`: every error of the API, whatever its status."""

    code: str = Field(examples=["RECEIPT_NOT_FOUND"])
    message: str
    details: dict[str, Any] | None = None


Item = TypeVar("Item", bound=BaseModel)


class Page(Answer, Generic[Item]):
    """A list: `next_cursor` is null on the last page."""

    items: list[Item]
    next_cursor: str | None


class Items(Answer, Generic[Item]):
    """A list that is never paged."""

    items: list[Item]


@dataclass(frozen=True)
class Param:
    """A query or header parameter (path parameters are read from the path)."""

    name: str
    schema: Mapping[str, Any]
    required: bool = False
    description: str = ""
    location: str = "query"


def limit(maximum: int = 200, default: int = 50) -> Param:
    return Param("limit", {"type": "integer", "minimum": 1, "maximum": maximum, "default": default})


CURSOR = Param("cursor", {"type": "string"}, description="`next_cursor` of the previous page (opaque, signed).")
PAGED = (limit(), CURSOR)


@dataclass(frozen=True)
class Operation:
    """One route of the contract. `responses`: status -> (model or None for no schema, description);
    `errors`: status -> description (the codes it may carry); `roles`: the token groups accepted
    (none: public). 401/403 are added for routes with roles, and the errors any route may answer
    (405, 500; 400/413/415 with a body) by chalicelib.openapi."""

    method: str
    path: str
    operation_id: str
    summary: str
    tag: str
    responses: Mapping[int, tuple[type[BaseModel] | None, str]]
    roles: tuple[str, ...] = ()
    request: type[BaseModel] | None = None
    request_required: bool = True
    params: tuple[Param, ...] = ()
    path_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    errors: Mapping[int, str] = field(default_factory=dict)
    description: str = ""


class Health(Answer):
    status: str = Field(examples=["ok"])
    time: Timestamp


OPERATIONS = (
    Operation("GET", "/health", "health", "Liveness", "ops", {200: (Health, "The API answers.")}),
    Operation("GET", "/openapi.json", "openapi", "This document", "ops", {200: (None, "The OpenAPI 3.1 document.")}),
)
