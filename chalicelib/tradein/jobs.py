"""Nightly and S3-event work of the trade-in domain: the nightly steps as units of the registry
(chalicelib.nightly), the proof upload called by the handler that app.py declares.

Neither stops for one bad item (API.md "Jobs"): each claim, batch or S3 record runs on its own;
a failure is logged with its id, counted (`NightlyItemFailed`) and listed in the answer's
`failures` as `{"id", "reason"}`, and what it owed stays owed for the next run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import unquote_plus

from chalicelib import clock
from chalicelib.observability import logger
from chalicelib.tradein import deadlines, payouts, proofs
from chalicelib.tradein.isolation import ItemFailures


def finish_reviews(today: date) -> dict[str, Any]:
    """T6: decide claims left under review, so their e-mail is not late."""
    return _step("finish_reviews", "reviews_finished", lambda f: deadlines.finish_reviews(today, clock.now(), f))


def send_owed_emails(today: date) -> dict[str, Any]:
    """T6-T13: the e-mails an interrupted run owed."""
    return _step("send_owed_emails", "emails_sent", lambda f: deadlines.send_owed_emails(clock.now(), f))


def lapse_overdue(today: date) -> dict[str, Any]:
    """T2, T7, T8, T10: claims past their deadline lapse."""
    return _step("lapse_overdue", "lapsed", lambda f: deadlines.lapse_overdue(today, clock.now(), f))


def mark_paid(today: date) -> dict[str, Any]:
    """T11: claims whose batch is executed are paid."""
    return _step("mark_paid", "paid", lambda f: payouts.mark_paid(today, clock.now(), f))


def settle_batches(today: date) -> dict[str, Any]:
    """T11: batches whose claims are all paid are settled."""
    return _step("settle_batches", "batches_settled", lambda f: payouts.settle_batches(today, f))


def schedule_payouts(today: date) -> dict[str, Any]:
    """T11: approved claims go into the next SEPA batch."""
    return _step("schedule_payouts", "payout_batches", lambda f: payouts.schedule_payouts(today, clock.now(), f))


def _step(step: str, key: str, call: Callable[[ItemFailures], Any]) -> dict[str, Any]:
    """One step as a unit (chalicelib.nightly): its result under `key`, the claims that failed
    under `failures` (each claim on its own: the rest is done)."""
    failures = ItemFailures("nightly_tradein")
    result = call(failures)
    summary: dict[str, Any] = {key: result}
    if failures.items:
        summary["failures"] = failures.items
        logger.info("nightly trade-in step done", extra={"step": step, "failed": len(failures.items)})
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
