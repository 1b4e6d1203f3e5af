"""The nightly reconciliation (issue 16): a unit of the nightly fan-out per shard of touched
members; a balance its lots do not explain, or a lot no history entry accounts for, becomes a
metric, a run failure and a back-office list entry, and is never repaired."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

import pytest

from chalicelib import db
from chalicelib.config import settings
from chalicelib.db import client as aws_client
from chalicelib.loyalty import member_store
from chalicelib.loyalty.models import LotModel
from chalicelib.observability import metrics
from chalicelib.reconciliation import rules
from chalicelib.reconciliation import service as reconciliation
from infra import alarms, template
from tests.api.loyalty.conftest import receipt_body

BO = ("bo-ops", "backoffice")


@pytest.fixture
def joined(api: Any, auth: Any, travel: Any) -> Any:
    """joined("m-1") signs a member up through the API on 2017-08-10 (its first touch)."""
    travel("2017-08-10T12:00")

    def join(member_id: str) -> None:
        body = {
            "email": f"{member_id}@example.com",
            "first_name": "Ann",
            "last_name": "Smit",
            "newsletter": True,
            "partner_data_sharing": False,
        }
        status, answer = api("POST", "/members", auth(member_id), body)
        assert status == 201, answer

    return join


def _findings(api: Any, auth: Any, day: str, **params: str) -> tuple[int, Any]:
    query = "&".join(f"{k}={v}" for k, v in {"date": day, **params}.items())
    return api("GET", f"/backoffice/reconciliation?{query}", auth(*BO))


def _sneak_in_a_lot(member_id: str, points: int) -> None:
    """A lot written behind the ledger's back: no balance change, no history entry."""
    LotModel(
        member_id,
        "sneaked#1",
        source="nobody",
        kind="event",
        points=points,
        remaining=points,
        earned_on="2017-08-10",
        matures_on="2017-08-10",
        expires_on="2018-08-10",
        status="available",
    ).save()


@pytest.mark.rule("L6", "L12")
def test_a_consistent_day_reconciles_its_touched_members_and_finds_nothing(api, auth, joined, travel, run_job):
    joined("m-1")
    joined("m-2")
    status, _ = api("PUT", "/receipts/R1", auth("pos-1", "pos"), receipt_body("m-1"))
    assert status == 201
    travel("2017-08-11T03:00")

    run = run_job("nightly_loyalty", "2017-08-11")

    assert run["status"] == "done"
    assert run["summary"]["members_reconciled"] == 2
    assert run["summary"]["reconciliation_mismatches"] == 0
    assert run["failures"] == []
    assert _findings(api, auth, "2017-08-11") == (200, {"items": [], "next_cursor": None})


@pytest.mark.rule("L12")
def test_an_injected_lot_raises_the_metric_fails_the_run_item_and_is_listed_never_fixed(
    api, auth, joined, travel, run_job
):
    joined("m-1")
    joined("m-2")
    _sneak_in_a_lot("m-1", 75)
    travel("2017-08-11T03:00")
    metrics.clear_metrics()

    run = run_job("nightly_loyalty", "2017-08-11")

    assert run["summary"]["members_reconciled"] == 2
    assert run["summary"]["reconciliation_mismatches"] == 2
    assert sorted(run["failures"], key=lambda f: f["reason"]) == [
        {"id": "member:m-1", "reason": "RECONCILIATION_MISMATCH: available"},
        {"id": "member:m-1", "reason": "RECONCILIATION_MISMATCH: lot_without_history"},
    ]
    # The stage's POWERTOOLS_METRICS_DISABLED keeps the worker from printing: the set it would print.
    emf = metrics.serialize_metric_set()
    metrics.clear_metrics()
    assert emf["ReconciliationMismatch"] in (2.0, [2.0])
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == alarms.NAMESPACE
    assert "ReconciliationMismatch" in [m["Name"] for m in directive["Metrics"]]
    assert emf["service"] == alarms.SERVICE["Value"]  # the alarm's dimension
    alarm = template.build()["Resources"]["ReconciliationMismatchAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == (
        directive["Namespace"],
        "ReconciliationMismatch",
        [{"Name": name, "Value": emf[name]} for name in directive["Dimensions"][0]],
    )

    status, page = _findings(api, auth, "2017-08-11")
    assert status == 200
    items = [{k: v for k, v in item.items() if k != "found_at"} for item in page["items"]]
    assert items == [
        {"member_id": "m-1", "kind": "available", "expected": 250 + 75, "actual": 250},
        {"member_id": "m-1", "kind": "lot_without_history", "expected": 75, "actual": 0, "lot_id": "sneaked#1"},
    ]
    assert page["next_cursor"] is None
    assert member_store.get_member("m-1").balance.available == 250  # reported, not repaired

    run_job("nightly_loyalty", "2017-08-11")  # a rerun of the night lists each finding once
    status, again = _findings(api, auth, "2017-08-11")
    assert len(again["items"]) == 2

    status, first = _findings(api, auth, "2017-08-11", limit="1")
    assert len(first["items"]) == 1 and first["next_cursor"]
    status, rest = _findings(api, auth, "2017-08-11", limit="1", cursor=first["next_cursor"])
    assert status == 200
    assert [i["kind"] for i in first["items"] + rest["items"]] == ["available", "lot_without_history"]
    assert rest["next_cursor"] is None


