"""What the job-run routes answer (API.md "Jobs")."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from chalicelib.contract import Answer, Day, Timestamp


class RunStarted(Answer):
    run_id: str
    job: str
    as_of: Day
    status: Literal["running"]


class Failure(Answer):
    id: str
    reason: str


class Units(Answer):
    total: int
    outstanding: int
    failed: int


class JobRun(Answer):
    """A run; fields without a value yet are left out (e.g. `finished_at` while it runs)."""

    run_id: str
    job: str
    as_of: Day
    trigger: Literal["schedule", "manual"]
    status: Literal["running", "done", "failed"]
    started_at: Timestamp
    finished_at: Timestamp | None = None
    summary: dict[str, Any] | None = Field(default=None, description="Counts and listed ids over the run's units.")
    failures: list[Failure] | None = None
    units: Units | None = None
    failures_count: int | None = None
