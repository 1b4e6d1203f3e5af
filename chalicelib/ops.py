"""Routes that belong to no domain: health, the OpenAPI document, runs of the nightly jobs."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from chalice import Blueprint
from pydantic import Field

from chalicelib import clock
from chalicelib.auth import require
from chalicelib.http import Body, decode_cursor, encode_cursor, json_response, limit_param, parse, query
from chalicelib.lazy import lazy_module

if TYPE_CHECKING:  # loaded at the first request that uses them (chalicelib/lazy.py)
    from chalicelib import openapi
    from chalicelib.runs import service as runs
else:
    openapi = lazy_module("chalicelib.openapi")
    runs = lazy_module("chalicelib.runs.service")

bp = Blueprint(__name__)


class JobRunIn(Body):
    as_of: date | None = Field(default=None)


@bp.route("/health", methods=["GET"])
def health():  # type: ignore[no-untyped-def]
    return json_response({"status": "ok", "time": clock.iso(clock.now())})


@bp.route("/openapi.json", methods=["GET"])
def openapi_document():  # type: ignore[no-untyped-def]
    return json_response(openapi.document())


@bp.route("/backoffice/jobs/{job}/runs", methods=["POST"])
def start_job_run(job: str):  # type: ignore[no-untyped-def]
    """Starts a run in the background (the workers drain the queue): never inside this request."""
    require(bp.current_request, "backoffice")
    body = parse(bp.current_request, JobRunIn)
    runs.check_job(job)
    today = clock.today()
    as_of = body.as_of or today
    runs.check_as_of(as_of, today)
    run = runs.start(job, as_of, trigger="manual")
    return json_response({k: run[k] for k in ("run_id", "job", "as_of", "status")}, status=202)


@bp.route("/backoffice/jobs/{job}/runs", methods=["GET"])
def list_job_runs(job: str):  # type: ignore[no-untyped-def]
    require(bp.current_request, "backoffice")
    request = bp.current_request
    limit = limit_param(request, default=20, maximum=100)
    items, last = runs.recent(job, limit, decode_cursor(query(request, "cursor")))
    return json_response({"items": items, "next_cursor": encode_cursor(last)})


@bp.route("/backoffice/jobs/{job}/runs/{run_id}", methods=["GET"])
def get_job_run(job: str, run_id: str):  # type: ignore[no-untyped-def]
    require(bp.current_request, "backoffice")
    return json_response(runs.get(job, run_id))
