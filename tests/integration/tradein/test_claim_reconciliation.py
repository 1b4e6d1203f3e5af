"""The nightly claim reconciliation and the claims' part of the liability (issue 16): the units
`reconcile_claims:<n>` of the trade-in night check every claim written on the checked days against
its timeline, the state machine and its payout batch; a mismatch is a metric, a run failure and a
back-office list entry, never repaired. The liability's approved-unpaid claims follow the claims
night by night, equal to a brute-force sum over the table, and a rerun counts nothing twice."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.observability import metrics
from chalicelib.reconciliation import rules
from chalicelib.tradein import rules as tradein_rules
from chalicelib.tradein import store as tradein_store
from chalicelib.tradein.models import BATCH_SCOPE, ClaimModel, PayoutBatchModel, TimelineAttribute
from infra import alarms
from tests.integration.tradein.helpers import claim, other_address

BO = ("bo-ops", "backoffice")
UNPAID = ("approved", "revised", "payout_scheduled")


def _approved(tradein: Any, travel: Any, receipt_id: str, n: int, day: str = "2017-09-18") -> str:
    travel("2017-09-12T10:00")
    number = tradein.claim_for(receipt_id, participant={"address": other_address(n)})
    tradein.upload(number)
    travel(f"{day}T10:00")
    tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": day})
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "approved"})
    assert status == 200, body
    return number


def _brute_force() -> dict[str, int]:
    """What the liability must say: every approved-unpaid claim in the table (a scan, test only)."""
    owed = [int(c.reward_cents or 0) for c in ClaimModel.scan() if c.status in UNPAID]
    return {"approved_unpaid": len(owed), "value_cents": sum(owed)}


def _claims_part(api: Any, auth: Any, day: str) -> dict[str, int]:
    status, report = api("GET", f"/backoffice/reports/liability?date={day}", auth(*BO))
    assert status == 200, report
    return dict(report["claims"])


def _findings(api: Any, auth: Any, day: str) -> list[dict[str, Any]]:
    status, page = api("GET", f"/backoffice/reconciliation?date={day}", auth(*BO))
    assert status == 200
    return [{k: v for k, v in item.items() if k != "found_at"} for item in page["items"]]


def _behind_the_apps_back(number: str, status: str, with_entry: bool) -> None:
    """Change a claim's status directly in DynamoDB (no transition check, no touched_on change)."""
    actions = [ClaimModel.status.set(status)]
    if with_entry:
        entry = TimelineAttribute(at="2017-09-20T12:00:00+02:00", status=status, event="status")
        actions.append(ClaimModel.timeline.set(ClaimModel.timeline.append([entry])))
    ClaimModel(number).update(actions=actions)


