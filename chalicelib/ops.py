"""Routes that belong to no domain: health, the OpenAPI document, catch-up runs of nightly jobs."""

from __future__ import annotations

from datetime import date

from chalice import Blueprint
from pydantic import Field

from chalicelib import clock, openapi
from chalicelib.auth import require
from chalicelib.errors import NotFound, Unprocessable
from chalicelib.http import Body, json_response, parse
from chalicelib.nightly import JOBS
from chalicelib.observability import logger

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
def run_job(job: str):  # type: ignore[no-untyped-def]
    require(bp.current_request, "backoffice")
    body = parse(bp.current_request, JobRunIn)
    if job not in JOBS:
        raise NotFound("JOB_NOT_FOUND", f"No job named {job}; known: {', '.join(JOBS)}")
    today = clock.today()
    as_of = body.as_of or today
    if as_of > today:
        raise Unprocessable("AS_OF_IN_FUTURE", "as_of may not be after today")
    summary = JOBS[job](as_of)
    logger.info("job run by back office", extra={"job": job, "as_of": as_of.isoformat()})
    return json_response({"job": job, "as_of": as_of.isoformat(), "summary": summary})
