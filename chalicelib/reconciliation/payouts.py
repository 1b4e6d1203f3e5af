"""Payout batches not paid on their date (issue 16): the last unit of the trade-in night.

It runs after `mark_paid` and `settle_batches`, which pay a batch's claims and settle the batch on
its execution date; a batch still `scheduled` on or after that date was not paid. It is counted in
`PayoutBatchOverdue` (alarm PayoutBatchOverdueAlarm) and listed in the run's failures, every night
until it is paid or reported failed (docs/runbook.md "A payout batch that failed"). It reads the
same due batches that `settle_batches` reads (the batches' sparse `due_index`): one Query, never a
scan, however many batches were paid before.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chalicelib.observability import MetricUnit, logger, metrics
from chalicelib.tradein import payout_store as tradein_payouts

METRIC = "PayoutBatchOverdue"
REASON = "PAYOUT_NOT_PAID_ON_DATE"


def overdue(batches: list[dict[str, Any]], as_of: date) -> list[dict[str, Any]]:
    """The batches still scheduled on or after their execution date."""
    return [b for b in batches if b["status"] == "scheduled" and date.fromisoformat(b["execution_date"]) <= as_of]


def check_payouts(as_of: date) -> dict[str, Any]:
    batches = list(tradein_payouts.due_batches(as_of))
    late = overdue(batches, as_of)
    summary: dict[str, Any] = {"payout_batches_overdue": len(late)}
    if late:
        metrics.add_metric(name=METRIC, unit=MetricUnit.Count, value=len(late))
        logger.error("payout batches not paid on their date", extra={"batches": [b["batch_id"] for b in late]})
        summary["failures"] = [{"id": f"batch:{b['batch_id']}", "reason": REASON} for b in late]
    return summary