@pytest.mark.rule("T11")
def test_claims_reconcile_and_their_liability_follows_the_nights_until_an_injected_mismatch_is_listed(
    tradein, api, auth, travel, run_job
):
    first = _approved(tradein, travel, "R-1", 0)
    second = _approved(tradein, travel, "R-2", 1)
    travel("2017-09-19T02:00")

    scheduled = run_job("nightly_tradein", "2017-09-19")  # both into one payout batch
    [batch_id] = scheduled["summary"]["payout_batches"]
    assert (scheduled["summary"]["claims_reconciled"], scheduled["summary"]["claim_mismatches"]) == (2, 0)
    owed = _claims_part(api, auth, "2017-09-19")
    assert owed == _brute_force() and owed["approved_unpaid"] == 2 and owed["value_cents"] > 0
    run_job("nightly_tradein", "2017-09-19")  # a rerun counts nothing twice
    assert _claims_part(api, auth, "2017-09-19") == owed

    third = _approved(tradein, travel, "R-3", 2, day="2017-09-19")  # approved the next day
    # The batch's total is edited behind the app's back: the night that pays it must say so.
    PayoutBatchModel(BATCH_SCOPE, batch_id).update(actions=[PayoutBatchModel.total_cents.add(100)])
    travel("2017-09-20T02:00")
    metrics.clear_metrics()

    paid = run_job("nightly_tradein", "2017-09-20")

    assert claim(first).status == claim(second).status == "paid"
    owed = _claims_part(api, auth, "2017-09-20")
    assert owed == _brute_force() and owed["approved_unpaid"] == 1  # the third claim, not yet in a batch
    # Each shard's unit that reads a claim of the batch checks the batch: counted once per such
    # unit (the claim numbers are random, so one or two), listed once.
    units = len({tradein_store.touched_shard(first), tradein_store.touched_shard(second)})
    assert paid["summary"]["claim_mismatches"] == units
    assert paid["failures"] == [{"id": f"batch:{batch_id}", "reason": "RECONCILIATION_MISMATCH: batch_amount"}] * units
    emf = metrics.serialize_metric_set()  # what the worker prints as EMF (the stage keeps it from printing)
    metrics.clear_metrics()
    assert emf["ReconciliationMismatch"] in (float(units), [float(units)], [1.0] * units)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == alarms.NAMESPACE
    total = int(PayoutBatchModel.get(BATCH_SCOPE, batch_id).total_cents)
    assert _findings(api, auth, "2017-09-20") == [
        {"batch_id": batch_id, "kind": "batch_amount", "expected": total - 100, "actual": total}
    ]

    # Two paid claims edited behind the app's back during the day: an illegal move in the
    # timeline, and a status its timeline does not end with.
    travel("2017-09-20T12:00")
    _behind_the_apps_back(first, "under_review", with_entry=True)
    _behind_the_apps_back(second, "approved", with_entry=False)
    travel("2017-09-21T02:00")

    night = run_job("nightly_tradein", "2017-09-21")

    assert night["status"] == "done"  # item failures, not a failed unit
    assert sorted(f["id"] + " " + f["reason"] for f in night["failures"]) == sorted(  # claim numbers are random
        [
            *[f"batch:{batch_id} RECONCILIATION_MISMATCH: batch_amount"] * units,
            f"claim:{first} RECONCILIATION_MISMATCH: claim_illegal_transition",
            f"claim:{second} RECONCILIATION_MISMATCH: claim_status_not_timeline",
        ]
    )
    found = _findings(api, auth, "2017-09-21")
    assert {
        "claim_number": first,
        "kind": "claim_illegal_transition",
        "expected": "paid",
        "actual": "under_review",
    } in (found)
    assert {"claim_number": second, "kind": "claim_status_not_timeline", "expected": "paid", "actual": "approved"} in (
        found
    )
    assert claim(first).status == "under_review"  # reported, never repaired
    # The liability follows the stored statuses (the approved one counts again), as a scan would.
    assert _claims_part(api, auth, "2017-09-21") == _brute_force()
    assert third not in {f.get("claim_number") for f in found}

    run_job("nightly_tradein", "2017-09-21")  # a rerun lists each finding once, counts nothing twice
    assert len(_findings(api, auth, "2017-09-21")) == 3
    assert _claims_part(api, auth, "2017-09-21") == _brute_force()


def test_claim_rules_name_every_disagreement():
    def view(status: str, *timeline: str, batch: str | None = None) -> rules.ClaimView:
        return rules.ClaimView("C-1", status, timeline, batch, 7500)

    check = tradein_rules.can_transition
    paid_batch = rules.BatchView("B-1", "paid", frozenset({"C-1"}), 7500)
    assert rules.claim_mismatches(view("paid", "awaiting_proof", "under_review", batch="B-1"), paid_batch, check) == [
        rules.ClaimMismatch("C-1", "claim_status_not_timeline", "under_review", "paid")
    ]
    assert rules.claim_mismatches(view("paid", "payout_scheduled", "paid"), None, check) == [
        rules.ClaimMismatch("C-1", "claim_not_in_batch", "", "", batch_id="")
    ]
    scheduled = view("payout_scheduled", "approved", "payout_scheduled", batch="B-1")
    assert rules.claim_mismatches(scheduled, paid_batch, check) == [
        rules.ClaimMismatch("C-1", "claim_batch_status", "scheduled", "paid", batch_id="B-1")
    ]
    other = rules.BatchView("B-1", "failed", frozenset({"C-2"}), 7500)
    assert rules.claim_mismatches(view("approved", "approved", batch="B-1"), other, check) == [
        rules.ClaimMismatch("C-1", "claim_not_in_batch", "B-1", "", batch_id="B-1")
    ]
    assert rules.claim_mismatches(view("awaiting_device", "awaiting_proof", "awaiting_device"), None, check) == [
        rules.ClaimMismatch("C-1", "claim_illegal_transition", "awaiting_proof", "awaiting_device")
    ]
    assert rules.batch_mismatch(paid_batch, {"C-1": 7500}) is None
    assert rules.batch_mismatch(paid_batch, {"C-1": 7000}) == rules.ClaimMismatch(
        None, "batch_amount", 7000, 7500, batch_id="B-1"
    )
    assert rules.batch_mismatch(other, {}) is None  # a failed batch pays nothing
