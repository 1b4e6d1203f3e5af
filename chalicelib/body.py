"""The base of every request model, pure (pydantic and the standard library only), so that
value types built on it (sales lines, addresses) import no web framework or AWS SDK."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

CONTROL_CHARACTERS = "must not contain control characters"
# Dates and numbers of any request lie in these ranges, so that no date arithmetic of the rules
# overflows (9999-12-31 plus a day) and every number fits DynamoDB and JSON clients exactly.
EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)
LARGEST_INT = 2**53 - 1
OUT_OF_RANGE = f"must lie between {EARLIEST.isoformat()} and {LATEST.isoformat()}"
TOO_LARGE = f"must lie between -{LARGEST_INT} and {LARGEST_INT}"


def _out_of_range(value: Any) -> str | None:
    """Why a date or number anywhere in `value` is out of range (None when all are in range)."""
    if isinstance(value, datetime):
        return None if EARLIEST <= value.date() <= LATEST else OUT_OF_RANGE
    if isinstance(value, date):
        return None if EARLIEST <= value <= LATEST else OUT_OF_RANGE
    if isinstance(value, int) and not isinstance(value, bool):
        return None if abs(value) <= LARGEST_INT else TOO_LARGE
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return next((why for why in map(_out_of_range, value) if why), None)
    return None


def control_character_in(value: Any) -> bool:
    """Whether a string anywhere in `value` (str, or lists/dicts of them) has a control character.

    Control characters (Unicode category Cc: C0, DEL, C1, also tab and newline) have no place in
    any field of this API: SES refuses them in addresses, they forge log lines and CSV rows.
    """
    if isinstance(value, str):
        return any(unicodedata.category(ch) == "Cc" for ch in value)
    if isinstance(value, dict):
        return any(control_character_in(k) or control_character_in(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(control_character_in(v) for v in value)
    return False


class Body(BaseModel):
    """Base of every request model: unknown fields are a 400, types are not coerced loosely, no
    text anywhere in it holds a control character, and every date and number is in range (the
    checks apply to every field of every subclass; nested models are Bodies too)."""

    # defer_build: each model's validator is built at its first use, not on every cold start.
    model_config = ConfigDict(extra="forbid", strict=False, frozen=True, allow_inf_nan=False, defer_build=True)

    @field_validator("*", mode="after")
    @classmethod
    def _boundary_checks(cls, value: Any) -> Any:
        if isinstance(value, BaseModel):
            return value
        if control_character_in(value):
            raise ValueError(CONTROL_CHARACTERS)
        problem = _out_of_range(value)
        if problem:
            raise ValueError(problem)
        return value
