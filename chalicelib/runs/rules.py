"""Pure rules of job runs: identities, the accepted `as_of`, how a unit's summary is counted."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

EARLIEST_AS_OF = date(2000, 1, 1)
MAX_FAILURES_KEPT = 50  # per recorded segment: the run item stays far below DynamoDB's 400 KB


def scheduled_run_id(job: str, as_of: date, event_id: str) -> str:
    """One run per schedule event: a redelivered event names the same run."""
    digest = hashlib.sha256(f"{job}|{as_of.isoformat()}|{event_id}".encode()).hexdigest()[:16]
    return f"{as_of.isoformat()}-s-{digest}"


def as_of_refusal(as_of: date, today: date) -> str | None:
    """The error code for an `as_of` a run may not take (API "Jobs"), or None."""
    if as_of > today:
        return "AS_OF_IN_FUTURE"
    if as_of < EARLIEST_AS_OF:
        return "AS_OF_TOO_EARLY"
    return None


@dataclass(frozen=True)
class Tally:
    """What one segment of a unit adds to its run: counters, listed ids and item failures."""

    counts: dict[str, int] = field(default_factory=dict)
    lists: dict[str, list[Any]] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)


def tally(summary: dict[str, Any]) -> Tally:
    """Split a step's summary (the interface contract: a dict, failures under `failures`)."""
    counts: dict[str, int] = {}
    lists: dict[str, list[Any]] = {}
    failures: list[dict[str, str]] = []
    for key, value in summary.items():
        if key == "failures":
            failures = [{"id": str(f.get("id", "")), "reason": str(f.get("reason", ""))} for f in value or []]
        elif isinstance(value, bool):
            counts[key] = int(value)
        elif isinstance(value, int):
            counts[key] = value
        elif isinstance(value, list | tuple):
            lists[key] = [str(v) for v in value]
    return Tally(counts, lists, failures)


def add_tally(total: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Fold one page's summary into a segment's: counters add up, lists and failures concatenate."""
    merged = dict(total)
    for key, value in part.items():
        if isinstance(value, bool | int) and not isinstance(merged.get(key), list):
            merged[key] = int(merged.get(key, 0)) + int(value)
        elif isinstance(value, list | tuple):
            merged[key] = [*merged.get(key, []), *value]
    return merged


def step_summary(name: str, result: Any) -> dict[str, Any]:
    """A step's answer as a summary dict: steps that still answer a number or a list name it."""
    if isinstance(result, dict):
        return result
    return {name: result}
