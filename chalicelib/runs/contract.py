"""The job-run routes (chalicelib.ops) as contract data."""

from __future__ import annotations

from chalicelib.contract import Operation, Page, Param, limit
from chalicelib.runs import responses as r
from chalicelib.runs.requests import JobRunIn

TAG = "ops"
JOB = {"job": {"type": "string", "enum": ["nightly_loyalty", "nightly_tradein"]}}

OPERATIONS = (
    Operation(
        "POST", "/backoffice/jobs/{job}/runs", "startJobRun",
        "Start a run of a nightly job; it runs in the background on the workers", TAG,
        {202: (r.RunStarted, "The run is recorded and its units are queued.")}, ("backoffice",), JobRunIn,
        request_required=False, path_params=JOB, errors={404: "JOB_NOT_FOUND", 422: "AS_OF_IN_FUTURE, AS_OF_TOO_EARLY"},
    ),
    Operation(
        "GET", "/backoffice/jobs/{job}/runs", "listJobRuns", "Recent runs of a job, scheduled and manual, newest first",
        TAG, {200: (Page[r.JobRun], "A page of runs.")}, ("backoffice",), path_params=JOB,
        params=(limit(100, 20), Param("cursor", {"type": "string"})),
        errors={400: "INVALID_LIMIT, INVALID_CURSOR", 404: "JOB_NOT_FOUND"},
    ),
    Operation(
        "GET", "/backoffice/jobs/{job}/runs/{run_id}", "getJobRun", "One run with its summary, failures and units",
        TAG, {200: (r.JobRun, "The run.")}, ("backoffice",), path_params={**JOB, "run_id": {"type": "string"}},
        errors={404: "JOB_NOT_FOUND, RUN_NOT_FOUND"},
    ),
)  # fmt: skip
