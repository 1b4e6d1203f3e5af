"""Job runs (API "Jobs"): a run is a record, its work runs on the SQS workers, nothing twice."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chalicelib.db import client as aws_client
from chalicelib.loyalty import maturation, member_store
from chalicelib.observability import metrics
from chalicelib.runs import queue
from chalicelib.runs import service as runs
from chalicelib.runs import store as runs_store
from tests.api.jobs.conftest import receipt_body

BO = ("bo-1", "backoffice")


def _buy(api: Any, auth: Any, *receipt_ids: str, member_id: str = "m-1") -> None:
    for receipt_id in receipt_ids:
        status, body = api("PUT", f"/receipts/{receipt_id}", auth("pos-1", "pos"), receipt_body(member_id))
        assert status == 201, body


def _take_messages() -> list[dict[str, Any]]:
    """Every message waiting on the work queue (removed from it)."""
    sqs, url = aws_client("sqs"), queue.queue_url()
    taken = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return taken
        for message in messages:
            taken.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


@pytest.mark.rule("L6")
def test_a_run_answers_202_runs_in_the_background_and_is_shown_done(api, auth, joined, travel, drain):
    joined("m-1")
    _buy(api, auth, "R1")
    travel("2017-09-10T09:00")
    status, started = api("POST", "/backoffice/jobs/nightly_loyalty/runs", auth(*BO), {"as_of": "2017-09-09"})
    assert status == 202
    assert set(started) == {"run_id", "job", "as_of", "status"}
    assert (started["job"], started["as_of"], started["status"]) == ("nightly_loyalty", "2017-09-09", "running")
    assert member_store.get_member("m-1").balance.pending == 649  # nothing ran inside the request

    _, running = api("GET", f"/backoffice/jobs/nightly_loyalty/runs/{started['run_id']}", auth(*BO))
    assert (running["status"], running["trigger"], running["units"]["outstanding"]) == ("running", "manual", 37)
    # 8 shards x (maturation, expiry) + 8 coupon shards x (expiry, liability) + owed returns + 4 reconciliation shards
    assert drain() >= 37

    _, run = api("GET", f"/backoffice/jobs/nightly_loyalty/runs/{started['run_id']}", auth(*BO))
    assert run["status"] == "done"
    assert run["finished_at"] >= run["started_at"]
    assert run["summary"]["lots_matured"] == 1
    assert run["summary"]["points_matured"] == 649
    assert run["units"] == {"total": 37, "outstanding": 0, "failed": 0}
    assert run["failures"] == []
    assert member_store.get_member("m-1").balance.available == 899


def test_runs_are_listed_newest_first_with_a_cursor(api, auth, travel, drain):
    travel("2017-09-10T09:00")
    ids = []
    for day in ("2017-09-01", "2017-09-02", "2017-09-03"):
        travel(f"{day}T23:00")
        status, started = api("POST", "/backoffice/jobs/nightly_tradein/runs", auth(*BO), {"as_of": day})
        assert status == 202
        ids.append(started["run_id"])
    drain()
    status, page = api("GET", "/backoffice/jobs/nightly_tradein/runs?limit=2", auth(*BO))
    assert status == 200
    assert [r["run_id"] for r in page["items"]] == [ids[2], ids[1]]
    assert all(r["status"] == "done" for r in page["items"])
    _, rest = api("GET", f"/backoffice/jobs/nightly_tradein/runs?limit=2&cursor={page['next_cursor']}", auth(*BO))
    assert ([r["run_id"] for r in rest["items"]], rest["next_cursor"]) == ([ids[0]], None)
    _, other = api("GET", "/backoffice/jobs/nightly_loyalty/runs", auth(*BO))
    assert other == {"items": [], "next_cursor": None}
    status, body = api("GET", "/backoffice/jobs/nightly_tradein/runs?cursor=bm90LWEtY3Vyc29y", auth(*BO))
    assert (status, body["code"]) == (400, "INVALID_CURSOR")


def test_as_of_bounds_unknown_jobs_and_runs(api, auth, travel):
    travel("2017-09-10T09:00")
    headers = auth(*BO)
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", headers, {"as_of": "2017-09-11"})
    assert (status, body["code"]) == (422, "AS_OF_IN_FUTURE")
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", headers, {"as_of": "1999-12-31"})
    assert (status, body["code"]) == (422, "AS_OF_TOO_EARLY")
    assert body["message"]
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", headers, {"as_of": "2017-13-01"})
    assert (status, body["code"]) == (400, "INVALID_REQUEST")
    status, body = api("POST", "/backoffice/jobs/nightly_loyalty/runs", headers, {"as_of": "2000-01-01"})
    assert status == 202
    status, body = api("POST", "/backoffice/jobs/nope/runs", headers, {})
    assert (status, body["code"]) == (404, "JOB_NOT_FOUND")
    status, body = api("GET", "/backoffice/jobs/nope/runs", headers)
    assert (status, body["code"]) == (404, "JOB_NOT_FOUND")
    status, body = api("GET", "/backoffice/jobs/nightly_loyalty/runs/no-such-run", headers)
    assert (status, body["code"]) == (404, "RUN_NOT_FOUND")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/backoffice/jobs/nightly_loyalty/runs"),
        ("GET", "/backoffice/jobs/nightly_loyalty/runs"),
        ("GET", "/backoffice/jobs/nightly_loyalty/runs/some-run"),
    ],
)
def test_job_routes_are_for_the_back_office_only(api, auth, method, path):
    assert api(method, path, {"Content-Type": "application/json"}, {} if method == "POST" else None)[0] == 401
    for subject in (("m-1",), ("pos-1", "pos")):
        status, body = api(method, path, auth(*subject), {} if method == "POST" else None)
        assert (status, body["code"]) == (403, "FORBIDDEN")


@pytest.mark.rule("L6")
def test_one_failing_lot_is_recorded_and_the_rest_is_done(api, auth, joined, travel, run_job, monkeypatch):
    joined("m-1")
    joined("m-2")
    _buy(api, auth, "R1")
    _buy(api, auth, "R2", member_id="m-2")
    travel("2017-09-10T09:00")
    real = maturation.mature_lot

    def refuse_m2(lot, today, counts):
        if lot.member_id == "m-2":
            raise RuntimeError("this lot's write is refused")
        real(lot, today, counts)

    monkeypatch.setattr(maturation, "mature_lot", refuse_m2)
    run = run_job("nightly_loyalty", "2017-09-09")
    assert run["status"] == "done"  # one bad lot does not fail the run
    assert run["summary"]["lots_matured"] == 1
    ((failure),) = run["failures"]
    assert failure["id"].startswith("lot:m-2#") and failure["reason"] == "RuntimeError"
    assert run["failures_count"] == 1
    monkeypatch.setattr(maturation, "mature_lot", real)
    retried = run_job("nightly_loyalty", "2017-09-09")  # the next run retries it
    assert (retried["summary"]["lots_matured"], retried["failures"]) == (1, [])
    assert member_store.get_member("m-2").balance.available == 899


def test_a_unit_that_keeps_failing_is_recorded_and_fails_the_run(api, auth, travel, drain, monkeypatch):
    travel("2017-09-10T09:00")

    def broken(today, now, failures):
        raise RuntimeError("the step is down")

    from chalicelib.tradein import payouts as tradein_payouts

    monkeypatch.setattr(tradein_payouts, "mark_paid", broken)
    _, started = api("POST", "/backoffice/jobs/nightly_tradein/runs", auth(*BO), {})
    with pytest.raises(RuntimeError):  # SQS delivers it again, up to NIGHTLY_MAX_RECEIVES times
        drain()
    (message,) = _take_messages()
    assert message["unit"] == "mark_paid"
    runs.work(message, lambda: 900_000, receive_count=5)  # the last delivery before the dead-letter queue
    metrics.clear_metrics()
    drain()  # the chain goes on after the failed unit
    # JobRunFailed once, for the alarm (infra/alarms.py); the stage keeps the worker from printing it
    assert metrics.serialize_metric_set().get("JobRunFailed") in (1.0, [1.0])
    metrics.clear_metrics()
    _, run = api("GET", f"/backoffice/jobs/nightly_tradein/runs/{started['run_id']}", auth(*BO))
    assert run["status"] == "failed"
    assert run["failures"] == [{"id": "unit:mark_paid", "reason": "RuntimeError"}]
    assert run["units"] == {"total": 11, "outstanding": 0, "failed": 1}  # 6 steps + payouts_overdue + 4 claim shards
    assert "batches_settled" in run["summary"]  # the units after it ran


@pytest.mark.rule("L6", "L7")
def test_running_twice_counts_nothing_twice(api, auth, joined, travel, run_job):
    joined("m-1")
    _buy(api, auth, "R1")
    travel("2017-09-10T09:00")
    first = run_job("nightly_loyalty", "2017-09-09")
    second = run_job("nightly_loyalty", "2017-09-09")
    assert (first["summary"]["lots_matured"], second["summary"]["lots_matured"]) == (1, 0)
    member = member_store.get_member("m-1")
    assert (member.balance.pending, member.balance.available) == (0, 899)


@pytest.mark.rule("L6")
def test_a_redelivered_unit_message_is_counted_and_decremented_once(api, auth, joined, travel, drain, monkeypatch):
    monkeypatch.setenv("MATURITY_SHARDS", "1")
    monkeypatch.setenv("COUPON_EXPIRY_SHARDS", "1")
    monkeypatch.setenv("RECONCILIATION_SHARDS", "1")
    joined("m-1")
    _buy(api, auth, "R1")
    travel("2017-09-10T09:00")
    _, started = api("POST", "/backoffice/jobs/nightly_loyalty/runs", auth(*BO), {"as_of": "2017-09-09"})
    messages = _take_messages()
    maturation = next(m for m in messages if m["unit"] == "mature:0")
    assert runs.work(maturation, lambda: 900_000)["done"]
    assert runs.work(maturation, lambda: 900_000)["redelivered"]
    run = runs_store.get_run(started["run_id"])
    # outstanding: expire, coupons, coupon_liability, returns, reconcile
    assert (run["outstanding"], run["summary"]["lots_matured"]) == (5, 1)
    follow_ups = [m for m in _take_messages() if m["unit"] == "expire:0"]
    assert len(follow_ups) == 2  # each delivery passes on what follows: the next unit, twice
    for message in [m for m in messages if m is not maturation] + follow_ups[:1]:
        runs.work(message, lambda: 900_000)
    for message in _take_messages():  # what coupons:0 passed on: coupon_liability:0
        runs.work(message, lambda: 900_000)
    _, shown = api("GET", f"/backoffice/jobs/nightly_loyalty/runs/{started['run_id']}", auth(*BO))
    assert (shown["status"], shown["units"]["outstanding"], shown["summary"]["lots_matured"]) == ("done", 0, 1)
    assert runs.work(follow_ups[1], lambda: 900_000)["redelivered"]  # the duplicate finds its segment recorded
    _, again = api("GET", f"/backoffice/jobs/nightly_loyalty/runs/{started['run_id']}", auth(*BO))
    assert (again["units"]["outstanding"], again["summary"], again["status"]) == (0, shown["summary"], "done")


@pytest.mark.rule("L6")
def test_a_unit_short_of_time_hands_on_its_cursor_and_resumes(api, auth, joined, travel, drain, monkeypatch):
    monkeypatch.setenv("MATURITY_SHARDS", "1")
    monkeypatch.setenv("NIGHTLY_PAGE_SIZE", "1")
    joined("m-1")
    _buy(api, auth, "R1", "R2", "R3")
    travel("2017-09-10T09:00")
    _, started = api("POST", "/backoffice/jobs/nightly_loyalty/runs", auth(*BO), {"as_of": "2017-09-09"})
    maturation = next(m for m in _take_messages() if m["unit"] == "mature:0")
    answer = runs.work(maturation, lambda: 1_000)  # a second left: one page, then hand on the rest
    assert (answer["pages"], answer["done"]) == (1, False)
    (rest,) = [m for m in _take_messages() if m["unit"] == "mature:0"]
    assert (rest["segment"], rest["cursor"] is not None) == (1, True)
    assert member_store.get_member("m-1").balance.pending == 2 * 649
    answer = runs.work(rest, lambda: 900_000)  # plenty of time: the rest of the shard
    assert (answer["pages"] >= 2, answer["done"]) == (True, True)
    run = runs_store.get_run(started["run_id"])
    assert run["summary"]["lots_matured"] == 3
    member = member_store.get_member("m-1")
    assert (member.balance.pending, member.balance.available) == (0, 250 + 3 * 649)


@pytest.mark.rule("T11")
def test_a_redelivered_schedule_event_is_the_same_run(client, api, auth, travel, drain):
    travel("2017-09-10T09:00")
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[], region="eu-west-1"
    )
    event["time"] = "2017-09-09T23:45:00Z"
    first = client.lambda_.invoke("nightly_tradein", event).payload
    drain()
    again = client.lambda_.invoke("nightly_tradein", event).payload
    assert again["run_id"] == first["run_id"]
    assert (again["status"], again["trigger"], again["as_of"]) == ("done", "schedule", "2017-09-10")
    assert drain() == 0  # a finished run is not started again
    _, listed = api("GET", "/backoffice/jobs/nightly_tradein/runs", auth(*BO))
    assert [r["run_id"] for r in listed["items"]] == [first["run_id"]]
