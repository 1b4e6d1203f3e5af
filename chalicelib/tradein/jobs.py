"""Nightly and S3-event work of the trade-in domain, called by the handlers that app.py declares."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any
from urllib.parse import unquote_plus

from chalicelib import clock
from chalicelib.observability import logger
from chalicelib.tradein import service


def run_nightly(today: date) -> dict[str, Any]:
    """Everything due on or before `today`: unfinished reviews and owed e-mails (T6),
    deadlines (T7, T8, T10), payments and payout batches (T11). Safe to rerun.
    Claims of returned laptops (T12) are voided by the return itself, or by the loyalty nightly's
    catch-up of returns with owed effects (`loyalty.service.complete_owed_return_effects`)."""
    now = clock.now()
    summary: dict[str, Any] = {
        "reviews_finished": service.finish_reviews(today, now),
        "emails_sent": service.send_owed_emails(now),
        "lapsed": service.lapse_overdue(today, now),
        "paid": service.mark_paid(today, now),
        "batches_settled": service.settle_batches(today),
    }
    summary["payout_batches"] = service.schedule_payouts(today, now)
    logger.info("nightly trade-in done", extra={"as_of": today.isoformat(), "lapsed": summary["lapsed"]})
    return summary


def on_proof_uploaded(event: dict[str, Any]) -> dict[str, Any]:
    """Check and attach uploaded proofs (T2, T13) for every record of an S3 notification."""
    outcomes: Counter[str] = Counter()
    for record in event.get("Records") or []:
        s3 = record.get("s3") or {}
        bucket = (s3.get("bucket") or {}).get("name", "")
        key = unquote_plus((s3.get("object") or {}).get("key", ""))
        outcomes[service.proof_uploaded(bucket, key, clock.now())] += 1
    return {"processed": sum(outcomes.values()), **outcomes}
