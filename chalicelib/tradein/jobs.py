"""Nightly and S3-event work of the trade-in domain, called by the handlers that app.py declares.

Neither stops for one bad item (API.md "Jobs"): each claim, batch or S3 record runs on its own;
a failure is logged with its id, counted (`NightlyItemFailed`) and listed in the answer's
`failures` as `{"id", "reason"}`, and what it owed stays owed for the next run.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any
from urllib.parse import unquote_plus

from chalicelib import clock
from chalicelib.observability import logger
from chalicelib.tradein import deadlines, payouts, proofs
from chalicelib.tradein.isolation import ItemFailures


def run_nightly(today: date) -> dict[str, Any]:
    """Everything due on or before `today`: unfinished reviews and owed e-mails (T6),
    deadlines (T7, T8, T10), payments and payout batches (T11). Safe to rerun.
    Claims of returned laptops (T12) are voided by the return itself, or by the loyalty nightly's
    catch-up of returns with owed effects (`chalicelib.flows.complete_owed_return_effects`)."""
    now = clock.now()
    failures = ItemFailures("nightly_tradein")
    summary: dict[str, Any] = {
        "reviews_finished": deadlines.finish_reviews(today, now, failures),
        "emails_sent": deadlines.send_owed_emails(now, failures),
    }
    summary["lapsed"] = deadlines.lapse_overdue(today, now, failures)
    summary["paid"] = payouts.mark_paid(today, now, failures)
    summary["batches_settled"] = payouts.settle_batches(today, failures)
    summary["payout_batches"] = payouts.schedule_payouts(today, now, failures)
    summary["failures"] = failures.items
    logger.info(
        "nightly trade-in done",
        extra={"as_of": today.isoformat(), "lapsed": summary["lapsed"], "failed": len(failures.items)},
    )
    return summary


def on_proof_uploaded(event: dict[str, Any]) -> dict[str, Any]:
    """Check and attach uploaded proofs (T2, T13) for every record of an S3 notification, each on
    its own: a record that fails is listed in `failures`; the claim's owed work (review, e-mail)
    is left for the nightly run, which finishes reviews and sends owed e-mails."""
    outcomes: Counter[str] = Counter()
    failures = ItemFailures("on_proof_uploaded")
    for record in event.get("Records") or []:
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name", "")
        key = unquote_plus((s3.get("object") or {}).get("key", ""))
        outcome = "failed"
        with failures.item("proof_uploaded", key):
            outcome = proofs.proof_uploaded(bucket, key, clock.now())
        outcomes[outcome] += 1
    answer: dict[str, Any] = {"processed": sum(outcomes.values()), **outcomes}
    if failures.items:
        answer["failures"] = failures.items
    return answer