def test_members_not_touched_on_the_checked_days_are_not_read(api, auth, joined, travel, run_job, monkeypatch):
    joined("m-1")  # touched on 2017-08-10 only
    _sneak_in_a_lot("m-1", 10)
    read: list[str] = []
    real = reconciliation.check_member
    monkeypatch.setattr(reconciliation, "check_member", lambda m: read.append(m) or real(m))
    travel("2017-08-20T03:00")

    run = run_job("nightly_loyalty", "2017-08-20")

    assert (run["summary"]["members_reconciled"], read) == (0, [])  # an index query per shard, no scan


@pytest.mark.rule("L13", "L10")
def test_merged_and_spent_accounts_reconcile_without_false_alarms(api, auth, joined, travel, run_job, monkeypatch):
    monkeypatch.setattr("chalicelib.coupons.service.transfer_coupons", lambda s, t: [])
    joined("m-old")
    joined("m-new")
    api("PUT", "/receipts/R1", auth("pos-1", "pos"), receipt_body("m-old"))
    status, _ = api("POST", "/backoffice/members/m-new/merge", auth(*BO), {"source_member_id": "m-old"})
    assert status == 200
    travel("2017-09-10T03:00")
    run_job("nightly_loyalty", "2017-09-10")  # R1 matures on the target
    status, _ = api("POST", "/members/me/coupons", auth("m-new") | {"Idempotency-Key": "c1"}, {"amount_cents": 2000})
    assert status == 201
    travel("2017-09-11T03:00")

    run = run_job("nightly_loyalty", "2017-09-11")

    assert run["summary"]["members_reconciled"] == 1  # m-new, touched by the spend
    assert run["summary"]["reconciliation_mismatches"] == 0
    assert _findings(api, auth, "2017-09-10")[1]["items"] == []


def test_a_member_that_changes_while_it_is_read_is_read_again(api, auth, joined, travel, monkeypatch):
    joined("m-1")
    real = reconciliation.store.lots
    calls: list[int] = []

    def lots_with_a_write_in_between(member_id: str) -> list[rules.LotView]:
        answer = real(member_id)
        if not calls:  # a ledger write lands between the lots read and the second member read
            _sneak_in_a_lot(member_id, 5)
            with db.transaction() as tx:
                member_store.add_balance_change(tx, member_id, available=5)
        calls.append(1)
        return answer

    monkeypatch.setattr(reconciliation.store, "lots", lots_with_a_write_in_between)
    found, _ = reconciliation.check_member("m-1")
    assert len(calls) == 2
    assert found == [rules.Mismatch("m-1", "lot_without_history", expected=5, actual=0, lot_id="sneaked#1")]


