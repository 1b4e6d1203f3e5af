"""Payout batches not paid on their date (issue 16): the trade-in night's last unit counts them in
`PayoutBatchOverdue` and lists them in the run's failures until they are paid."""

from __future__ import annotations

import pytest

from chalicelib.observability import metrics
from chalicelib.tradein import payouts
from tests.integration.tradein.helpers import claim, other_address


def _approved(tradein, travel) -> str:
    number = tradein.claim_for("R-1", participant={"address": other_address(0)})
    tradein.upload(number)
    travel("2017-09-18T10:00")
    tradein.bo("POST", f"/backoffice/claims/{number}/device-received", {"received_on": "2017-09-18"})
    status, body = tradein.bo("POST", f"/backoffice/claims/{number}/inspection", {"outcome": "approved"})
    assert status == 200, body
    return number


@pytest.mark.rule("T11")
def test_a_batch_not_paid_on_its_date_raises_the_metric_until_it_is_paid(tradein, travel, run_job, monkeypatch):
    number = _approved(tradein, travel)
    travel("2017-09-19T02:00")
    scheduled = run_job("nightly_tradein", "2017-09-19")
    [batch] = scheduled["summary"]["payout_batches"]
    assert scheduled["summary"]["payout_batches_overdue"] == 0  # due tomorrow (2017-09-20)

    monkeypatch.setattr(payouts, "mark_paid", lambda today, now, failures: 0)  # the step paid nothing
    travel("2017-09-20T02:00")
    metrics.clear_metrics()
    late = run_job("nightly_tradein", "2017-09-20")
    assert late["summary"]["payout_batches_overdue"] == 1
    assert {"id": f"batch:{batch}", "reason": "PAYOUT_NOT_PAID_ON_DATE"} in late["failures"]
    assert late["status"] == "done"  # an item failure, not a failed unit
    assert metrics.serialize_metric_set()["PayoutBatchOverdue"] in (1.0, [1.0])
    metrics.clear_metrics()
    assert claim(number).status == "payout_scheduled"

    monkeypatch.undo()
    travel("2017-09-21T02:00")
    caught_up = run_job("nightly_tradein", "2017-09-21")
    assert (caught_up["summary"]["paid"], caught_up["summary"]["payout_batches_overdue"]) == (1, 0)
    assert claim(number).status == "paid"
