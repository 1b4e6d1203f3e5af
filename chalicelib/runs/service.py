"""Job runs (API "Jobs"): the coordinator that records a run and enqueues its units, the worker
step that runs one message's unit page by page, and the run's views for the back office.

A message names one segment of one unit: `{run_id, job, as_of, unit, segment, cursor, rest}`
(`rest`: the units that follow it in its chain). Every segment is recorded once with the counts
it adds to its run; a redelivered message finds its segment recorded and only passes on what
follows, so nothing is counted twice. The unit's last segment takes it off the run's outstanding
count; the run is done when none are outstanding.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

from chalicelib import clock, nightly
from chalicelib.config import settings
from chalicelib.errors import NotFound, Unprocessable
from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.runs import queue, rules, store

VIEW_FIELDS = ("run_id", "job", "as_of", "trigger", "status", "started_at", "finished_at", "summary", "failures")


def check_job(job: str) -> None:
    if job not in nightly.JOBS:
        raise NotFound("JOB_NOT_FOUND", f"No job named {job}; known: {', '.join(nightly.JOBS)}")


def check_as_of(as_of: date, today: date) -> None:
    code = rules.as_of_refusal(as_of, today)
    if code == "AS_OF_IN_FUTURE":
        raise Unprocessable(code, "as_of may not be after today", {"as_of": as_of.isoformat()})
    if code is not None:
        raise Unprocessable(code, f"as_of may not be before {rules.EARLIEST_AS_OF}", {"as_of": as_of.isoformat()})


def start(job: str, as_of: date, trigger: str, event_id: str | None = None) -> dict[str, Any]:
    """Record a run of `job` for `as_of` and enqueue the first unit of each of its chains.

    A scheduled run's id comes from its event: a redelivered event finds its run; while that run
    is still running its chains are enqueued again (recorded segments are not redone).
    """
    check_job(job)
    if trigger == "schedule":
        run_id = rules.scheduled_run_id(job, as_of, event_id or "")
    else:
        run_id = f"{as_of.isoformat()}-m-{secrets.token_hex(8)}"
    chains = nightly.plan(job)
    run: dict[str, Any] = {
        "run_id": run_id,
        "job": job,
        "as_of": as_of.isoformat(),
        "trigger": trigger,
        "status": "running",
        "started_at": clock.iso(clock.now()),
    }
    units_total = sum(len(chain) for chain in chains)
    if store.create_run(run, units_total):
        run.update(units_total=units_total, outstanding=units_total, failed_units=0)
    else:
        existing = store.get_run(run_id)
        if existing is None or existing["status"] != "running":
            return view(existing or run)
        run = existing
    heads = [_message(run_id, job, as_of, chain[0], chain[1:]) for chain in chains if chain]
    queue.send(heads)
    logger.info("job run started", extra={"job": job, "run_id": run_id, "as_of": run["as_of"], "units": len(heads)})
    return view(run)


def _message(run_id: str, job: str, as_of: date, unit: str, rest: list[str]) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "job": job,
        "as_of": as_of.isoformat(),
        "unit": unit,
        "segment": 0,
        "cursor": None,
        "rest": rest,
    }


def work(message: dict[str, Any], remaining_ms: Callable[[], int], receive_count: int = 1) -> dict[str, Any]:
    """Run one message's unit, page by page, until it is done or time runs short; then record the
    segment and pass on the rest (the same unit from its cursor, or the chain's next unit)."""
    run_id, job, unit, segment = message["run_id"], message["job"], message["unit"], int(message["segment"])
    recorded = store.recorded_segment(run_id, unit, segment)
    if recorded is not None:  # a redelivery: the counts are in, only what follows may be missing
        _follow(message, recorded["next_cursor"])
        return {"run_id": run_id, "unit": unit, "segment": segment, "redelivered": True}
    as_of = date.fromisoformat(message["as_of"])
    limit, margin_ms = settings().nightly_page_size, settings().nightly_time_margin_seconds * 1000
    total: dict[str, Any] = {}
    cursor, pages, unit_failed = message.get("cursor"), 0, False
    while True:
        try:
            summary, next_cursor = nightly.run_unit(job, unit, as_of, cursor, limit)
        except Exception as exc:
            if pages:  # keep what was done; the page that failed is retried from its cursor
                break
            if receive_count < settings().nightly_max_receives:
                raise  # SQS delivers it again
            # The last delivery before the dead-letter queue: record the unit failed, so the run ends.
            logger.exception("unit failed", extra={"run_id": run_id, "unit": unit})
            total = {"failures": [{"id": f"unit:{unit}", "reason": type(exc).__name__}]}
            cursor, unit_failed = None, True
            break
        total, cursor, pages = rules.add_tally(total, summary), next_cursor, pages + 1
        if cursor is None or remaining_ms() < margin_ms:
            break
    part = rules.tally(total)
    if part.failures:
        metrics.add_metric(name="JobItemFailures", unit=MetricUnit.Count, value=len(part.failures))
    store.record_segment(run_id, unit, segment, part, cursor, clock.iso(clock.now()), unit_failed=unit_failed)
    _follow(message, cursor)
    return {"run_id": run_id, "unit": unit, "segment": segment, "pages": pages, "done": cursor is None}


def _follow(message: dict[str, Any], cursor: Any) -> None:
    """Pass on what follows a recorded segment; close the run after the last unit of a chain."""
    if cursor is not None:
        queue.send([{**message, "segment": int(message["segment"]) + 1, "cursor": cursor}])
        return
    rest = list(message.get("rest") or [])
    if rest:
        queue.send([{**message, "unit": rest[0], "rest": rest[1:], "segment": 0, "cursor": None}])
        return
    status = store.finish_run(message["run_id"], clock.iso(clock.now()))
    if status is not None:
        logger.info("job run finished", extra={"run_id": message["run_id"], "job": message["job"], "status": status})
    if status == "failed":  # the alarm JobRunFailedAlarm (infra/alarms.py) watches it
        metrics.add_metric(name="JobRunFailed", unit=MetricUnit.Count, value=1)


def view(run: dict[str, Any]) -> dict[str, Any]:
    """A run as the back office sees it (API "Jobs"), with its units' progress."""
    shown = {k: run[k] for k in VIEW_FIELDS if run.get(k) is not None}
    if "units_total" in run:
        shown["units"] = {
            "total": int(run["units_total"]),
            "outstanding": int(run.get("outstanding", 0)),
            "failed": int(run.get("failed_units", 0)),
        }
        shown["failures_count"] = int(run.get("failures_count", 0))
    return shown


def get(job: str, run_id: str) -> dict[str, Any]:
    check_job(job)
    run = store.get_run(run_id)
    if run is None or run.get("job") != job:
        raise NotFound("RUN_NOT_FOUND", f"No run {run_id} of {job}")
    return view(run)


def recent(job: str, limit: int, cursor: dict[str, Any] | None) -> tuple[list[dict[str, Any]], Any]:
    check_job(job)
    runs, last = store.runs_of(job, limit, cursor)
    return [view(run) for run in runs], last