def test_the_list_refuses_a_missing_or_bad_date_and_a_foreign_cursor(api, auth, token):
    for query in ("", "?date=yesterday"):
        status, error = api("GET", f"/backoffice/reconciliation{query}", auth(*BO))
        assert (status, error["code"]) == (400, "INVALID_REQUEST")
    status, error = _findings(api, auth, "2017-08-11", cursor="bm90LWEtY3Vyc29y")
    assert (status, error["code"]) == (400, "INVALID_CURSOR")
    status, _ = api("GET", "/backoffice/reconciliation?date=2017-08-11", auth("m-1"))
    assert status == 403


def test_traceability_follows_earnings_merge_copies_merge_moves_and_adjustments():
    assert rules.traceable("receipt#R1", {"earned#receipt#R1": None})
    assert rules.traceable("receipt#R1", {"earned#receipt#R1@m-old": None})
    assert rules.traceable("receipt#R1", {"merged#m-old#receipt#R1": None})
    assert rules.traceable("adj#A1", {"adjusted#A1": {"adj#A1": 10}})
    assert not rules.traceable("receipt#R1", {"earned#receipt#R10": None, "spent#c1": {"receipt#R1": 5}})
    assert rules.days_checked(date(2017, 8, 11)) == (date(2017, 8, 10), date(2017, 8, 11))


@pytest.mark.rule("L6", "L7", "L12")
def test_the_liability_follows_the_ledger_night_by_night_without_counting_twice(api, auth, joined, travel, run_job):
    joined("m-1")
    joined("m-2")
    status, _ = api("PUT", "/receipts/R1", auth("pos-1", "pos"), receipt_body("m-1"))
    assert status == 201
    travel("2017-08-11T03:00")
    assert api("GET", "/backoffice/reports/liability?date=2017-08-11", auth(*BO))[0] == 404  # no night yet

    run_job("nightly_loyalty", "2017-08-11")
    assert api("GET", "/backoffice/reports/liability?date=2017-08-11", auth(*BO))[1]["complete"] is False
    run_job("nightly_tradein", "2017-08-11")  # the claims' part of the night
    status, first = api("GET", "/backoffice/reports/liability?date=2017-08-11", auth(*BO))
    assert status == 200
    assert first["points"] == {
        "pending": 649,
        "available": 500,
        "debt": 0,
        "outstanding": 1149,
        "available_by_expiry_month": {"2018-08": 500},  # the welcome points, valid one year (L7)
    }
    assert (first["complete"], first["cents_per_point"], first["value_cents"]) == (True, 2.0, 2298)
    csv_text = aws_client("s3").get_object(Bucket=settings().proofs_bucket, Key="reports/liability/2017-08-11.csv")
    rows = list(csv.reader(io.StringIO(csv_text["Body"].read().decode())))
    assert rows[0] == ["date", "measure", "expiry_month", "points", "value_cents", "count"]
    assert ["2017-08-11", "outstanding", "", "1149", "2298", ""] in rows
    assert ["2017-08-11", "available_expiring", "2018-08", "500", "1000", ""] in rows
    assert ["2017-08-11", "coupons_issued_unredeemed", "", "", "0", "0"] in rows
    assert first["csv_url"].startswith("https://")

    run_job("nightly_loyalty", "2017-08-11")  # a rerun adds nothing
    assert api("GET", "/backoffice/reports/liability?date=2017-08-11", auth(*BO))[1]["points"] == first["points"]

    travel("2017-09-10T03:00")  # R1 matures (L6); m-2 is not touched and keeps its share
    run_job("nightly_loyalty", "2017-09-10")
    _, matured = api("GET", "/backoffice/reports/liability?date=2017-09-10", auth(*BO))
    assert matured["points"] == {
        "pending": 0,
        "available": 1149,
        "debt": 0,
        "outstanding": 1149,
        "available_by_expiry_month": {"2018-08": 500, "2019-08": 649},  # base points: two years
    }
    status, error = api("GET", "/backoffice/reports/liability?date=10-09-2017", auth(*BO))
    assert (status, error["code"]) == (400, "INVALID_REQUEST")
