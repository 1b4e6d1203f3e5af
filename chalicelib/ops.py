"""Routes that belong to no domain: health, the OpenAPI document, runs of the nightly jobs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib import clock, pager
from chalicelib.auth import require
from chalicelib.contract import Health
from chalicelib.http import json_response, limit_param, parse, query
from chalicelib.lazy import lazy_module
from chalicelib.runs.requests import JobRunIn

if TYPE_CHECKING:  # loaded at the first request that uses them (chalicelib/lazy.py)
    from chalicelib import openapi
    from chalicelib.runs import responses as answers
    from chalicelib.runs import service as runs
else:
    openapi = lazy_module("chalicelib.openapi")
    answers = lazy_module("chalicelib.runs.responses")
    runs = lazy_module("chalicelib.runs.service")

bp = Blueprint(__name__)


@bp.route("/health", methods=["GET"])
def health() -> Response:
    return json_response(Health(status="ok", time=clock.iso(clock.now())).model_dump(mode="json"))


@bp.route("/openapi.json", methods=["GET"])
def openapi_document() -> Response:
    return json_response(openapi.document())


@bp.route("/backoffice/jobs/{job}/runs", methods=["POST"])
def start_job_run(job: str) -> Response:
    """Starts a run in the background (the workers drain the queue): never inside this request."""
    require(bp.current_request, "backoffice")
    body = parse(bp.current_request, JobRunIn)
    runs.check_job(job)
    today = clock.today()
    as_of = body.as_of or today
    runs.check_as_of(as_of, today)
    run = runs.start(job, as_of, trigger="manual")
    started = answers.RunStarted(run_id=run["run_id"], job=run["job"], as_of=run["as_of"], status=run["status"])
    return json_response(started.model_dump(mode="json"), status=202)


@bp.route("/backoffice/jobs/{job}/runs", methods=["GET"])
def list_job_runs(job: str) -> Response:
    require(bp.current_request, "backoffice")
    request = bp.current_request
    limit = limit_param(request, default=20, maximum=100)
    scope = f"runs:{job}"
    items, last = runs.recent(job, limit, pager.decode(query(request, "cursor"), scope))
    return json_response({"items": [_run(item) for item in items], "next_cursor": pager.encode(last, scope)})


@bp.route("/backoffice/jobs/{job}/runs/{run_id}", methods=["GET"])
def get_job_run(job: str, run_id: str) -> Response:
    require(bp.current_request, "backoffice")
    return json_response(_run(runs.get(job, run_id)))


def _run(view: dict[str, Any]) -> dict[str, Any]:
    """A run's view in the contract's shape (fields without a value yet stay out)."""
    return answers.JobRun(**view).model_dump(mode="json", exclude_unset=True)
